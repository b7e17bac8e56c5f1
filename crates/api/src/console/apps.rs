//! Apps: the caller's list a page at a time, one app's parts (instances,
//! releases, config, domains, shares, logs) and the actions on it (deploy
//! an image, scale, set and unset config, roll back, restart).

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use berth_core::model::{AppKind, Level};
use berth_core::rules::{self, ConfigPatch};
use futures::StreamExt;
use serde_json::{Value, json};

use super::error::ConsoleResult;
use super::{Body, Caller, PathOf, Query, views};
use crate::AppState;

/// Rows of the app list per page unless the page asks for another size.
const PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 200;
/// Log lines the app page opens with.
const LOG_LINES: usize = 200;
/// The newest releases the app page shows.
const RELEASES_SHOWN: i64 = 20;
/// The domains the app page shows.
const DOMAINS_SHOWN: i64 = 100;

/// `?page=` (from 1) and `?size=` (1 to 200) of a list.
fn paging(query: &Query) -> Result<(i64, i64), CoreError> {
    let page = query.int("page")?.unwrap_or(1);
    let size = query.int("size")?.unwrap_or(PAGE_SIZE);
    if page < 1 {
        return Err(CoreError::invalid_field("page", "must be 1 or more"));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(CoreError::invalid_field(
            "size",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    Ok((page, size))
}

pub async fn list(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    query: Query,
) -> ConsoleResult<Json<Value>> {
    let (page, size) = paging(&query)?;
    let apps = s.berth.listed_apps(&user, (page - 1) * size, size).await?;
    Ok(Json(views::page(apps, page, size, views::listed_app)))
}

/// `{"id"}` (optional: a name is chosen) → the new app, 201.
pub async fn create(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> ConsoleResult<(StatusCode, Json<Value>)> {
    let id = body.opt_str("id")?.filter(|id| !id.trim().is_empty());
    let app = s.berth.create_app(&user, id, AppKind::App).await?;
    Ok((StatusCode::CREATED, Json(views::app(&app))))
}

pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let app = s.berth.app(&user, path.text("id"), Level::Read).await?;
    Ok(Json(views::app(&app)))
}

pub async fn instances(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let instances = s.berth.instances(&user, path.text("id"), None).await?;
    Ok(Json(json!(
        instances.iter().map(views::instance).collect::<Vec<_>>()
    )))
}

pub async fn releases(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let releases = s
        .berth
        .list_releases(&user, path.text("id"), 0, RELEASES_SHOWN)
        .await?;
    Ok(Json(views::page(
        releases,
        1,
        RELEASES_SHOWN,
        views::release,
    )))
}

pub async fn config(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let config = s.berth.config(&user, path.text("id")).await?;
    Ok(Json(views::config(&config)))
}

/// `{"values": {"KEY": "value" | null}}`: sets or (with `null`) unsets
/// each key, in one new release.
pub async fn set_config(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<Json<Value>> {
    let mut patch = ConfigPatch::default();
    for (key, value) in rules::patch_section("values", body.object()?.get("values"))? {
        let text = value
            .map(|v| rules::value_text("values", &key, &v))
            .transpose()?;
        patch.values.insert(key, text);
    }
    if patch.is_empty() {
        return Err(CoreError::invalid_field("values", "give at least one key").into());
    }
    let (config, release) = s.berth.set_config(&user, path.text("id"), &patch).await?;
    Ok(Json(json!({
        "config": views::config(&config),
        "release": views::release(&release),
    })))
}

pub async fn domains(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let domains = s
        .berth
        .list_domains(&user, path.text("id"), 0, DOMAINS_SHOWN)
        .await?;
    Ok(Json(views::page(domains, 1, DOMAINS_SHOWN, views::domain)))
}

/// The users the app is shared with (its owner is in the app itself).
pub async fn perms(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Value>> {
    let users = s.berth.collaborators(&user, path.text("id")).await?;
    Ok(Json(json!({ "users": users })))
}

/// The newest lines as JSON; `?follow=1`: the lines as they come, as
/// server-sent `log` events, each one line's JSON.
pub async fn logs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    query: Query,
) -> ConsoleResult<Response> {
    let id = path.text("id");
    if !query.flag("follow")?.unwrap_or(false) {
        let lines = s.berth.logs(&user, id, Some(LOG_LINES)).await?;
        return Ok(
            Json(json!(lines.iter().map(views::log_line).collect::<Vec<_>>())).into_response(),
        );
    }
    let live = s.berth.follow_logs(&user, id).await?;
    let events = live.map(|line| {
        Ok::<_, Infallible>(
            Event::default()
                .event("log")
                .data(views::log_line(&line).to_string()),
        )
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// `{"image"}` → the release that runs it, once it runs (a Deis build).
pub async fn deploy(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<(StatusCode, Json<Value>)> {
    let image = body.str("image")?.trim();
    let (_, release) = s
        .berth
        .create_build(&user, path.text("id"), image, BTreeMap::new())
        .await?;
    Ok((StatusCode::CREATED, Json(views::release(&release))))
}

/// `{"web": 3}` → 204 once the engine runs that many.
pub async fn scale(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<StatusCode> {
    let mut counts = BTreeMap::new();
    for (proc_type, value) in body.object()? {
        counts.insert(proc_type.clone(), rules::scale_count(proc_type, value)?);
    }
    s.berth.scale(&user, path.text("id"), &counts).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"version"}` (optional: the release before the current one).
pub async fn rollback(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<Json<Value>> {
    let version = body.opt_int("version")?;
    let release = s.berth.rollback(&user, path.text("id"), version).await?;
    Ok(Json(views::release(&release)))
}

/// `{"type"}` (optional: every process type) → the instances restarted.
pub async fn restart(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<Json<Value>> {
    let proc_type = body.opt_str("type")?.filter(|t| !t.is_empty());
    let done = s
        .berth
        .restart(&user, path.text("id"), proc_type, None)
        .await?;
    Ok(Json(json!(
        done.iter().map(views::instance).collect::<Vec<_>>()
    )))
}
