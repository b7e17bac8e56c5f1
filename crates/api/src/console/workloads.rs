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
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ConsoleResult;
use super::openapi::{
    BadRequest, Conflict, CsrfToken, File, Forbidden, NotFound, Unauthorized, Unavailable,
};
use super::views::{self, AppView, ImageRepoView, JobView, NodeView, PageOf, UserView};
use super::{Body, Caller, PathOf, Query};
use crate::AppState;

/// Catalog images per page (one of the sizes the catalog allows).
const IMAGES_PAGE: i64 = 100;

/// A file to write into a pod.
#[derive(ToSchema)]
#[schema(as = console::Upload)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Upload {
    /// The folder in the pod.
    dest: String,
    /// The file's name.
    name: String,
    /// Its bytes, in base64.
    #[schema(format = Byte)]
    content: String,
}

/// Where an uploaded file was written.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Uploaded)]
pub struct Uploaded {
    pub path: String,
}

/// A script job to run.
#[derive(ToSchema)]
#[schema(as = console::NewJob)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct NewJob {
    /// The script's text.
    script: String,
    /// The script's name.
    name: Option<String>,
    /// The image to run it in (the default one unless given).
    image: Option<String>,
    /// The image's tag.
    tag: Option<String>,
}

/// A job submitted.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Submitted)]
pub struct Submitted {
    /// Its container's id, once it has one.
    pub container: Option<String>,
    #[schema(value_type = String)]
    pub id: Uuid,
}

/// Whether a job was stopped, and why not.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::JobStopped)]
pub struct JobStopped {
    /// Why it was not stopped; null when it was.
    pub reason: Option<String>,
    pub stopped: bool,
}

/// The caller's Tapis pods, as apps.
#[utoipa::path(get, path = "/ui/api/pods", tag = "console",
    operation_id = "console_pods_list",
    responses(
        (status = 200, description = "Its pods", body = Vec<AppView>),
        Unauthorized,
    ),
    security(("consoleSession" = [])))]
pub async fn pods(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> ConsoleResult<Json<Vec<AppView>>> {
    let pods = s.berth.pods(&user).await?;
    Ok(Json(pods.iter().map(views::app).collect()))
}

/// Start a pod.
#[utoipa::path(post, path = "/ui/api/pods/{id}/start", tag = "console",
    operation_id = "console_pods_start",
    params(("id" = String, Path, description = "The pod's id"), CsrfToken),
    responses(
        (status = 200, description = "The pod", body = AppView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn start_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<AppView>> {
    let pod = s.berth.start_pod(&user, path.text("id")).await?;
    Ok(Json(views::app(&pod)))
}

/// Stop a pod.
#[utoipa::path(post, path = "/ui/api/pods/{id}/stop", tag = "console",
    operation_id = "console_pods_stop",
    params(("id" = String, Path, description = "The pod's id"), CsrfToken),
    responses(
        (status = 200, description = "The pod", body = AppView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn stop_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<AppView>> {
    let pod = s.berth.stop_pod(&user, path.text("id")).await?;
    Ok(Json(views::app(&pod)))
}

/// Download a file of a running pod (a folder as tar), as an attachment.
#[utoipa::path(get, path = "/ui/api/pods/{id}/files", tag = "console",
    operation_id = "console_pods_file_download",
    params(("id" = String, Path, description = "The pod's id"), ("path" = String, Query, description = "The file or folder in the pod")),
    responses(
        (status = 200, description = "The file, or the folder as tar",
            content(
                (File = "application/octet-stream"),
                (File = "application/x-tar"),
            ),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"…\"`"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
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

/// Upload a file (its bytes in base64) into a running pod.
#[utoipa::path(post, path = "/ui/api/pods/{id}/files", tag = "console",
    operation_id = "console_pods_file_upload",
    params(("id" = String, Path, description = "The pod's id"), CsrfToken),
    request_body = Upload,
    responses(
        (status = 201, description = "Where it was written", body = Uploaded),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn upload_file(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<(StatusCode, Json<Uploaded>)> {
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
    Ok((StatusCode::CREATED, Json(Uploaded { path: written })))
}

/// The caller's NDS script jobs.
#[utoipa::path(get, path = "/ui/api/jobs", tag = "console",
    operation_id = "console_jobs_list",
    responses(
        (status = 200, description = "Its jobs", body = Vec<JobView>),
        Unauthorized, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn jobs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> ConsoleResult<Json<Vec<JobView>>> {
    let jobs = s.berth.script_jobs(&user).await?;
    Ok(Json(jobs.iter().map(views::job).collect()))
}

/// Submit a script job (an NDS job).
#[utoipa::path(post, path = "/ui/api/jobs", tag = "console",
    operation_id = "console_jobs_submit",
    params(CsrfToken),
    request_body = NewJob,
    responses(
        (status = 201, description = "The new job", body = Submitted),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn submit_job(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> ConsoleResult<(StatusCode, Json<Submitted>)> {
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
        Json(Submitted {
            container: job.container_id,
            id: job.job.uuid,
        }),
    ))
}

/// Stop a running job.
#[utoipa::path(post, path = "/ui/api/jobs/{container}/stop", tag = "console",
    operation_id = "console_jobs_stop",
    params(("container" = String, Path, description = "The job's container id"), CsrfToken),
    responses(
        (status = 200, description = "Whether it was stopped, and why not", body = JobStopped),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn stop_job(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<JobStopped>> {
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
    Ok(Json(JobStopped {
        reason: why,
        stopped,
    }))
}

/// A page of the catalog images the caller may see.
#[utoipa::path(get, path = "/ui/api/images", tag = "console",
    operation_id = "console_images_list",
    params(("page" = Option<i64>, Query, description = "From 1; 100 images a page")),
    responses(
        (status = 200, description = "A page of images", body = PageOf<ImageRepoView>),
        BadRequest, Unauthorized,
    ),
    security(("consoleSession" = [])))]
pub async fn images(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    query: Query,
) -> ConsoleResult<Json<PageOf<ImageRepoView>>> {
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

/// Every user (administrators only).
#[utoipa::path(get, path = "/ui/api/users", tag = "console",
    operation_id = "console_users_list",
    responses(
        (status = 200, description = "Every user", body = Vec<UserView>),
        Unauthorized, Forbidden,
    ),
    security(("consoleSession" = [])))]
pub async fn users(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> ConsoleResult<Json<Vec<UserView>>> {
    let users = s.berth.users(&user).await?;
    Ok(Json(users.iter().map(views::user).collect()))
}

/// The engine's nodes (administrators only).
#[utoipa::path(get, path = "/ui/api/nodes", tag = "console",
    operation_id = "console_nodes_list",
    responses(
        (status = 200, description = "The nodes", body = Vec<NodeView>),
        Unauthorized, Forbidden, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn nodes(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> ConsoleResult<Json<Vec<NodeView>>> {
    let nodes = s.berth.nodes(&user).await?;
    Ok(Json(nodes.iter().map(views::node).collect()))
}
