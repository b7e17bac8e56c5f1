//! Apps and what hangs off them: builds, config, releases and rollback,
//! containers, scale, restarts, logs and one-off runs.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use berth_core::model::{AppKind, Level, Release};
use berth_core::rules::{self, ConfigPatch};
use futures::StreamExt;
use serde_json::{Value, json};

use super::error::DeisResult;
use super::{Body, Caller, Paging, views};
use crate::AppState;

/// Responses that made a release name it; the Deis CLI reads this header.
fn with_release(status: StatusCode, body: Value, release: &Release) -> Response {
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&release.version.to_string()) {
        res.headers_mut()
            .insert(HeaderName::from_static("deis-release"), v.clone());
        res.headers_mut()
            .insert(HeaderName::from_static("x-deis-release"), v);
    }
    res
}

pub async fn list(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    paging: Paging,
) -> DeisResult<Json<Value>> {
    let page = s
        .berth
        .list_apps(&user, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), |a| {
        views::app(&s.berth, a)
    })))
}

pub async fn create(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<(StatusCode, Json<Value>)> {
    let app = s
        .berth
        .create_app(&user, body.opt_str("id")?, AppKind::App)
        .await?;
    Ok((StatusCode::CREATED, Json(views::app(&s.berth, &app))))
}

pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Value>> {
    let app = s.berth.app(&user, &id, Level::Read).await?;
    Ok(Json(views::app(&s.berth, &app)))
}

pub async fn destroy(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.destroy_app(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_builds(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    paging: Paging,
) -> DeisResult<Json<Value>> {
    let page = s
        .berth
        .list_builds(&user, &id, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::build)))
}

/// `{"image": ref, "procfile": {type: command}}`; the procfile may also be a JSON-encoded string.
pub async fn create_build(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<Response> {
    let image = body.str("image")?;
    let mut procfile = BTreeMap::new();
    for (t, cmd) in rules::patch_section("procfile", body.object()?.get("procfile"))? {
        let cmd = cmd.ok_or_else(|| {
            CoreError::invalid_field("procfile", format!("command for {t} is empty"))
        })?;
        procfile.insert(t.clone(), rules::value_text("procfile", &t, &cmd)?);
    }
    let (build, release) = s.berth.create_build(&user, &id, image, procfile).await?;
    Ok(with_release(
        StatusCode::CREATED,
        views::build(&build),
        &release,
    ))
}

pub async fn config(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Value>> {
    Ok(Json(views::config(&s.berth.config(&user, &id).await?)))
}

/// Reads `values`, `memory`, `cpu` and `tags`: each an object or a
/// JSON-encoded string of one, `null` unsetting a key.
fn config_patch(body: &Body) -> Result<ConfigPatch, CoreError> {
    let obj = body.object()?;
    let mut patch = ConfigPatch::default();
    for (k, v) in rules::patch_section("values", obj.get("values"))? {
        let text = v.map(|v| rules::value_text("values", &k, &v)).transpose()?;
        patch.values.insert(k, text);
    }
    for (k, v) in rules::patch_section("memory", obj.get("memory"))? {
        let text = v.map(|v| rules::value_text("memory", &k, &v)).transpose()?;
        patch.memory.insert(k, text);
    }
    for (k, v) in rules::patch_section("cpu", obj.get("cpu"))? {
        let shares = v
            .map(|v| {
                match &v {
                    Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    CoreError::invalid_field("cpu", format!("{k} must be a number of CPU shares"))
                })
            })
            .transpose()?;
        patch.cpu.insert(k, shares);
    }
    for (k, v) in rules::patch_section("tags", obj.get("tags"))? {
        let text = v.map(|v| rules::value_text("tags", &k, &v)).transpose()?;
        patch.tags.insert(k, text);
    }
    Ok(patch)
}

pub async fn set_config(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<Response> {
    let patch = config_patch(&body)?;
    let (config, release) = s.berth.set_config(&user, &id, &patch).await?;
    Ok(with_release(
        StatusCode::CREATED,
        views::config(&config),
        &release,
    ))
}

pub async fn list_releases(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    paging: Paging,
) -> DeisResult<Json<Value>> {
    let page = s
        .berth
        .list_releases(&user, &id, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::release)))
}

/// `v3` or `3`.
fn parse_version(text: &str) -> Result<i64, CoreError> {
    text.strip_prefix('v')
        .unwrap_or(text)
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| CoreError::not_found(format!("release {text} not found")))
}

pub async fn release(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, version)): Path<(String, String)>,
) -> DeisResult<Json<Value>> {
    let r = s
        .berth
        .release(&user, &id, parse_version(&version)?)
        .await?;
    Ok(Json(views::release(&r)))
}

