//! Script jobs: submit, status, output, stop, info, diff, metrics, files, delete.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use berth_core::CoreError;
use berth_core::archive::Download;
use berth_core::jobs::NewScriptJob;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::NdsResult;
use super::openapi::{BadRequest, Conflict, File, Forbidden, NotFound, Unauthorized, Unavailable};
use super::views::{
    Change, Container, Deleted, InfoAnswer, Metrics, Status, Stdout, Stopped, Submitted,
};
use super::{Body, Caller, Params, views};
use crate::AppState;

/// A job's script as text, in a JSON or form body.
#[derive(ToSchema)]
#[schema(as = nds::ScriptText)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct ScriptText {
    /// The script to run.
    script: String,
    /// The script's file name.
    scriptname: Option<String>,
    image_name: Option<String>,
    image_tag: Option<String>,
    /// A data set the job reads.
    data: Option<String>,
}

/// A job's script as text or as an uploaded file (one of the two), in a
/// multipart form.
#[derive(ToSchema)]
#[schema(as = nds::ScriptUpload)]
#[expect(
    dead_code,
    reason = "describes the form parts the handler reads one by one"
)]
pub struct ScriptUpload {
    /// The script to run, as text.
    script: Option<String>,
    /// The script to run, as a file; its name names the script.
    #[schema(value_type = Option<String>, format = Binary)]
    file: Option<Vec<u8>>,
    /// The script's file name.
    scriptname: Option<String>,
    image_name: Option<String>,
    image_tag: Option<String>,
    /// A data set the job reads.
    data: Option<String>,
}

/// The fields of `POST /upload`, from a form, a multipart form or JSON.
#[derive(Default)]
struct UploadFields {
    script: Option<String>,
    /// An uploaded script file: its name as the client gave it, and its bytes.
    file: Option<(Option<String>, Vec<u8>)>,
    scriptname: Option<String>,
    image_name: Option<String>,
    image_tag: Option<String>,
    data: Option<String>,
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"))
}

async fn read_upload(req: Request) -> NdsResult<UploadFields> {
    let mut fields = UploadFields::default();
    if is_multipart(&req) {
        let mut form = Multipart::from_request(req, &())
            .await
            .map_err(|e| CoreError::invalid(format!("malformed multipart body: {e}")))?;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| CoreError::invalid(format!("malformed multipart body: {e}")))?
        {
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field.file_name().map(str::to_string);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| CoreError::invalid(format!("could not read {name}: {e}")))?;
            if name == "file" {
                fields.file = Some((file_name, bytes.to_vec()));
                continue;
            }
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| CoreError::invalid_field(&name, "must be UTF-8 text"))?;
            set_text_field(&mut fields, &name, text);
        }
        return Ok(fields);
    }
    let body = Body::from_request(req, &()).await?;
    if body.opt_str("file").is_err() || body.object()?.contains_key("file") {
        return Err(CoreError::invalid_field(
            "file",
            "upload a script file as multipart/form-data; send text as 'script'",
        )
        .into());
    }
    for name in ["script", "scriptname", "image_name", "image_tag", "data"] {
        if let Some(text) = body.opt_str(name)? {
            set_text_field(&mut fields, name, text.to_string());
        }
    }
    Ok(fields)
}

fn set_text_field(fields: &mut UploadFields, name: &str, text: String) {
    let slot = match name {
        "script" => &mut fields.script,
        "scriptname" => &mut fields.scriptname,
        "image_name" => &mut fields.image_name,
        "image_tag" => &mut fields.image_tag,
        "data" => &mut fields.data,
        // Unknown fields are ignored, as form handlers do.
        _ => return,
    };
    *slot = Some(text);
}

