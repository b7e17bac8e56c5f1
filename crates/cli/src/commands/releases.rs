//! `berth releases`: list, inspect and roll back an app's releases.

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use super::events::with_progress;
use super::{release_label, show_list};
use crate::args::parse_version;
use crate::client::Client;
use crate::output::{cell, fields, report};

#[derive(Debug, Subcommand)]
pub enum ReleasesCommand {
    /// List an app's releases, newest first
    List { app: String },
    /// Show one release
    Info {
        app: String,
        #[arg(value_name = "vN", value_parser = parse_version)]
        version: u64,
    },
    /// Create a new release from an earlier one (by default, the one before the current)
    Rollback {
        app: String,
        #[arg(value_name = "vN", value_parser = parse_version)]
        version: Option<u64>,
    },
}

pub async fn releases(client: &Client, command: ReleasesCommand, json: bool) -> Result<()> {
    match command {
        ReleasesCommand::List { app } => {
            let path = ["apps", app.as_str(), "releases"];
            let header = ["VERSION", "CREATED", "SUMMARY"];
            show_list(client, &path, json, header, |release| {
                [
                    release_label(&release["version"]),
                    cell(&release["created"]),
                    cell(&release["summary"]),
                ]
            })
            .await?;
        }
        ReleasesCommand::Info { app, version } => {
            let release = client
                .get(&["apps", &app, "releases", &format!("v{version}")])
                .await?;
            report(json, &release, fields)?;
        }
        ReleasesCommand::Rollback { app, version } => {
            let body = version.map_or_else(|| json!({}), |version| json!({"version": version}));
            let path = ["apps", app.as_str(), "releases", "rollback"];
            let reply =
                with_progress(client, &app, "rolling back…", client.post(&path, &body)).await?;
            report(json, &reply.body, |created| {
                let from = version.map_or("the previous release".to_owned(), |v| format!("v{v}"));
                format!(
                    "{app}: rolled back to {from}, now {}",
                    release_label(&created["version"])
                )
            })?;
        }
    }
    Ok(())
}
