//! `berth events --follow`: the changes of the apps you may read (or of
//! one app), one line each as they happen, or each raw JSON with `--json`.

use std::io::Write;

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use serde_json::Value;

use crate::client::Client;
use crate::output::{self, cell};

pub async fn events(client: &Client, app: Option<&str>, follow: bool, json: bool) -> Result<()> {
    if !follow {
        bail!("events are only shown as they happen: add --follow");
    }
    let path: Vec<&str> = match app {
        Some(app) => vec!["apps", app, "events"],
        None => vec!["events"],
    };
    let mut body = client.stream(&path, &[]).await?.bytes_stream();
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    let mut pending = String::new();
    loop {
        let chunk = tokio::select! {
            _ = &mut interrupted => return Ok(()),
            chunk = body.next() => chunk,
        };
        let Some(chunk) = chunk else { return Ok(()) };
        pending.push_str(&String::from_utf8_lossy(
            &chunk.context("the event stream broke off")?,
        ));
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            let Some(data) = data_of(&event) else {
                continue;
            };
            let line = if json { data } else { describe(&data) };
            let mut stdout = std::io::stdout().lock();
            let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
            if let Err(err) = written {
                // The reader went away (`| head`): that ends following, it is not a failure.
                return output::ignore_broken_pipe(Err(err)).map_err(Into::into);
            }
        }
    }
}

/// The data of one server-sent event; none for a keep-alive comment.
fn data_of(event: &str) -> Option<String> {
    let lines: Vec<&str> = event
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| data.strip_prefix(' ').unwrap_or(data))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// One change as a line: when, which app, what happened.
fn describe(data: &str) -> String {
    let Ok(change) = serde_json::from_str::<Value>(data) else {
        return data.to_string();
    };
    let what = match change["type"].as_str().unwrap_or_default() {
        "app_created" => "created".to_string(),
        "app_destroyed" => "destroyed".to_string(),
        "release_created" => format!("release v{}", cell(&change["version"])),
        "scaled" => {
            let counts = change["structure"].as_object().into_iter().flatten();
            let counts: Vec<String> = counts.map(|(t, n)| format!("{t}={n}")).collect();
            format!("scaled {}", counts.join(" "))
        }
        "instance" => format!("{} {}", cell(&change["instance"]), cell(&change["state"])),
        other => other.to_string(),
    };
    format!("{}  {}  {what}", cell(&change["at"]), cell(&change["app"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_one_line_each_and_comments_are_skipped() {
        assert_eq!(data_of(":\n\n"), None);
        let event = "event: instance\ndata: {\"type\":\"instance\",\"app\":\"a\",\"at\":\"t\",\"instance\":\"web.1\",\"state\":\"up\"}\n\n";
        let data = data_of(event).expect("an event");
        assert_eq!(describe(&data), "t  a  web.1 up");
        let scaled = r#"{"type":"scaled","app":"a","at":"t","structure":{"web":2,"worker":1}}"#;
        assert_eq!(describe(scaled), "t  a  scaled web=2 worker=1");
    }
}
