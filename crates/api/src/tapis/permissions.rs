//! The permission routes of pods, templates, volumes and snapshots: one
//! set of handlers, given the kind of object by a marker type, each kind
//! answering in its own words.

use axum::Json;
use axum::extract::{Path, State};
use berth_core::pods::permissions::SharedKind;
use serde_json::Value;

use super::error::TapisResult;
use super::views::{self, ok};
use super::{Body, Caller};
use crate::AppState;

/// A kind of shared object and the messages its permission routes answer with.
pub trait Shared {
    const KIND: SharedKind;
    const LISTED: &'static str;
    const UPDATED: &'static str;
    const DELETED: &'static str;
}

pub struct Pods;
pub struct Templates;
pub struct Volumes;
pub struct Snapshots;

impl Shared for Pods {
    const KIND: SharedKind = SharedKind::Pod;
    const LISTED: &'static str = "Pod permissions retrieved successfully.";
    const UPDATED: &'static str = "Pod permissions updated successfully.";
    const DELETED: &'static str = "Pod permission deleted successfully.";
}

impl Shared for Templates {
    const KIND: SharedKind = SharedKind::Template;
    const LISTED: &'static str = "Template permissions.";
    const UPDATED: &'static str = "Template permissions.";
    const DELETED: &'static str = "Template permissions.";
}

impl Shared for Volumes {
    const KIND: SharedKind = SharedKind::Volume;
    const LISTED: &'static str = "Volume permissions retrieved successfully.";
    const UPDATED: &'static str = "Volume permissions updated successfully.";
    const DELETED: &'static str = "Volume permission deleted successfully.";
}

impl Shared for Snapshots {
    const KIND: SharedKind = SharedKind::Snapshot;
    const LISTED: &'static str = "Snapshot permissions retrieved successfully.";
    const UPDATED: &'static str = "Snapshot permissions updated successfully.";
    const DELETED: &'static str = "Snapshot permission deleted successfully.";
}

pub async fn get_permissions<K: Shared>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let perms = s.berth.permissions(K::KIND, &user, &id).await?;
    Ok(ok(K::LISTED, views::permissions(&perms)))
}

pub async fn set_permission<K: Shared>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Value>> {
    let perms = s
        .berth
        .set_permission(K::KIND, &user, &id, body.str("user")?, body.str("level")?)
        .await?;
    Ok(ok(K::UPDATED, views::permissions(&perms)))
}

pub async fn delete_permission<K: Shared>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, who)): Path<(String, String)>,
) -> TapisResult<Json<Value>> {
    let perms = s.berth.delete_permission(K::KIND, &user, &id, &who).await?;
    Ok(ok(K::DELETED, views::permissions(&perms)))
}
