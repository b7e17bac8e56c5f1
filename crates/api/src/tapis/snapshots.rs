//! Snapshots: list, create (the copy is taken then), get, update and
//! delete (their files: `super::volumes`).

use axum::Json;
use axum::extract::{Path, State};
use berth_core::pods::snapshots::{NewSnapshot, SnapshotChange};
use serde_json::{Value, json};

use super::error::TapisResult;
use super::views::{self, ok};
use super::{Body, Caller};
use crate::AppState;

const NEW_SNAPSHOT: [&str; 8] = [
    "snapshot_id",
    "source_volume_id",
    "source_volume_path",
    "destination_path",
    "description",
    "size_limit",
    "cron",
    "retention_policy",
];
const SNAPSHOT_CHANGE: [&str; 4] = ["description", "size_limit", "cron", "retention_policy"];

pub async fn list_snapshots(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Value>> {
    let snapshots = s.berth.snapshots(&user).await?;
    Ok(ok(
        "Snapshots retrieved successfully.",
        Value::Array(snapshots.iter().map(views::snapshot).collect()),
    ))
}

pub async fn create_snapshot(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Value>> {
    let f = body.fields()?;
    f.only(&NEW_SNAPSHOT)?;
    let text = |field: &str| -> TapisResult<String> {
        Ok(f.opt_str(field)?.unwrap_or_default().to_string())
    };
    let new = NewSnapshot {
        snapshot_id: f.str("snapshot_id")?.to_string(),
        source_volume_id: f.str("source_volume_id")?.to_string(),
        source_volume_path: f.str("source_volume_path")?.to_string(),
        destination_path: text("destination_path")?,
        description: text("description")?,
        size_limit: f.opt_int("size_limit")?,
        cron: text("cron")?,
        retention_policy: text("retention_policy")?,
    };
    let snapshot = s.berth.create_snapshot(&user, new).await?;
    Ok(ok(
        "Snapshot created successfully.",
        views::snapshot(&snapshot),
    ))
}

pub async fn get_snapshot(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let snapshot = s.berth.get_snapshot(&user, &id).await?;
    Ok(ok(
        "Snapshot retrieved successfully.",
        views::snapshot(&snapshot),
    ))
}

pub async fn update_snapshot(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Value>> {
    let f = body.fields()?;
    f.only(&SNAPSHOT_CHANGE)?;
    let text =
        |field: &str| -> TapisResult<Option<String>> { Ok(f.opt_str(field)?.map(str::to_string)) };
    let change = SnapshotChange {
        description: text("description")?,
        size_limit: f.opt_int("size_limit")?,
        cron: text("cron")?,
        retention_policy: text("retention_policy")?,
    };
    let snapshot = s.berth.update_snapshot(&user, &id, change).await?;
    Ok(ok(
        "Snapshot updated successfully.",
        views::snapshot(&snapshot),
    ))
}

pub async fn delete_snapshot(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    s.berth.delete_snapshot(&user, &id).await?;
    Ok(ok("Snapshot successfully deleted.", json!("")))
}
