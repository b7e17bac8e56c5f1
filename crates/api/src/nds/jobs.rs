//! Script jobs: submit, status, output, stop, info, diff, metrics, files, delete.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use berth_core::CoreError;
use berth_core::archive::Download;
use berth_core::jobs::NewScriptJob;
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::NdsResult;
use super::{Body, Caller, Params, views};
use crate::AppState;

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

/// `POST /upload` → 201 `{"job_id"}`.
pub async fn submit(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    req: Request,
) -> NdsResult<(StatusCode, Json<Value>)> {
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
        Json(json!({ "job_id": job.job.uuid.to_string() })),
    ))
}

/// The `job_id` parameter, a UUID.
fn job_id(params: &Params) -> Result<Uuid, CoreError> {
    let raw = params.required("job_id")?;
    Uuid::parse_str(raw)
        .map_err(|_| CoreError::invalid_field("job_id", "must be a job id (a UUID)"))
}

/// `GET /upload?job_id=` → the job's status.
pub async fn status(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Value>> {
    let observed = s.berth.script_job(&user, job_id(&params)?).await?;
    Ok(Json(views::status(&observed.job)))
}

/// `DELETE /upload?job_id=` → the job and its container are gone.
pub async fn delete(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Value>> {
    let uuid = job_id(&params)?;
    s.berth.delete_script_job(&user, uuid).await?;
    Ok(Json(
        json!({"job_id": uuid.to_string(), "msg": "job deleted"}),
    ))
}

/// `GET /stdout?cont_id=` → `{"stdout"}`.
pub async fn stdout(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Value>> {
    let output = s
        .berth
        .script_job_output(&user, params.required("cont_id")?)
        .await?;
    Ok(Json(json!({ "stdout": output })))
}

/// `GET /stop?cont_id=` → `{"state": "success"|"failed"|"UNKNOWN", "msg"|"error"}`.
pub async fn stop(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Value>> {
    let outcome = s
        .berth
        .stop_script_job(&user, params.required("cont_id")?)
        .await?;
    Ok(Json(views::stop_outcome(&outcome)))
}

/// `GET /info?cont_id=` → one container; without `cont_id`, the caller's
/// job containers with their last use.
pub async fn info(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Value>> {
    match params.text("cont_id") {
        Some(id) => {
            let observed = s.berth.script_job_by_container(&user, id).await?;
            Ok(Json(views::info(&observed)))
        }
        None => {
            let jobs = s.berth.script_jobs(&user).await?;
            Ok(Json(Value::Array(
                jobs.iter().filter_map(views::last_use).collect(),
            )))
        }
    }
}

/// `GET /list_container` → the caller's job containers.
pub async fn list_container(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> NdsResult<Json<Value>> {
    let jobs = s.berth.script_jobs(&user).await?;
    Ok(Json(Value::Array(
        jobs.iter()
            .filter_map(|o| views::container(&o.job))
            .collect(),
    )))
}

/// `GET /diff?cont_id=` → `[{"path", "kind"}]`.
pub async fn diff(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Value>> {
    let changes = s
        .berth
        .script_job_diff(&user, params.required("cont_id")?)
        .await?;
    Ok(Json(Value::Array(
        changes.iter().map(views::change).collect(),
    )))
}

/// `GET /metric?cont_id=` → resource use.
pub async fn metric(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> NdsResult<Json<Value>> {
    let observed = s
        .berth
        .script_job_metrics(&user, params.required("cont_id")?)
        .await?;
    Ok(Json(views::metrics(&observed.job)))
}

/// `GET /download?job_id=&path=` → a file's bytes, or a directory as a tar.
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
