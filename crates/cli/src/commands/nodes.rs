//! `berth nodes`: the engine's machines, for administrators.

use anyhow::Result;
use serde_json::Value;

use super::show_list;
use crate::client::Client;
use crate::output::cell;

pub async fn nodes(client: &Client, json: bool) -> Result<()> {
    show_list(
        client,
        &["nodes"],
        json,
        [
            "NAME",
            "STATE",
            "AVAILABILITY",
            "ROLE",
            "ADDRESS",
            "TASKS",
            "LABELS",
        ],
        |node| {
            [
                cell(&node["name"]),
                cell(&node["state"]),
                cell(&node["availability"]),
                cell(&node["role"]),
                cell(&node["address"]),
                cell(&node["tasks"]),
                labels(&node["labels"]),
            ]
        },
    )
    .await
}

/// `key=value` pairs, comma-separated.
fn labels(labels: &Value) -> String {
    labels
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| format!("{k}={}", cell(v)))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}
