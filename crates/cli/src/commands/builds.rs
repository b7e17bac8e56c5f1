//! `berth builds`: deploy an image as a new release, and list an app's builds.

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use super::events::with_progress;
use super::{release_suffix, show_list, string_map};
use crate::args::parse_key_value;
use crate::client::Client;
use crate::output::{cell, report};

#[derive(Debug, Subcommand)]
pub enum BuildsCommand {
    /// Deploy an image as a new release
    Create {
        app: String,
        image: String,
        /// A process type and its command, e.g. --procfile 'web=sleep 3600'; repeatable
        #[arg(long = "procfile", value_name = "TYPE=COMMAND", value_parser = parse_key_value)]
        procfile: Vec<(String, String)>,
    },
    /// List an app's builds
    List { app: String },
}

pub async fn builds(client: &Client, command: BuildsCommand, json: bool) -> Result<()> {
    match command {
        BuildsCommand::Create {
            app,
            image,
            procfile,
        } => {
            let mut body = json!({"image": image});
            if !procfile.is_empty() {
                body["procfile"] = string_map(procfile);
            }
            let reply = with_progress(
                client,
                &app,
                "deploying…",
                client.post(&["apps", &app, "builds"], &body),
            )
            .await?;
            report(json, &reply.body, |_| {
                format!("{app}: deployed {image}{}", release_suffix(&reply))
            })?;
        }
        BuildsCommand::List { app } => {
            let path = ["apps", app.as_str(), "builds"];
            show_list(client, &path, json, ["UUID", "CREATED", "IMAGE"], |build| {
                [
                    cell(&build["uuid"]),
                    cell(&build["created"]),
                    cell(&build["image"]),
                ]
            })
            .await?;
        }
    }
    Ok(())
}
