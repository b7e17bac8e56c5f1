//! Volumes: list, create, get, update, delete, their files (list,
//! contents, upload); the file list and contents routes serve snapshots too.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use berth_core::CoreError;
use berth_core::archive::Download;
use utoipa::ToSchema;

use super::error::TapisResult;
use super::files::attachment;
use super::kinds::Folder;
use super::openapi::Refusals;
use super::views::{self, Envelope, StoredFile, VolumeView, ok};
use super::{Body, Caller};
use crate::AppState;

/// The most one upload to a volume may send; it streams to disk, and the
/// volume's own `size_limit` holds it too.
pub const MAX_UPLOAD_BYTES: usize = 1 << 30;

const NEW_VOLUME: [&str; 3] = ["volume_id", "description", "size_limit"];
const VOLUME_CHANGE: [&str; 2] = ["description", "size_limit"];

/// A new volume.
#[derive(ToSchema)]
#[schema(as = TapisNewVolume)]
#[allow(dead_code)]
pub struct NewVolume {
    volume_id: String,
    description: Option<String>,
    /// MB the volume may hold.
    size_limit: Option<i64>,
}

/// What a volume update may change; each is optional.
#[derive(ToSchema)]
#[schema(as = TapisVolumeChange)]
#[allow(dead_code)]
pub struct VolumeChange {
    description: Option<String>,
    size_limit: Option<i64>,
}

/// A multipart upload of one file.
#[derive(ToSchema)]
#[schema(as = TapisVolumeUpload)]
#[allow(dead_code)]
pub struct VolumeUpload {
    /// The file's bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The files of a volume or snapshot, listed in the envelope.
pub async fn list_files<K: Folder>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<Vec<StoredFile>>>> {
    let entries = s.berth.folder_entries(K::FOLDER, &user, &id).await?;
    Ok(ok(
        "Files listed.",
        entries.iter().map(views::stored_file).collect(),
    ))
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

/// The volumes the caller may see.
#[utoipa::path(get, path = "/v3/pods/volumes", tag = "tapis", operation_id = "tapis_volumes_list",
    responses((status = 200, description = "The volumes", body = Envelope<Vec<VolumeView>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_volumes(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Envelope<Vec<VolumeView>>>> {
    let volumes = s.berth.volumes(&user).await?;
    Ok(ok(
        "Volumes retrieved successfully.",
        volumes.iter().map(views::volume).collect(),
    ))
}

/// Creates a volume.
#[utoipa::path(post, path = "/v3/pods/volumes", tag = "tapis", operation_id = "tapis_volumes_create",
    request_body(content((NewVolume = "application/json"), (NewVolume = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The new volume", body = Envelope<VolumeView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn create_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Envelope<VolumeView>>> {
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

/// A volume.
#[utoipa::path(get, path = "/v3/pods/volumes/{volume_id}", tag = "tapis", operation_id = "tapis_volume_get",
    params(("volume_id" = String, Path)),
    responses((status = 200, description = "The volume", body = Envelope<VolumeView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<VolumeView>>> {
    let v = s.berth.get_volume(&user, &id).await?;
    Ok(ok("Volume retrieved successfully.", views::volume(&v)))
}

/// Changes a volume's description or size limit.
#[utoipa::path(put, path = "/v3/pods/volumes/{volume_id}", tag = "tapis", operation_id = "tapis_volume_update",
    params(("volume_id" = String, Path)),
    request_body(content((VolumeChange = "application/json"), (VolumeChange = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The volume now", body = Envelope<VolumeView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn update_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Envelope<VolumeView>>> {
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

/// Deletes a volume and its files.
#[utoipa::path(delete, path = "/v3/pods/volumes/{volume_id}", tag = "tapis", operation_id = "tapis_volume_delete",
    params(("volume_id" = String, Path)),
    responses((status = 200, description = "Deleted; `result` is an empty string", body = Envelope<String>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn delete_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<String>>> {
    s.berth.delete_volume(&user, &id).await?;
    Ok(ok("Volume successfully deleted.", String::new()))
}

/// Uploads a file into a volume. Multipart `file`, written to disk as it
/// arrives (a body cut off drops what arrived), then put at `path` in the
/// volume.
#[utoipa::path(post, path = "/v3/pods/volumes/{volume_id}/upload/{path}", tag = "tapis", operation_id = "tapis_volume_upload",
    params(("volume_id" = String, Path), ("path" = String, Path, description = "Where in the volume")),
    request_body(content((VolumeUpload = "multipart/form-data"))),
    responses((status = 200, description = "Uploaded; `result` says how much went where", body = Envelope<String>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn upload_to_volume(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, path)): Path<(String, String)>,
    mut multipart: Multipart,
) -> TapisResult<Json<Envelope<String>>> {
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
        format!("uploaded {written} to volume {id}"),
    ))
}
