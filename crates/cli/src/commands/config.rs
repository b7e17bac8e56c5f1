//! `berth config`: show, set and unset an app's environment variables.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::events::with_progress;
use super::{release_suffix, string_map};
use crate::args::parse_key_value;
use crate::client::Client;
use crate::output::{cell, report, table};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show an app's environment variables
    List { app: String },
    /// Set environment variables; this creates a release
    Set {
        app: String,
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = parse_key_value)]
        values: Vec<(String, String)>,
    },
    /// Remove environment variables; this creates a release
    Unset {
        app: String,
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
}

pub async fn config_vars(client: &Client, command: ConfigCommand, json: bool) -> Result<()> {
    let (app, changes) = match command {
        ConfigCommand::List { app } => {
            let config = client.get(&["apps", &app, "config"]).await?;
            report(json, &config, |config| config_table(&config["values"]))?;
            return Ok(());
        }
        ConfigCommand::Set { app, values } => (app, string_map(values)),
        ConfigCommand::Unset { app, keys } => (
            app,
            Value::Object(keys.into_iter().map(|key| (key, Value::Null)).collect()),
        ),
    };
    let body = json!({"values": changes});
    let reply = with_progress(
        client,
        &app,
        "updating config…",
        client.post(&["apps", &app, "config"], &body),
    )
    .await?;
    report(json, &reply.body, |config| {
        format!(
            "{app}: config updated{}\n{}",
            release_suffix(&reply),
            config_table(&config["values"])
        )
    })?;
    Ok(())
}

fn config_table(values: &Value) -> String {
    let rows = values
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| [key.clone(), cell(value)]);
    table(Some(["KEY", "VALUE"]), rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_table_is_sorted_by_key() {
        let values = json!({"B": "2", "A": "1"});
        assert_eq!(config_table(&values), "KEY  VALUE\nA    1\nB    2\n");
    }
}
