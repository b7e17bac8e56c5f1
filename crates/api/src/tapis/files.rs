//! Inside a running pod: exec commands, upload a file, list files and
//! download a file or directory (streamed to the client as it is read);
//! and the download answer volumes and snapshots use too.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::TapisResult;
use super::openapi::Refusals;
use super::views::{self, Envelope, ExecResults, PodFile, Uploaded, ok};
use super::{Body, Caller};
use crate::AppState;

const COMMAND_TIMEOUT: u64 = 60;
const TOTAL_TIMEOUT: u64 = 300;

/// Commands to run in a pod, in order, never through a shell.
#[derive(ToSchema)]
#[schema(as = TapisExecRequest)]
#[allow(dead_code)]
pub struct ExecRequest {
    /// One argv (a list of strings) or a list of argvs.
    commands: Value,
    /// Seconds each command may take, 1 to 3600 (60).
    command_timeout: Option<i64>,
    /// Seconds all of them may take, 1 to 3600 (300).
    total_timeout: Option<i64>,
    /// The first failure refuses the request with 400 (true).
    fail_on_non_success: Option<bool>,
}

/// A multipart upload of one file into a pod.
#[derive(ToSchema)]
#[schema(as = TapisPodUpload)]
#[allow(dead_code)]
pub struct PodUpload {
    /// The file's bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// A file path, or a directory ending in `/` or existing.
    dest_path: String,
}

/// `commands` is one argv or a list of argvs.
fn argvs(value: &Value) -> Result<Vec<Vec<String>>, CoreError> {
    let bad = || {
        CoreError::invalid_field(
            "commands",
            "give one argv (list of strings) or a list of argvs",
        )
    };
    let list = value.as_array().ok_or_else(bad)?;
    let strings = |v: &Value| -> Result<Vec<String>, CoreError> {
        v.as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|s| s.as_str().map(str::to_string).ok_or_else(bad))
            .collect()
    };
    if list.iter().all(Value::is_string) {
        Ok(vec![strings(value)?])
    } else {
        list.iter().map(strings).collect()
    }
}

fn seconds(body: &Body, field: &str, default: u64) -> Result<Duration, CoreError> {
    let n = body.opt_int(field)?.unwrap_or(default as i64);
    if !(1..=3600).contains(&n) {
        return Err(CoreError::invalid_field(
            field,
            "must be between 1 and 3600 seconds",
        ));
    }
    Ok(Duration::from_secs(n as u64))
}

