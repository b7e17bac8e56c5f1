//! Who may do what: `berth perms` (users granted an app, and administrators) and
//! `berth keys` (your SSH public keys).

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde_json::json;

use super::{delete_then_say, lines, post_then_say, show_list};
use crate::client::Client;
use crate::output::{abbreviate, cell, report};

#[derive(Debug, Subcommand)]
pub enum PermsCommand {
    /// List the users granted access to an app
    List { app: String },
    /// Grant a user access to an app
    Add { app: String, username: String },
    /// Revoke a user's access to an app
    Remove { app: String, username: String },
    /// Manage administrators
    #[command(subcommand)]
    Admin(AdminPermsCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminPermsCommand {
    /// List users and whether each is an administrator
    List,
    /// Make a user an administrator
    Add { username: String },
    /// Take away a user's administrator rights
    Remove { username: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List your SSH public keys
    List,
    /// Add an SSH public key, given as a file (e.g. ~/.ssh/id_ed25519.pub) or as the key itself
    Add {
        id: String,
        #[arg(value_name = "PATH_OR_KEY")]
        key: String,
    },
    /// Remove an SSH public key
    Remove { id: String },
}

pub async fn perms(client: &Client, command: PermsCommand, json: bool) -> Result<()> {
    match command {
        PermsCommand::List { app } => {
            let perms = client.get(&["apps", &app, "perms"]).await?;
            report(json, &perms, |perms| {
                let users = perms["users"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                lines(&users.iter().map(cell).collect::<Vec<_>>())
            })?;
        }
        PermsCommand::Add { app, username } => {
            let path = ["apps", app.as_str(), "perms"];
            let body = json!({"username": username});
            let done = format!("granted {username} access to {app}");
            post_then_say(client, &path, &body, json, done).await?;
        }
        PermsCommand::Remove { app, username } => {
            let path = ["apps", app.as_str(), "perms", username.as_str()];
            let done = format!("revoked {username}'s access to {app}");
            delete_then_say(client, &path, json, done).await?;
        }
        PermsCommand::Admin(AdminPermsCommand::List) => {
            let path = ["admin", "perms"];
            show_list(client, &path, json, ["USERNAME", "ADMIN"], |user| {
                let admin = user["is_superuser"].as_bool().unwrap_or(false);
                [
                    cell(&user["username"]),
                    if admin { "yes" } else { "no" }.to_owned(),
                ]
            })
            .await?;
        }
        PermsCommand::Admin(AdminPermsCommand::Add { username }) => {
            let body = json!({"username": username});
            let done = format!("{username} is now an administrator");
            post_then_say(client, &["admin", "perms"], &body, json, done).await?;
        }
        PermsCommand::Admin(AdminPermsCommand::Remove { username }) => {
            let path = ["admin", "perms", username.as_str()];
            let done = format!("{username} is no longer an administrator");
            delete_then_say(client, &path, json, done).await?;
        }
    }
    Ok(())
}

pub async fn keys(client: &Client, command: KeysCommand, json: bool) -> Result<()> {
    match command {
        KeysCommand::List => {
            show_list(client, &["keys"], json, ["ID", "KEY"], |key| {
                [cell(&key["id"]), abbreviate(&cell(&key["public"]), 60)]
            })
            .await?;
        }
        KeysCommand::Add { id, key } => {
            let public = read_public_key(&key)?;
            let body = json!({"id": id, "public": public});
            post_then_say(client, &["keys"], &body, json, format!("added key {id}")).await?;
        }
        KeysCommand::Remove { id } => {
            let done = format!("removed key {id}");
            delete_then_say(client, &["keys", &id], json, done).await?;
        }
    }
    Ok(())
}

/// A file's contents if `arg` names a file, else `arg` itself if it looks like a key
/// (`type base64 [comment]`).
fn read_public_key(arg: &str) -> Result<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let key = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(key.trim().to_owned());
    }
    let key = arg.trim();
    if !key.contains(char::is_whitespace) {
        bail!("{arg}: no such file, and not a public key");
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_from_literal_or_file() {
        assert_eq!(
            read_public_key(" ssh-ed25519 AAAA me@h \n").unwrap(),
            "ssh-ed25519 AAAA me@h"
        );
        assert!(read_public_key("/no/such/key.pub").is_err());

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("id.pub");
        std::fs::write(&file, "ssh-rsa AAAAB3 me@host\n").unwrap();
        assert_eq!(
            read_public_key(file.to_str().unwrap()).unwrap(),
            "ssh-rsa AAAAB3 me@host"
        );
    }
}
