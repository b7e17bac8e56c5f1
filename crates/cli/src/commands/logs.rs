//! `berth logs`: an app's recent log lines, or a live stream of them with `--follow`.

use std::io::Write;

use anyhow::{Context, Result};
use futures::StreamExt;

use crate::client::Client;
use crate::output::{self, cell, report};

pub async fn logs(
    client: &Client,
    app: &str,
    lines: Option<u32>,
    follow: bool,
    json: bool,
) -> Result<()> {
    let lines = lines.map(|n| n.to_string());
    let mut query = Vec::new();
    if follow {
        query.push(("follow", "true"));
    }
    query.extend(lines.as_deref().map(|n| ("log_lines", n)));
    let path = ["apps", app, "logs"];

    if !follow {
        let text = client.get_with_query(&path, &query).await?;
        report(json, &text, cell)?;
        return Ok(());
    }

    let mut body = client.stream(&path, &query).await?.bytes_stream();
    // One listener for the whole stream, so a Ctrl-C that lands mid-write is not missed.
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let chunk = tokio::select! {
            _ = &mut interrupted => return Ok(()),
            chunk = body.next() => chunk,
        };
        let Some(chunk) = chunk else { return Ok(()) };
        let chunk = chunk.context("the log stream broke off")?;
        // Write raw bytes as they come: a line split across chunks reassembles on screen.
        let mut stdout = std::io::stdout().lock();
        let written = stdout.write_all(&chunk).and_then(|()| stdout.flush());
        if let Err(err) = written {
            // The reader went away (`| head`): that ends following, it is not a failure.
            return output::ignore_broken_pipe(Err(err)).map_err(Into::into);
        }
    }
}
