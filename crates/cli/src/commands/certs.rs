//! `berth certs`: list, add and remove the TLS certificates the router serves.

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;

use super::{delete_then_say, show_list};
use crate::client::Client;
use crate::output::{cell, report};

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// List your TLS certificates
    List,
    /// Add a certificate (PEM, chain after the leaf) and its private key (PEM)
    Add {
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
        /// The host name to file it under; by default the certificate's own
        #[arg(long)]
        common_name: Option<String>,
    },
    /// Remove a certificate by its common name
    Remove { common_name: String },
}

pub async fn certs(client: &Client, command: CertsCommand, json: bool) -> Result<()> {
    match command {
        CertsCommand::List => {
            show_list(client, &["certs"], json, ["COMMON NAME", "EXPIRES"], |c| {
                [cell(&c["common_name"]), cell(&c["expires"])]
            })
            .await?;
        }
        CertsCommand::Add {
            cert,
            key,
            common_name,
        } => {
            let read = |path: &std::path::Path| {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))
            };
            let mut body = json!({"certificate": read(&cert)?, "key": read(&key)?});
            if let Some(name) = &common_name {
                body["common_name"] = json!(name);
            }
            let reply = client.post(&["certs"], &body).await?;
            report(json, &reply.body, |c| {
                format!(
                    "added certificate {}",
                    c["common_name"].as_str().unwrap_or("?")
                )
            })?;
        }
        CertsCommand::Remove { common_name } => {
            let done = format!("removed certificate {common_name}");
            delete_then_say(client, &["certs", &common_name], json, done).await?;
        }
    }
    Ok(())
}
