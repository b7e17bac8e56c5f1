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
    let interrupted = tokio::signal::ctrl_c();
    let shown = each_event(client, &path, |data| {
        let line = if json { data } else { describe(&data) };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").and_then(|()| stdout.flush())
    });
    tokio::select! {
        _ = interrupted => Ok(()),
        shown = shown => shown,
    }
}

/// Reads the event stream at `path`, handing each event's data to `each`
/// until the stream ends. A reader that went away (`| head`) ends it
/// without a failure.
pub(crate) async fn each_event(
    client: &Client,
    path: &[&str],
    mut each: impl FnMut(String) -> std::io::Result<()>,
) -> Result<()> {
    let mut body = client.stream(path, &[]).await?.bytes_stream();
    let mut pending = String::new();
    while let Some(chunk) = body.next().await {
        pending.push_str(&String::from_utf8_lossy(
            &chunk.context("the event stream broke off")?,
        ));
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            let Some(data) = data_of(&event) else {
                continue;
            };
            if let Err(err) = each(data) {
                return output::ignore_broken_pipe(Err(err)).map_err(Into::into);
            }
        }
    }
    Ok(())
}

/// Awaits `work`, a call that waits for `app`'s instances, behind a spinner
/// on stderr that shows `message` and the state each instance last
/// reported on the app's event stream, so a deploy or a scale shows how far
/// it got. Nothing is drawn when stderr is not a terminal.
pub(crate) async fn with_progress<T>(
    client: &Client,
    app: &str,
    message: &'static str,
    work: impl Future<Output = T>,
) -> T {
    let Some(spinner) = output::spinner(message) else {
        return work.await;
    };
    let mut states: Vec<InstanceProgress> = Vec::new();
    let path = ["apps", app, "events"];
    let progress = each_event(client, &path, |data| {
        if let Some(reported) = instance_state(&data) {
            let same = |known: &&mut InstanceProgress| {
                known.instance == reported.instance && known.release == reported.release
            };
            match states.iter_mut().find(same) {
                Some(known) => known.state = reported.state,
                None => states.push(reported),
            }
            spinner.set_message(format!("{message} {}", progress_line(&states)));
        }
        Ok(())
    });
    let work = std::pin::pin!(work);
    let result = tokio::select! {
        result = work => result,
        // The stream ended or could not be opened: the spinner alone stays.
        _ = progress => std::future::pending().await,
    };
    spinner.finish_and_clear();
    result
}

/// The last state one instance of one release reported.
#[derive(Debug, PartialEq)]
struct InstanceProgress {
    instance: String,
    /// A rollout runs `web.1` of two releases at once.
    release: Option<i64>,
    state: String,
}

/// What an `instance` event says.
fn instance_state(data: &str) -> Option<InstanceProgress> {
    let change = serde_json::from_str::<Value>(data).ok()?;
    (change["type"] == "instance").then(|| InstanceProgress {
        instance: cell(&change["instance"]),
        release: change["release"].as_i64(),
        state: cell(&change["state"]),
    })
}

/// `1/2 up: web.1 up · web.2 starting · 3 destroyed`: the instances still
/// there in type and number order, then how many went.
fn progress_line(states: &[InstanceProgress]) -> String {
    const SHOWN: usize = 4;
    let (gone, mut live): (Vec<_>, Vec<_>) =
        states.iter().partition(|known| known.state == "destroyed");
    live.sort_by_key(|known| {
        let instance = known.instance.as_str();
        let (kind, num) = instance.rsplit_once('.').unwrap_or((instance, ""));
        (
            kind.to_string(),
            num.parse::<u64>().unwrap_or(u64::MAX),
            known.release,
        )
    });
    let up = live.iter().filter(|known| known.state == "up").count();
    let mut parts: Vec<String> = live
        .iter()
        .take(SHOWN)
        .map(|known| format!("{} {}", known.instance, known.state))
        .collect();
    if live.len() > SHOWN {
        parts.push(format!("+{} more", live.len() - SHOWN));
    }
    if !gone.is_empty() {
        parts.push(format!("{} destroyed", gone.len()));
    }
    format!("{up}/{} up: {}", live.len(), parts.join(" · "))
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

    #[test]
    fn progress_shows_each_instances_latest_state_in_order() {
        let progress = |n: u32, release: i64, state: &str| InstanceProgress {
            instance: format!("web.{n}"),
            release: Some(release),
            state: state.to_string(),
        };
        let mut states: Vec<InstanceProgress> =
            (1..=8).rev().map(|n| progress(n, 3, "up")).collect();
        states[0].state = "starting".to_string();
        assert_eq!(progress_line(&states[6..]), "2/2 up: web.1 up · web.2 up");
        assert_eq!(
            progress_line(&states),
            "7/8 up: web.1 up · web.2 up · web.3 up · web.4 up · +4 more"
        );
        states[1].state = "destroyed".to_string();
        assert_eq!(
            progress_line(&states[..3]),
            "1/2 up: web.6 up · web.8 starting · 1 destroyed"
        );
        // A rollout: web.1 of v4 is up while web.1 of v3 goes.
        let rollout = [progress(1, 4, "up"), progress(1, 3, "destroyed")];
        assert_eq!(progress_line(&rollout), "1/1 up: web.1 up · 1 destroyed");
        let event =
            r#"{"type":"instance","app":"a","instance":"web.3","release":4,"state":"starting"}"#;
        assert_eq!(instance_state(event), Some(progress(3, 4, "starting")));
        assert_eq!(instance_state(r#"{"type":"scaled"}"#), None);
    }
}