/// Runs commands in a pod's container.
#[utoipa::path(post, path = "/v3/pods/{pod_id}/exec", tag = "tapis", operation_id = "tapis_pod_exec",
    params(("pod_id" = String, Path)),
    request_body = ExecRequest,
    responses((status = 200, description = "Each command's outcome", body = Envelope<ExecResults>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn exec_pod_commands(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Envelope<ExecResults>>> {
    let commands = argvs(body.object()?.get("commands").unwrap_or(&Value::Null))?;
    let fail_on_non_success = !matches!(
        body.object()?.get("fail_on_non_success"),
        Some(Value::Bool(false))
    );
    let outcomes = s
        .berth
        .exec(
            &user,
            &id,
            &commands,
            seconds(&body, "command_timeout", COMMAND_TIMEOUT)?,
            seconds(&body, "total_timeout", TOTAL_TIMEOUT)?,
            fail_on_non_success,
        )
        .await?;
    let failed = outcomes.iter().find(|o| o.exit_code != Some(0));
    let results = outcomes.iter().map(views::command).collect();
    if fail_on_non_success && let Some(f) = failed {
        let why = if f.timed_out {
            "timed out".to_string()
        } else {
            format!("exited with {}", f.exit_code.unwrap_or(-1))
        };
        return Err(CoreError::invalid(format!(
            "command '{}' {why}: {}{}",
            f.argv.join(" "),
            f.stdout,
            f.stderr
        ))
        .into());
    }
    Ok(ok("Commands executed.", ExecResults { results }))
}

/// Uploads a file into a pod's container: multipart `file` and
/// `dest_path` (which requests sends as a file part).
#[utoipa::path(post, path = "/v3/pods/{pod_id}/upload_to_pod", tag = "tapis", operation_id = "tapis_pod_upload",
    params(("pod_id" = String, Path)),
    request_body(content((PodUpload = "multipart/form-data"))),
    responses((status = 200, description = "Where the file was written", body = Envelope<Uploaded>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn upload_to_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> TapisResult<Json<Envelope<Uploaded>>> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        CoreError::invalid(format!("malformed multipart body: {e}"))
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut dest: Option<String> = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_string();
                file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
            }
            "dest_path" => {
                let bytes = field.bytes().await.map_err(bad)?;
                dest = Some(String::from_utf8_lossy(&bytes).trim().to_string());
            }
            _ => {}
        }
    }
    let (name, bytes) =
        file.ok_or_else(|| CoreError::invalid_field("file", "This field is required."))?;
    let dest = dest
        .filter(|d| !d.is_empty())
        .ok_or_else(|| CoreError::invalid_field("dest_path", "This field is required."))?;
    let written = s.berth.upload_file(&user, &id, &dest, &name, bytes).await?;
    Ok(ok("File uploaded.", Uploaded { path: written }))
}

async fn list(
    s: &AppState,
    user: &berth_core::model::User,
    id: &str,
    path: &str,
) -> TapisResult<Json<Envelope<Vec<PodFile>>>> {
    let entries = s.berth.list_files(user, id, path).await?;
    Ok(ok(
        "Files listed.",
        entries.iter().map(views::pod_file).collect(),
    ))
}

/// The files in a pod's container at `path` (`/` when not given; a
/// relative one starts in the working directory).
#[utoipa::path(get, path = "/v3/pods/{pod_id}/list_files", tag = "tapis", operation_id = "tapis_pod_files_list",
    params(("pod_id" = String, Path), ("path" = Option<String>, Query)),
    responses((status = 200, description = "The files", body = Envelope<Vec<PodFile>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_files_in_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Json<Envelope<Vec<PodFile>>>> {
    list(&s, &user, &id, q.get("path").map_or("/", String::as_str)).await
}

/// The files in a pod's container at a URL path, relative to the
/// container's working directory.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/list_files/{url_path}", tag = "tapis", operation_id = "tapis_pod_files_list_at",
    params(("pod_id" = String, Path), ("url_path" = String, Path)),
    responses((status = 200, description = "The files", body = Envelope<Vec<PodFile>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_files_in_pod_at(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, url_path)): Path<(String, String)>,
) -> TapisResult<Json<Envelope<Vec<PodFile>>>> {
    list(&s, &user, &id, url_path.trim_start_matches('/')).await
}

async fn fetch(
    s: &AppState,
    user: &berth_core::model::User,
    id: &str,
    path: &str,
) -> TapisResult<Response> {
    let download = s.berth.download(user, id, path).await?;
    let (name, kind) = if download.directory {
        (format!("{}.tar", download.name), "application/x-tar")
    } else {
        (download.name, "application/octet-stream")
    };
    Ok(attachment(
        HttpBody::from_stream(download.body),
        &name,
        kind,
    ))
}

/// A download answer: `body` as an attachment named `name` (less any
/// quote) of content type `kind`; pod, volume and snapshot files share it.
pub(super) fn attachment(body: impl IntoResponse, name: &str, kind: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    let disposition = format!("attachment; filename=\"{}\"", name.replace('"', ""));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// Downloads a file, or a directory as a tar archive, from a pod's container.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/download_from_pod", tag = "tapis", operation_id = "tapis_pod_download",
    params(("pod_id" = String, Path), ("path" = String, Query)),
    responses((status = 200, description = "The file (`application/octet-stream`) or the directory (`application/x-tar`), as an attachment",
        content(([u8] = "application/octet-stream"), ([u8] = "application/x-tar"))), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn download_from_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Response> {
    let path = q
        .get("path")
        .ok_or_else(|| CoreError::invalid_field("path", "This field is required."))?;
    fetch(&s, &user, &id, path).await
}

/// Downloads a file, or a directory as a tar archive, from a pod's
/// container at a URL path, relative to its working directory.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/download_from_pod/{url_path}", tag = "tapis", operation_id = "tapis_pod_download_at",
    params(("pod_id" = String, Path), ("url_path" = String, Path)),
    responses((status = 200, description = "The file (`application/octet-stream`) or the directory (`application/x-tar`), as an attachment",
        content(([u8] = "application/octet-stream"), ([u8] = "application/x-tar"))), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn download_from_pod_at(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, url_path)): Path<(String, String)>,
) -> TapisResult<Response> {
    fetch(&s, &user, &id, url_path.trim_start_matches('/')).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_argv_or_many() {
        assert_eq!(
            argvs(&json!(["echo", "hi"])).unwrap(),
            vec![vec!["echo", "hi"]]
        );
        assert_eq!(argvs(&json!([["a"], ["b", "c"]])).unwrap().len(), 2);
        assert!(argvs(&json!("echo hi")).is_err());
        assert!(argvs(&json!([["a"], "b"])).is_err());
    }
}