pub async fn rollback(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<Response> {
    let release = s
        .berth
        .rollback(&user, &id, body.opt_int("version")?)
        .await?;
    Ok(with_release(
        StatusCode::CREATED,
        json!({ "version": release.version }),
        &release,
    ))
}

async fn container_list(
    s: &AppState,
    user: &berth_core::model::User,
    id: &str,
    proc_type: Option<&str>,
) -> DeisResult<Value> {
    let app = s.berth.app(user, id, Level::Read).await?;
    let instances = s.berth.instances(user, id, proc_type).await?;
    Ok(views::all(
        instances
            .iter()
            .map(|i| views::container(&app, i))
            .collect(),
    ))
}

pub async fn containers(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Value>> {
    Ok(Json(container_list(&s, &user, &id, None).await?))
}

pub async fn containers_of_type(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type)): Path<(String, String)>,
) -> DeisResult<Json<Value>> {
    Ok(Json(
        container_list(&s, &user, &id, Some(&proc_type)).await?,
    ))
}

async fn restarted(
    s: &AppState,
    user: &berth_core::model::User,
    id: &str,
    proc_type: Option<&str>,
    num: Option<u32>,
) -> DeisResult<Json<Value>> {
    let app = s.berth.app(user, id, Level::User).await?;
    let done = s.berth.restart(user, id, proc_type, num).await?;
    Ok(Json(Value::Array(
        done.iter().map(|i| views::container(&app, i)).collect(),
    )))
}

pub async fn restart(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Value>> {
    restarted(&s, &user, &id, None, None).await
}

pub async fn restart_type(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type)): Path<(String, String)>,
) -> DeisResult<Json<Value>> {
    restarted(&s, &user, &id, Some(&proc_type), None).await
}

pub async fn restart_one(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type, num)): Path<(String, String, String)>,
) -> DeisResult<Json<Value>> {
    let num: u32 = num
        .parse()
        .map_err(|_| CoreError::not_found(format!("container {proc_type}.{num} not found")))?;
    restarted(&s, &user, &id, Some(&proc_type), Some(num)).await
}

/// `{"web": 3, "worker": 1}` → 204 once the engine runs exactly that.
pub async fn scale(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<StatusCode> {
    let mut counts = BTreeMap::new();
    for (t, v) in body.object()? {
        counts.insert(t.clone(), rules::scale_count(t, v)?);
    }
    s.berth.scale(&user, &id, &counts).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A JSON string of log lines, each ending in `\n` (the Deis CLI drops
/// whatever follows the last one); `?follow=true` streams plain text instead.
pub async fn logs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> DeisResult<Response> {
    let lines =
        match q.get("log_lines") {
            Some(n) => Some(n.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                CoreError::invalid_field("log_lines", "must be a positive integer")
            })?),
            None => None,
        };
    let recent = s.berth.logs(&user, &id, lines).await?;
    let text: String = recent
        .iter()
        .map(|l| format!("{}\n", views::log_line(l)))
        .collect();
    if !q.get("follow").is_some_and(|f| f == "true" || f == "1") {
        return Ok(Json(Value::String(text)).into_response());
    }
    let live = s.berth.follow_logs(&user, &id).await?;
    let head =
        futures::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(text)) });
    let tail = live.map(|line| Ok(bytes::Bytes::from(format!("{}\n", views::log_line(&line)))));
    let mut res = HttpBody::from_stream(head.chain(tail)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(res)
}

/// `{"command": "..."}` → `[exit code, output]`, as the Deis CLI expects.
pub async fn run(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<Json<Value>> {
    let (rc, output) = s.berth.run(&user, &id, body.str("command")?).await?;
    Ok(Json(json!([rc, output])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions() {
        assert_eq!(parse_version("v3").unwrap(), 3);
        assert_eq!(parse_version("12").unwrap(), 12);
        assert!(parse_version("v0").is_err());
        assert!(parse_version("latest").is_err());
    }

    #[test]
    fn config_patches_from_strings_and_objects() {
        let p = config_patch(&Body::new(json!({"values": "{\"A\": \"1\", \"B\": null}", "memory": {"web": "64M"}, "cpu": {"web": 512}}))).unwrap();
        assert_eq!(p.values["A"], Some("1".into()));
        assert_eq!(p.values["B"], None);
        assert_eq!(p.memory["web"], Some("64M".into()));
        assert_eq!(p.cpu["web"], Some(512));
        assert!(config_patch(&Body::new(json!({"cpu": {"web": "lots"}}))).is_err());
        assert!(config_patch(&Body::new(json!({"values": 7}))).is_err());
    }
}
