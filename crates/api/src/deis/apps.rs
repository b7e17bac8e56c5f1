//! Apps themselves: list, create, inspect, destroy, logs and one-off runs.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use berth_core::model::{AppKind, Level};
use futures::StreamExt;
use serde_json::{Value, json};

use super::error::DeisResult;
use super::{Body, Caller, Paging, views};
use crate::AppState;

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
