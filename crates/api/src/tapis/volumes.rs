//! Volumes: list, create, get, update, delete, their files (list,
//! contents, upload); the file list and contents routes serve snapshots too.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use berth_core::CoreError;
use berth_core::archive::Download;
use serde_json::{Value, json};

use super::error::TapisResult;
use super::files::attachment;
use super::kinds::Folder;
use super::views::{self, ok};
use super::{Body, Caller};
use crate::AppState;

/// The most one upload to a volume may send; it streams to disk, and the
/// volume's own `size_limit` holds it too.
pub const MAX_UPLOAD_BYTES: usize = 1 << 30;

const NEW_VOLUME: [&str; 3] = ["volume_id", "description", "size_limit"];
const VOLUME_CHANGE: [&str; 2] = ["description", "size_limit"];

/// The files of a volume or snapshot, listed in the envelope.
pub async fn list_files<K: Folder>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let entries = s.berth.folder_entries(K::FOLDER, &user, &id).await?;
    let result: Vec<Value> = entries.iter().map(views::stored_file).collect();
    Ok(ok("Files listed.", Value::Array(result)))
}

/// A file of a volume or snapshot as its bytes, or a directory as a tar
/// archive. `zip` (which Tapis offers for directories) is refused: Berth
/// writes tar only.
pub async fn get_contents<K: Folder>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, path)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Response> {
    let download = s
        .berth
        .folder_contents(K::FOLDER, &user, &id, &path)
        .await?;
    if let Some(zip) = q.get("zip")
        && crate::common::parse_flag("zip", zip)?
    {
        return Err(CoreError::invalid_field(
            "zip",
            "zip archives are not available; directories download as tar",
        )
        .into());
    }
    let (name, kind, bytes) = match download {
        Download::File { name, bytes } => (name, "application/octet-stream", bytes),
        Download::Directory { name, tar } => (format!("{name}.tar"), "application/x-tar", tar),
    };
    Ok(attachment(bytes, &name, kind))
}

pub async fn list_volumes(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Value>> {
    let volumes = s.berth.volumes(&user).await?;
    Ok(ok(
        "Volumes retrieved successfully.",
        Value::Array(volumes.iter().map(views::volume).collect()),
    ))
}

pub async fn create_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Value>> {
    let fields = body.fields()?;
    fields.only(&NEW_VOLUME)?;
    let v = s
        .berth
        .create_volume(
            &user,
            fields.str("volume_id")?,
            fields.opt_str("description")?.unwrap_or_default(),
            fields.opt_int("size_limit")?,
        )
        .await?;
    Ok(ok("Volume created successfully.", views::volume(&v)))
}

pub async fn get_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let v = s.berth.get_volume(&user, &id).await?;
    Ok(ok("Volume retrieved successfully.", views::volume(&v)))
}

pub async fn update_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Value>> {
    let fields = body.fields()?;
    fields.only(&VOLUME_CHANGE)?;
    let v = s
        .berth
        .update_volume(
            &user,
            &id,
            fields.opt_str("description")?,
            fields.opt_int("size_limit")?,
        )
        .await?;
    Ok(ok("Volume updated successfully.", views::volume(&v)))
}

pub async fn delete_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    s.berth.delete_volume(&user, &id).await?;
    Ok(ok("Volume successfully deleted.", json!("")))
}

/// Multipart `file`, written to disk as it arrives (a body cut off drops
/// what arrived), then put at `path` in the volume.
pub async fn upload_to_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, path)): Path<(String, String)>,
    mut multipart: Multipart,
) -> TapisResult<Json<Value>> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        CoreError::invalid(format!("malformed multipart body: {e}"))
    };
    let mut upload = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("file") && upload.is_none() {
            let mut spool = s.berth.begin_volume_upload(&user, &id, &path).await?;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                spool.write(&chunk).await?;
            }
            upload = Some(spool);
        }
    }
    let upload =
        upload.ok_or_else(|| CoreError::invalid_field("file", "This field is required."))?;
    let written = s.berth.finish_volume_upload(upload).await?;
    Ok(ok(
        "File uploaded successfully.",
        json!(format!("uploaded {written} to volume {id}")),
    ))
}
