//! One module per command group, each with its clap definition and its handler, plus the
//! helpers they share: the list, create and delete round trips, and the readings of Deis
//! replies (list pages, releases, processes) that several commands show.

pub mod access;
pub mod apps;
pub mod auth;
pub mod builds;
pub mod certs;
pub mod config;
pub mod domains;
pub mod events;
pub mod logs;
pub mod nodes;
pub mod ps;
pub mod releases;
pub mod run;

use anyhow::Result;
use serde_json::Value;

use crate::client::{Client, Reply};
use crate::output::{cell, report, table};

/// Fetches every page of the list at `path` and shows it as a table, one `row` per result.
async fn show_list<const N: usize>(
    client: &Client,
    path: &[&str],
    json: bool,
    header: [&str; N],
    row: impl Fn(&Value) -> [String; N],
) -> Result<()> {
    let page = client.get_all(path).await?;
    report(json, &page, |page| {
        table(Some(header), results(page).iter().map(row))
    })?;
    Ok(())
}

/// Posts `body` to `path`, then shows the server's reply as `done`.
async fn post_then_say(
    client: &Client,
    path: &[&str],
    body: &Value,
    json: bool,
    done: String,
) -> Result<()> {
    let reply = client.post(path, body).await?;
    report(json, &reply.body, |_| done)?;
    Ok(())
}

/// Deletes `path`, then says `done` (nothing in JSON mode: the reply is empty).
async fn delete_then_say(client: &Client, path: &[&str], json: bool, done: String) -> Result<()> {
    client.delete(path).await?;
    report(json, &Value::Null, |_| done)?;
    Ok(())
}

/// The `results` of a list page, or nothing if the reply is not one.
fn results(page: &Value) -> &[Value] {
    page["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn lines(items: &[String]) -> String {
    items.iter().map(|item| format!("{item}\n")).collect()
}

fn string_map(pairs: Vec<(String, String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(key, value)| (key, Value::String(value)))
            .collect(),
    )
}

/// `, now v5` from the `Deis-Release` header that config and build changes carry.
fn release_suffix(reply: &Reply) -> String {
    reply
        .header("Deis-Release")
        .map(|n| format!(", now v{n}"))
        .unwrap_or_default()
}

/// Containers as `web.1  up  (v4)` lines, ordered by type then number.
fn processes(containers: &[Value]) -> String {
    let mut sorted: Vec<&Value> = containers.iter().collect();
    sorted.sort_by_key(|container| (cell(&container["type"]), container["num"].as_u64()));
    let rows = sorted.iter().map(|container| {
        [
            format!("{}.{}", cell(&container["type"]), cell(&container["num"])),
            cell(&container["state"]),
            format!("({})", release_label(&container["release"])),
        ]
    });
    table(None, rows)
}

/// Releases are numbers in some replies and `"v4"` strings in others; show both as `v4`.
fn release_label(release: &Value) -> String {
    match release {
        Value::Number(n) => format!("v{n}"),
        Value::String(text) if text.starts_with('v') => text.clone(),
        Value::String(text) => format!("v{text}"),
        _ => "v?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn processes_read_like_deis_ps() {
        let containers = [
            json!({"type": "worker", "num": 1, "state": "up", "release": "v4"}),
            json!({"type": "web", "num": 10, "state": "crashed", "release": 4}),
            json!({"type": "web", "num": 2, "state": "up", "release": "4"}),
        ];
        assert_eq!(
            processes(&containers),
            "web.2     up       (v4)\nweb.10    crashed  (v4)\nworker.1  up       (v4)\n"
        );
    }
}