/// Submit a script job: the script as text or as an uploaded file.
#[utoipa::path(post, path = "/upload", tag = "nds",
    operation_id = "nds_jobs_submit",
    request_body(content(
        (ScriptText = "application/json"),
        (ScriptText = "application/x-www-form-urlencoded"),
        (ScriptUpload = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The job's id", body = Submitted),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn submit(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    req: Request,
) -> NdsResult<(StatusCode, Json<Submitted>)> {
    let fields = read_upload(req).await?;
    let (script, name_from_file) = match (fields.script, fields.file) {
        (Some(_), Some(_)) => {
            return Err(CoreError::invalid("give either script or file, not both").into());
        }
        (Some(text), None) => (text.into_bytes(), None),
        (None, Some((file_name, bytes))) => {
            // Clients send paths as file names; only the last part names the script.
            let base = file_name.and_then(|n| n.rsplit(['/', '\\']).next().map(str::to_string));
            (bytes, base.filter(|n| !n.is_empty()))
        }
        (None, None) => {
            return Err(CoreError::invalid_field(
                "script",
                "give the script as 'script' (text) or 'file' (an uploaded file)",
            )
            .into());
        }
    };
    let job = s
        .berth
        .submit_script_job(
            &user,
            NewScriptJob {
                script,
                script_name: fields
                    .scriptname
                    .filter(|n| !n.is_empty())
                    .or(name_from_file),
                image_name: fields.image_name,
                image_tag: fields.image_tag,
                dataset: fields.data,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Submitted {
            job_id: job.job.uuid.to_string(),
        }),
    ))
}

/// The `job_id` parameter, a UUID.
fn job_id(params: &Params) -> Result<Uuid, CoreError> {
    let raw = params.required("job_id")?;
    Uuid::parse_str(raw)
        .map_err(|_| CoreError::invalid_field("job_id", "must be a job id (a UUID)"))
}

/// A job's state.
#[utoipa::path(get, path = "/upload", tag = "nds",
    operation_id = "nds_jobs_status",
    params(("job_id" = String, Query, pattern = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$", description = "The job's id, a uuid")),
    responses(
        (status = 200, description = "The job's state", body = Status),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn status(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Status>> {
    let observed = s.berth.script_job(&user, job_id(&params)?).await?;
    Ok(Json(views::status(&observed.job)))
}

/// Delete a job and its container.
#[utoipa::path(delete, path = "/upload", tag = "nds",
    operation_id = "nds_jobs_delete",
    params(("job_id" = String, Query, pattern = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$", description = "The job's id, a uuid")),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Deleted>> {
    let uuid = job_id(&params)?;
    s.berth.delete_script_job(&user, uuid).await?;
    Ok(Json(Deleted {
        job_id: uuid.to_string(),
        msg: "job deleted",
    }))
}

/// What a job wrote to its standard output.
#[utoipa::path(get, path = "/stdout", tag = "nds",
    operation_id = "nds_jobs_stdout",
    params(("cont_id" = String, Query, description = "The job's container id")),
    responses(
        (status = 200, description = "The output", body = Stdout),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn stdout(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Stdout>> {
    let output = s
        .berth
        .script_job_output(&user, params.required("cont_id")?)
        .await?;
    Ok(Json(Stdout { stdout: output }))
}

/// Stop a job: `{"state": "success"|"failed"|"UNKNOWN", "msg"|"error"}`.
#[utoipa::path(get, path = "/stop", tag = "nds",
    operation_id = "nds_jobs_stop",
    params(("cont_id" = String, Query, description = "The job's container id")),
    responses(
        (status = 200, description = "What stopping did", body = Stopped),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn stop(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Stopped>> {
    let outcome = s
        .berth
        .stop_script_job(&user, params.required("cont_id")?)
        .await?;
    Ok(Json(views::stop_outcome(&outcome)))
}

/// One job container; without `cont_id`, the caller's job containers
/// with their last use.
#[utoipa::path(get, path = "/info", tag = "nds",
    operation_id = "nds_jobs_info",
    params(("cont_id" = Option<String>, Query, description = "A job's container id; all of the caller's without it")),
    responses(
        (status = 200, description = "The container (`Info`), or all of them (`LastUse` list)", body = InfoAnswer),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn info(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<InfoAnswer>> {
    match params.text("cont_id") {
        Some(id) => {
            let observed = s.berth.script_job_by_container(&user, id).await?;
            Ok(Json(InfoAnswer::One(Box::new(views::info(&observed)))))
        }
        None => {
            let jobs = s.berth.script_jobs(&user).await?;
            Ok(Json(InfoAnswer::All(
                jobs.iter().filter_map(views::last_use).collect(),
            )))
        }
    }
}

/// The caller's job containers.
#[utoipa::path(get, path = "/list_container", tag = "nds",
    operation_id = "nds_containers_list",
    responses(
        (status = 200, description = "The containers", body = Vec<Container>),
        Unauthorized,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn list_container(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> NdsResult<Json<Vec<Container>>> {
    let jobs = s.berth.script_jobs(&user).await?;
    Ok(Json(
        jobs.iter()
            .filter_map(|o| views::container(&o.job))
            .collect(),
    ))
}

/// The changes a job made to its container's files.
#[utoipa::path(get, path = "/diff", tag = "nds",
    operation_id = "nds_jobs_diff",
    params(("cont_id" = String, Query, description = "The job's container id")),
    responses(
        (status = 200, description = "The changes", body = Vec<Change>),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn diff(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Vec<Change>>> {
    let changes = s
        .berth
        .script_job_diff(&user, params.required("cont_id")?)
        .await?;
    Ok(Json(changes.iter().map(views::change).collect()))
}

/// A job's last resource sample.
#[utoipa::path(get, path = "/metric", tag = "nds",
    operation_id = "nds_jobs_metric",
    params(("cont_id" = String, Query, description = "The job's container id")),
    responses(
        (status = 200, description = "The resource use", body = Metrics),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn metric(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Metrics>> {
    let observed = s
        .berth
        .script_job_metrics(&user, params.required("cont_id")?)
        .await?;
    Ok(Json(views::metrics(&observed.job)))
}

/// Download a file from a job's container, or a directory as a tar.
#[utoipa::path(get, path = "/download", tag = "nds",
    operation_id = "nds_jobs_download",
    params(("job_id" = String, Query, pattern = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$", description = "The job's id, a uuid"),
        ("path" = Option<String>, Query, description = "A file or directory in the job's container; relative paths are under `/job`, the default")),
    responses(
        (status = 200, description = "The file's bytes, or the directory as a tar",
            content(
                (File = "application/octet-stream"),
                (File = "application/x-tar"),
            ),
            headers(("content-disposition" = String, description = "`attachment; filename=\"<name>\"`"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn download(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Response> {
    let download = s
        .berth
        .download_from_script_job(&user, job_id(&params)?, params.text("path"))
        .await?;
    Ok(match download {
        Download::File { name, bytes } => {
            views::attachment("application/octet-stream", &name, bytes)
        }
        Download::Directory { name, tar } => {
            views::attachment("application/x-tar", &format!("{name}.tar"), tar)
        }
    })
}
