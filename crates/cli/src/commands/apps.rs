//! `berth apps`: create, list, inspect and destroy apps.

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use super::{delete_then_say, lines, processes, results, show_list};
use crate::client::Client;
use crate::output::{cell, fields, report};

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Create an app; the server picks a name if you give none
    Create { id: Option<String> },
    /// List the apps you own or were granted
    List,
    /// Show an app with its processes and domains
    Info { app: String },
    /// Destroy an app and everything in it
    Destroy { app: String },
}

pub async fn apps(client: &Client, command: AppsCommand, json: bool) -> Result<()> {
    match command {
        AppsCommand::Create { id } => {
            let body = id.map_or_else(|| json!({}), |id| json!({"id": id}));
            let app = client.post(&["apps"], &body).await?.body;
            report(json, &app, |app| format!("created {}", cell(&app["id"])))?;
        }
        AppsCommand::List => {
            show_list(client, &["apps"], json, ["ID", "OWNER", "CREATED"], |app| {
                [cell(&app["id"]), cell(&app["owner"]), cell(&app["created"])]
            })
            .await?;
        }
        AppsCommand::Info { app } => {
            let (app_path, containers_path, domains_path) = (
                ["apps", app.as_str()],
                ["apps", app.as_str(), "containers"],
                ["apps", app.as_str(), "domains"],
            );
            let (info, containers, domains) = futures::try_join!(
                client.get(&app_path),
                client.get_all(&containers_path),
                client.get_all(&domains_path),
            )?;
            report(json, &info, |info| {
                let domain_list: Vec<_> = results(&domains)
                    .iter()
                    .map(|domain| cell(&domain["domain"]))
                    .collect();
                format!(
                    "{}\n=== processes\n{}\n=== domains\n{}",
                    fields(info),
                    processes(results(&containers)),
                    lines(&domain_list),
                )
            })?;
        }
        AppsCommand::Destroy { app } => {
            delete_then_say(client, &["apps", &app], json, format!("destroyed {app}")).await?;
        }
    }
    Ok(())
}
