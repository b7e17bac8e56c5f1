//! `berth domains`: list, add and remove the domains routed to an app.

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use super::{delete_then_say, post_then_say, show_list};
use crate::client::Client;
use crate::output::cell;

#[derive(Debug, Subcommand)]
pub enum DomainsCommand {
    /// List an app's domains
    List { app: String },
    /// Route a domain to an app
    Add { app: String, domain: String },
    /// Stop routing a domain to an app
    Remove { app: String, domain: String },
}

pub async fn domains(client: &Client, command: DomainsCommand, json: bool) -> Result<()> {
    match command {
        DomainsCommand::List { app } => {
            let path = ["apps", app.as_str(), "domains"];
            show_list(client, &path, json, ["DOMAIN"], |domain| {
                [cell(&domain["domain"])]
            })
            .await?;
        }
        DomainsCommand::Add { app, domain } => {
            let path = ["apps", app.as_str(), "domains"];
            let body = json!({"domain": domain});
            let done = format!("added {domain} to {app}");
            post_then_say(client, &path, &body, json, done).await?;
        }
        DomainsCommand::Remove { app, domain } => {
            let path = ["apps", app.as_str(), "domains", domain.as_str()];
            let done = format!("removed {domain} from {app}");
            delete_then_say(client, &path, json, done).await?;
        }
    }
    Ok(())
}
