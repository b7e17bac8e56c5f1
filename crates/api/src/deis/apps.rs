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
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, Object, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::error::{DeisResult, ErrorBody};
use super::paging::PageQuery;
use super::views::{AppView, Listing};
use super::{Body, Caller, Paging, views};
use crate::AppState;

/// A new app: `POST /v1/apps`.
#[derive(ToSchema)]
#[schema(as = deis::AppCreation)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct AppCreation {
    /// The app's name; one is made up when absent.
    id: Option<String>,
}

/// A one-off command: `POST /v1/apps/{id}/run`.
#[derive(ToSchema)]
#[schema(as = deis::Command)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Command {
    /// Run by `sh -c` in a container of the app's current build.
    command: String,
}

/// What `GET /v1/apps/{id}/logs` takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the query the handler reads one by one")]
pub struct LogQuery {
    /// How many of the latest lines; all that are kept when absent.
    #[param(minimum = 1)]
    log_lines: Option<usize>,
    /// `true` or `1`: keep the answer open and stream new lines as plain text.
    follow: Option<String>,
}

/// `[exit code, output]` of a one-off command.
#[derive(Debug, Serialize)]
pub struct RunOutput(pub i64, pub String);

impl PartialSchema for RunOutput {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .prefix_items([
                Schema::Object(Object::with_type(Type::Integer)),
                Schema::Object(Object::with_type(Type::String)),
            ])
            .items(utoipa::openapi::schema::ArrayItems::False)
            .min_items(Some(2))
            .description(Some("`[exit code, output]`"))
            .into()
    }
}

impl ToSchema for RunOutput {
    fn name() -> std::borrow::Cow<'static, str> {
        "deis.RunOutput".into()
    }
}

/// The apps the caller may read, a page at a time.
#[utoipa::path(get, path = "/v1/apps", tag = "deis", operation_id = "deis_apps_list",
    params(PageQuery),
    security(("token" = []), ("bearer" = [])),
    responses((status = 200, description = "One page of apps", body = Listing<AppView>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    paging: Paging,
) -> DeisResult<Json<Listing<AppView>>> {
    let page = s
        .berth
        .list_apps(&user, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), |a| {
        views::app(&s.berth, a)
    })))
}

/// Creates an app, named or with a made-up name.
#[utoipa::path(post, path = "/v1/apps", tag = "deis", operation_id = "deis_apps_create",
    request_body(content(
        (AppCreation = "application/json"),
        (AppCreation = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The app", body = AppView),
        (status = 400, description = "The name is invalid or reserved", body = ErrorBody),
        (status = 403, description = "The caller's quota is used up", body = ErrorBody),
        (status = 409, description = "An app of that name exists", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<(StatusCode, Json<AppView>)> {
    let app = s
        .berth
        .create_app(&user, body.opt_str("id")?, AppKind::App)
        .await?;
    Ok((StatusCode::CREATED, Json(views::app(&s.berth, &app))))
}

/// One app.
#[utoipa::path(get, path = "/v1/apps/{id}", tag = "deis", operation_id = "deis_apps_get",
    params(("id" = String, Path, description = "The app's name")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The app", body = AppView),
        (status = 403, description = "The caller may not read it", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<AppView>> {
    let app = s.berth.app(&user, &id, Level::Read).await?;
    Ok(Json(views::app(&s.berth, &app)))
}

/// Destroys an app and its containers.
#[utoipa::path(delete, path = "/v1/apps/{id}", tag = "deis", operation_id = "deis_apps_destroy",
    params(("id" = String, Path, description = "The app's name")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "The app is gone"),
        (status = 403, description = "Only its owner or an administrator destroys it", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
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
#[utoipa::path(get, path = "/v1/apps/{id}/logs", tag = "deis", operation_id = "deis_apps_logs",
    params(("id" = String, Path, description = "The app's name"), LogQuery),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The latest lines, each ending in a newline",
            content((String = "application/json"), (String = "text/plain"))),
        (status = 400, description = "`log_lines` is not a positive integer", body = ErrorBody),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
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
#[utoipa::path(post, path = "/v1/apps/{id}/run", tag = "deis", operation_id = "deis_apps_run",
    params(("id" = String, Path, description = "The app's name")),
    request_body(content(
        (Command = "application/json"),
        (Command = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "How the command ended", body = RunOutput),
        (status = 400, description = "No command, or the app has no build to run it in", body = ErrorBody),
        (status = 403, description = "The caller may not run commands in the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
pub async fn run(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<Json<RunOutput>> {
    let (rc, output) = s.berth.run(&user, &id, body.str("command")?).await?;
    Ok(Json(RunOutput(rc, output)))
}
