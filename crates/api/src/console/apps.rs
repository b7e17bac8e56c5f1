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
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::error::ConsoleResult;
use super::openapi::{
    BadRequest, Conflict, CsrfToken, Forbidden, NotFound, Unauthorized, Unavailable,
};
use super::views::{
    self, AppView, ConfigView, DomainView, InstanceView, ListedAppView, LogLineView, PageOf,
    ReleaseView,
};
use super::{Body, Caller, PathOf, Query};
use crate::AppState;
use crate::common::events::json_data;

/// Rows of the app list per page unless the page asks for another size.
const PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 200;
/// Log lines the app page opens with.
const LOG_LINES: usize = 200;
/// The newest releases the app page shows.
const RELEASES_SHOWN: i64 = 20;
/// The domains the app page shows.
const DOMAINS_SHOWN: i64 = 100;

/// The query of a list that pages.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "describes the parameters the handler reads one by one"
)]
pub struct Paging {
    /// From 1.
    #[param(minimum = 1)]
    page: Option<i64>,
    /// Rows per page, 1 to 200 (50 unless given).
    #[param(minimum = 1, maximum = 200)]
    size: Option<i64>,
}

/// A new app.
#[derive(ToSchema)]
#[schema(as = console::NewApp)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct NewApp {
    /// Its id; without one (or blank), a name is chosen.
    id: Option<String>,
}

/// Config to set (a value) or unset (`null`).
#[derive(ToSchema)]
#[schema(as = console::ConfigChange)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct ConfigChange {
    /// Key → its new value (numbers and booleans are taken as text), or
    /// `null` to unset it; at least one key.
    values: BTreeMap<String, Option<String>>,
}

/// An app's new config and the release that carries it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::ConfigSet)]
pub struct ConfigSet {
    pub config: ConfigView,
    pub release: ReleaseView,
}

/// The users an app is shared with.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Sharing)]
pub struct Sharing {
    pub users: Vec<String>,
}

/// An image to deploy.
#[derive(ToSchema)]
#[schema(as = console::Deploy)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Deploy {
    /// e.g. `nginx:1.27`.
    image: String,
}

/// Process type → the number of instances wanted.
#[derive(ToSchema)]
#[schema(as = console::Scale)]
#[expect(
    dead_code,
    reason = "describes the body the handler reads entry by entry"
)]
pub struct Scale(BTreeMap<String, u32>);

/// The release to roll back to.
#[derive(ToSchema)]
#[schema(as = console::Rollback)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Rollback {
    /// Its version; without one, the release before the current one.
    version: Option<i64>,
}

/// The process type to restart.
#[derive(ToSchema)]
#[schema(as = console::Restart)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Restart {
    /// Without one (or blank), every process type.
    #[schema(rename = "type")]
    proc_type: Option<String>,
}

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

/// A page of the caller's apps, each with its phase and instances up.
#[utoipa::path(get, path = "/ui/api/apps", tag = "console",
    operation_id = "console_apps_list",
    params(Paging),
    responses(
        (status = 200, description = "A page of apps", body = PageOf<ListedAppView>),
        BadRequest, Unauthorized,
    ),
    security(("consoleSession" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    query: Query,
) -> ConsoleResult<Json<PageOf<ListedAppView>>> {
    let (page, size) = paging(&query)?;
    // A page past the end is empty, however far past: the offset saturates.
    let offset = (page - 1).saturating_mul(size);
    let apps = s.berth.listed_apps(&user, offset, size).await?;
    Ok(Json(views::page(apps, page, size, views::listed_app)))
}

/// Create an app (`{"id"}` optional: a name is chosen).
#[utoipa::path(post, path = "/ui/api/apps", tag = "console",
    operation_id = "console_apps_create",
    params(CsrfToken),
    request_body = NewApp,
    responses(
        (status = 201, description = "The new app", body = AppView),
        BadRequest, Unauthorized, Forbidden, Conflict,
    ),
    security(("consoleSession" = [])))]
pub async fn create(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> ConsoleResult<(StatusCode, Json<AppView>)> {
    let id = body.opt_str("id")?.filter(|id| !id.trim().is_empty());
    let app = s.berth.create_app(&user, id, AppKind::App).await?;
    Ok((StatusCode::CREATED, Json(views::app(&app))))
}

/// One app.
#[utoipa::path(get, path = "/ui/api/apps/{id}", tag = "console",
    operation_id = "console_apps_detail",
    params(("id" = String, Path, description = "The app's id")),
    responses(
        (status = 200, description = "The app", body = AppView),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("consoleSession" = [])))]
pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<AppView>> {
    let app = s.berth.app(&user, path.text("id"), Level::Read).await?;
    Ok(Json(views::app(&app)))
}

/// An app's instances and their states.
#[utoipa::path(get, path = "/ui/api/apps/{id}/instances", tag = "console",
    operation_id = "console_apps_instances",
    params(("id" = String, Path, description = "The app's id")),
    responses(
        (status = 200, description = "Its instances", body = Vec<InstanceView>),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("consoleSession" = [])))]
pub async fn instances(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Vec<InstanceView>>> {
    let instances = s.berth.instances(&user, path.text("id"), None).await?;
    Ok(Json(instances.iter().map(views::instance).collect()))
}

/// An app's newest 20 releases.
#[utoipa::path(get, path = "/ui/api/apps/{id}/releases", tag = "console",
    operation_id = "console_apps_releases",
    params(("id" = String, Path, description = "The app's id")),
    responses(
        (status = 200, description = "Its newest releases, newest first", body = PageOf<ReleaseView>),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("consoleSession" = [])))]
