//! Snapshots: list, create (the copy is taken then), get, update and
//! delete (their files: `super::volumes`).

use axum::Json;
use axum::extract::{Path, State};
use berth_core::pods::snapshots;
use utoipa::ToSchema;

use super::error::TapisResult;
use super::openapi::Refusals;
use super::views::{self, Envelope, SnapshotView, ok};
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

/// A new snapshot: a copy of a volume's folder, taken at once.
#[derive(ToSchema)]
#[schema(as = TapisNewSnapshot)]
#[allow(dead_code)]
pub struct NewSnapshot {
    snapshot_id: String,
    source_volume_id: String,
    /// The folder of the volume to copy.
    source_volume_path: String,
    destination_path: Option<String>,
    description: Option<String>,
    /// MB.
    size_limit: Option<i64>,
    /// Kept and shown as given.
    cron: Option<String>,
    retention_policy: Option<String>,
}

/// What a snapshot update may change; each is optional.
#[derive(ToSchema)]
#[schema(as = TapisSnapshotChange)]
#[allow(dead_code)]
pub struct SnapshotChange {
    description: Option<String>,
    size_limit: Option<i64>,
    cron: Option<String>,
    retention_policy: Option<String>,
}

/// The snapshots the caller may see.
#[utoipa::path(get, path = "/v3/pods/snapshots", tag = "tapis", operation_id = "tapis_snapshots_list",
    responses((status = 200, description = "The snapshots", body = Envelope<Vec<SnapshotView>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_snapshots(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Envelope<Vec<SnapshotView>>>> {
    let snapshots = s.berth.snapshots(&user).await?;
    Ok(ok(
        "Snapshots retrieved successfully.",
        snapshots.iter().map(views::snapshot).collect(),
    ))
}

/// Takes a snapshot of a volume's folder.
#[utoipa::path(post, path = "/v3/pods/snapshots", tag = "tapis", operation_id = "tapis_snapshots_create",
    request_body(content((NewSnapshot = "application/json"), (NewSnapshot = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The new snapshot", body = Envelope<SnapshotView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn create_snapshot(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Envelope<SnapshotView>>> {
    let f = body.fields()?;
    f.only(&NEW_SNAPSHOT)?;
    let text = |field: &str| -> TapisResult<String> {
        Ok(f.opt_str(field)?.unwrap_or_default().to_string())
    };
    let new = snapshots::NewSnapshot {
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

/// A snapshot.
#[utoipa::path(get, path = "/v3/pods/snapshots/{snapshot_id}", tag = "tapis", operation_id = "tapis_snapshot_get",
    params(("snapshot_id" = String, Path)),
    responses((status = 200, description = "The snapshot", body = Envelope<SnapshotView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_snapshot(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<SnapshotView>>> {
    let snapshot = s.berth.get_snapshot(&user, &id).await?;
    Ok(ok(
        "Snapshot retrieved successfully.",
        views::snapshot(&snapshot),
    ))
}

/// Changes a snapshot's description, size limit, cron or retention policy.
#[utoipa::path(put, path = "/v3/pods/snapshots/{snapshot_id}", tag = "tapis", operation_id = "tapis_snapshot_update",
    params(("snapshot_id" = String, Path)),
    request_body(content((SnapshotChange = "application/json"), (SnapshotChange = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The snapshot now", body = Envelope<SnapshotView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn update_snapshot(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Envelope<SnapshotView>>> {
    let f = body.fields()?;
    f.only(&SNAPSHOT_CHANGE)?;
    let text =
        |field: &str| -> TapisResult<Option<String>> { Ok(f.opt_str(field)?.map(str::to_string)) };
    let change = snapshots::SnapshotChange {
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

/// Deletes a snapshot and its files.
#[utoipa::path(delete, path = "/v3/pods/snapshots/{snapshot_id}", tag = "tapis", operation_id = "tapis_snapshot_delete",
    params(("snapshot_id" = String, Path)),
    responses((status = 200, description = "Deleted; `result` is an empty string", body = Envelope<String>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn delete_snapshot(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<String>>> {
    s.berth.delete_snapshot(&user, &id).await?;
    Ok(ok("Snapshot successfully deleted.", String::new()))
}
