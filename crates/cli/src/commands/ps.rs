//! `berth ps` and `berth scale`: list an app's processes, restart them, and set how many of
//! each type run.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::events::with_progress;
use super::{processes, results};
use crate::args::{ProcessTarget, parse_process_target};
use crate::client::Client;
use crate::output::report;

/// `berth ps APP` lists; `berth ps restart APP [TYPE[.NUM]]` restarts.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct PsArgs {
    #[command(subcommand)]
    pub(crate) action: Option<PsCommand>,
    #[arg(required = true)]
    pub(crate) app: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PsCommand {
    /// List an app's processes
    List { app: String },
    /// Restart all of an app's processes, those of one type (web), or one process (web.2)
    Restart {
        app: String,
        #[arg(value_name = "TYPE[.NUM]", value_parser = parse_process_target)]
        target: Option<ProcessTarget>,
    },
}

impl PsArgs {
    /// The subcommand asked for; a bare `berth ps APP` means `list`.
    pub fn into_command(self) -> Result<PsCommand> {
        Ok(match (self.action, self.app) {
            (Some(action), _) => action,
            (None, Some(app)) => PsCommand::List { app },
            (None, None) => bail!("which app? usage: berth ps APP"),
        })
    }
}

pub async fn scale(
    client: &Client,
    app: &str,
    counts: Vec<(String, u32)>,
    json: bool,
) -> Result<()> {
    let body: Map<String, Value> = counts
        .into_iter()
        .map(|(kind, n)| (kind, n.into()))
        .collect();
    with_progress(
        client,
        app,
        "scaling…",
        client.post(&["apps", app, "scale"], &Value::Object(body)),
    )
    .await?;
    let page = client.get_all(&["apps", app, "containers"]).await?;
    report(json, &page, |page| processes(results(page)))?;
    Ok(())
}

pub async fn ps(client: &Client, command: PsCommand, json: bool) -> Result<()> {
    match command {
        PsCommand::List { app } => {
            let page = client.get_all(&["apps", &app, "containers"]).await?;
            report(json, &page, |page| processes(results(page)))?;
        }
        PsCommand::Restart { app, target } => {
            let num = target
                .as_ref()
                .and_then(|target| target.num)
                .map(|num| num.to_string());
            let mut path = vec!["apps", app.as_str(), "containers"];
            path.extend(target.as_ref().map(|target| target.kind.as_str()));
            path.extend(num.as_deref());
            path.push("restart");
            let reply =
                with_progress(client, &app, "restarting…", client.post(&path, &json!({}))).await?;
            report(json, &reply.body, |restarted| {
                processes(restarted.as_array().map(Vec::as_slice).unwrap_or_default())
            })?;
        }
    }
    Ok(())
}