pub async fn releases(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<PageOf<ReleaseView>>> {
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

/// An app's config, secret-looking values masked.
#[utoipa::path(get, path = "/ui/api/apps/{id}/config", tag = "console",
    operation_id = "console_apps_config",
    params(("id" = String, Path, description = "The app's id")),
    responses(
        (status = 200, description = "Its config", body = ConfigView),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("consoleSession" = [])))]
pub async fn config(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<ConfigView>> {
    let config = s.berth.config(&user, path.text("id")).await?;
    Ok(Json(views::config(&config)))
}

/// Set config values, or unset them with `null`, in one new release.
#[utoipa::path(post, path = "/ui/api/apps/{id}/config", tag = "console",
    operation_id = "console_apps_config_set",
    params(("id" = String, Path, description = "The app's id"), CsrfToken),
    request_body = ConfigChange,
    responses(
        (status = 200, description = "The new config and its release", body = ConfigSet),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn set_config(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<Json<ConfigSet>> {
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
    Ok(Json(ConfigSet {
        config: views::config(&config),
        release: views::release(&release),
    }))
}

/// An app's domains (the first 100).
#[utoipa::path(get, path = "/ui/api/apps/{id}/domains", tag = "console",
    operation_id = "console_apps_domains",
    params(("id" = String, Path, description = "The app's id")),
    responses(
        (status = 200, description = "Its domains", body = PageOf<DomainView>),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("consoleSession" = [])))]
pub async fn domains(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<PageOf<DomainView>>> {
    let domains = s
        .berth
        .list_domains(&user, path.text("id"), 0, DOMAINS_SHOWN)
        .await?;
    Ok(Json(views::page(domains, 1, DOMAINS_SHOWN, views::domain)))
}

/// The users an app is shared with (its owner is in the app itself).
#[utoipa::path(get, path = "/ui/api/apps/{id}/perms", tag = "console",
    operation_id = "console_apps_perms",
    params(("id" = String, Path, description = "The app's id")),
    responses(
        (status = 200, description = "The users it is shared with", body = Sharing),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("consoleSession" = [])))]
pub async fn perms(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
) -> ConsoleResult<Json<Sharing>> {
    let users = s.berth.collaborators(&user, path.text("id")).await?;
    Ok(Json(Sharing { users }))
}

/// An app's newest 200 log lines, or (`?follow=1`) its lines as they come.
#[utoipa::path(get, path = "/ui/api/apps/{id}/logs", tag = "console",
    operation_id = "console_apps_logs",
    params(("id" = String, Path, description = "The app's id"), ("follow" = Option<bool>, Query,
        description = "Follow the log: server-sent `log` events, each one line's JSON (`console.LogLine`)")),
    responses(
        (status = 200, description = "Its newest lines; with `follow`, an endless event stream",
            content(
                (Vec<LogLineView> = "application/json"),
                (String = "text/event-stream"),
            )),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn logs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    query: Query,
) -> ConsoleResult<Response> {
    let id = path.text("id");
    if !query.flag("follow")?.unwrap_or(false) {
        let lines = s.berth.logs(&user, id, Some(LOG_LINES)).await?;
        let lines: Vec<_> = lines.iter().map(views::log_line).collect();
        return Ok(Json(lines).into_response());
    }
    let live = s.berth.follow_logs(&user, id).await?;
    let events = live.map(|line| {
        Ok::<_, Infallible>(
            Event::default()
                .event("log")
                .data(json_data(&views::log_line(&line))),
        )
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Deploy an image: the release that runs it, once it runs (a Deis build).
#[utoipa::path(post, path = "/ui/api/apps/{id}/deploy", tag = "console",
    operation_id = "console_apps_deploy",
    params(("id" = String, Path, description = "The app's id"), CsrfToken),
    request_body = Deploy,
    responses(
        (status = 201, description = "The new release, running", body = ReleaseView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn deploy(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<(StatusCode, Json<ReleaseView>)> {
    let image = body.str("image")?.trim();
    let (_, release) = s
        .berth
        .create_build(&user, path.text("id"), image, BTreeMap::new())
        .await?;
    Ok((StatusCode::CREATED, Json(views::release(&release))))
}

/// Scale process types (`{"web": 3}`); answers once the engine runs that many.
#[utoipa::path(post, path = "/ui/api/apps/{id}/scale", tag = "console",
    operation_id = "console_apps_scale",
    params(("id" = String, Path, description = "The app's id"), CsrfToken),
    request_body = Scale,
    responses(
        (status = 204, description = "Scaled"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
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

/// Roll back to a release (by default the one before the current one).
#[utoipa::path(post, path = "/ui/api/apps/{id}/rollback", tag = "console",
    operation_id = "console_apps_rollback",
    params(("id" = String, Path, description = "The app's id"), CsrfToken),
    request_body = Rollback,
    responses(
        (status = 200, description = "The new release", body = ReleaseView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn rollback(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<Json<ReleaseView>> {
    let version = body.opt_int("version")?;
    let release = s.berth.rollback(&user, path.text("id"), version).await?;
    Ok(Json(views::release(&release)))
}

/// Restart a process type's instances (by default every one).
#[utoipa::path(post, path = "/ui/api/apps/{id}/restart", tag = "console",
    operation_id = "console_apps_restart",
    params(("id" = String, Path, description = "The app's id"), CsrfToken),
    request_body = Restart,
    responses(
        (status = 200, description = "The instances restarted", body = Vec<InstanceView>),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
    security(("consoleSession" = [])))]
pub async fn restart(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathOf,
    body: Body,
) -> ConsoleResult<Json<Vec<InstanceView>>> {
    let proc_type = body.opt_str("type")?.filter(|t| !t.is_empty());
    let done = s
        .berth
        .restart(&user, path.text("id"), proc_type, None)
        .await?;
    Ok(Json(done.iter().map(views::instance).collect()))
}
