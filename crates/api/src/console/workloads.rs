//! The other lists the console shows — pods, jobs, catalog images and, for
//! administrators, users and nodes — and their actions: start and stop a
//! pod, upload and download its files, submit and stop a job.

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use berth_core::CoreError;
use berth_core::catalog::RepoListQuery;
use berth_core::jobs::{NewScriptJob, StopOutcome};
use serde_json::{Value, json};

use super::error::ConsoleResult;
use super::{Body, Caller, PathOf, Query, views};
use crate::AppState;

/// Catalog images per page (one of the sizes the catalog allows).
const IMAGES_PAGE: i64 = 100;

pub async fn pods(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> ConsoleResult<Json<Value>> {
    let pods = s.berth.pods(&user).await?;
    Ok(Json(json!(pods.iter().map(views::app).collect::<Vec<_>>())))
}

pub async fn start_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let pod = s.berth.start_pod(&user, path.text("id")).await?;
    Ok(Json(views::app(&pod)))
}

pub async fn stop_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let pod = s.berth.stop_pod(&user, path.text("id")).await?;
    Ok(Json(views::app(&pod)))
}

/// `?path=` → the file, or a tar of the directory, as an attachment.
pub async fn download_file(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    query: Query,
) -> ConsoleResult<Response> {
    let file = query.required("path")?;
    let download = s.berth.download(&user, path.text("id"), file).await?;
    let (name, kind) = if download.directory {
        (format!("{}.tar", download.name), "application/x-tar")
    } else {
        (download.name, "application/octet-stream")
    };
    let mut res = HttpBody::from_stream(download.body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    let disposition = format!("attachment; filename=\"{}\"", name.replace(['"', '\\'], ""));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// `{"dest", "name", "content"}` (the bytes in base64) → where it was written.
pub async fn upload_file(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<(StatusCode, Json<Value>)> {
    let bytes = BASE64
        .decode(body.str("content")?)
        .map_err(|_| CoreError::invalid_field("content", "must be base64"))?;
    let written = s
        .berth
        .upload_file(
            &user,
            path.text("id"),
            body.str("dest")?,
            body.str("name")?,
            bytes,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "path": written }))))
}

pub async fn jobs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> ConsoleResult<Json<Value>> {
    let jobs = s.berth.script_jobs(&user).await?;
    Ok(Json(json!(jobs.iter().map(views::job).collect::<Vec<_>>())))
}

/// `{"script", "image"?, "tag"?}` → the new job's id, 201 (an NDS job).
pub async fn submit_job(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> ConsoleResult<(StatusCode, Json<Value>)> {
    let optional = |field: &str| -> Result<Option<String>, CoreError> {
        Ok(body
            .opt_str(field)?
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string))
    };
    let job = s
        .berth
        .submit_script_job(
            &user,
            NewScriptJob {
                script: body.str("script")?.as_bytes().to_vec(),
                script_name: optional("name")?,
                image_name: optional("image")?,
                image_tag: optional("tag")?,
                dataset: None,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": job.job.uuid, "container": job.container_id })),
    ))
}

pub async fn stop_job(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let outcome = s
        .berth
        .stop_script_job(&user, path.text("container"))
        .await?;
    let (stopped, why) = match outcome {
        StopOutcome::Stopped => (true, None),
        StopOutcome::AlreadyFinished(state) => (false, Some(format!("already {}", state.as_str()))),
        StopOutcome::Gone => (false, Some("its container is gone".to_string())),
        StopOutcome::Refused(reason) => (false, Some(reason)),
    };
    Ok(Json(json!({ "stopped": stopped, "reason": why })))
}

pub async fn images(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    query: Query,
) -> ConsoleResult<Json<Value>> {
    let page = query.int("page")?.unwrap_or(1);
    let repos = s
        .berth
        .list_image_repos(
            &user,
            &RepoListQuery {
                page,
                size: IMAGES_PAGE,
                kind: None,
                is_public: None,
                status: None,
            },
        )
        .await?;
    Ok(Json(views::page(
        repos,
        page,
        IMAGES_PAGE,
        views::image_repo,
    )))
}

pub async fn users(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> ConsoleResult<Json<Value>> {
    let users = s.berth.users(&user).await?;
    Ok(Json(json!(
        users.iter().map(views::user).collect::<Vec<_>>()
    )))
}

pub async fn nodes(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> ConsoleResult<Json<Value>> {
    let nodes = s.berth.nodes(&user).await?;
    Ok(Json(json!(
        nodes.iter().map(views::node).collect::<Vec<_>>()
    )))
}
