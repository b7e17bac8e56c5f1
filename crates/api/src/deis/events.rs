//! `GET /v1/events` and `GET /v1/apps/{id}/events`: the change feed as
//! server-sent events, of the apps the caller may read.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::Caller;
use super::error::{DeisResult, ErrorBody};
use crate::AppState;
use crate::common::events::{ChangeView, event_stream, last_event_id};

/// Every change to the apps the caller may read, as it happens.
#[utoipa::path(get, path = "/v1/events", tag = "deis", operation_id = "deis_events",
    params(("Last-Event-ID" = Option<u64>, Header,
        description = "The `id` of the last event a reconnecting client saw: the stream starts with what it missed")),
    security(("token" = []), ("bearer" = [])),
    responses((status = 200, description = "A stream of server-sent events, each one change; \
        a comment every 15 seconds keeps it open", content((ChangeView = "text/event-stream")))))]
pub async fn all(
    State(s): State<AppState>,
    Caller { user, token, .. }: Caller,
    headers: HeaderMap,
) -> DeisResult<Response> {
    let after = last_event_id(&headers);
    let changes = s
        .berth
        .follow_changes(&user, None, after, token.as_deref())
        .await?;
    Ok(event_stream(changes))
}

/// Every change to one app, as it happens.
#[utoipa::path(get, path = "/v1/apps/{id}/events", tag = "deis", operation_id = "deis_apps_events",
    params(
        ("id" = String, Path, description = "The app's name"),
        ("Last-Event-ID" = Option<u64>, Header,
            description = "The `id` of the last event a reconnecting client saw: the stream starts with what it missed")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A stream of server-sent events, each one change; \
            a comment every 15 seconds keeps it open", content((ChangeView = "text/event-stream"))),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn of_app(
    State(s): State<AppState>,
    Caller { user, token, .. }: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> DeisResult<Response> {
    let after = last_event_id(&headers);
    let changes = s
        .berth
        .follow_changes(&user, Some(&id), after, token.as_deref())
        .await?;
    Ok(event_stream(changes))
}
