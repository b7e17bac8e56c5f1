//! `GET /ui/api/events`: the change feed of the apps the session may read,
//! as server-sent events (`?app=` for one app), for the page to redraw
//! what changed. Each event carries its number, so a reconnecting page
//! (`Last-Event-ID`) gets what it missed; the stream ends when the session
//! does.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::error::ConsoleResult;
use super::openapi::{BadRequest, NotFound, Unauthorized};
use super::{Caller, Query};
use crate::AppState;
use crate::common::events::{event_stream, last_event_id};

/// The changes to the apps the session may read, as server-sent events.
#[utoipa::path(get, path = "/ui/api/events", tag = "console",
    operation_id = "console_events",
    params(
        ("app" = Option<String>, Query, description = "Only this app's changes"),
        ("Last-Event-ID" = Option<String>, Header,
            description = "The number of the last event seen: the stream starts after it"),
    ),
    responses(
        (status = 200, description = "An endless stream of events named `app_created`, \
            `app_destroyed`, `release_created`, `scaled` or `instance`, each with its \
            number as its id and a `console.Change` as its data",
            content_type = "text/event-stream", body = String),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("consoleSession" = [])))]
pub async fn follow(
    State(s): State<AppState>,
    Caller { user, token, .. }: Caller,
    query: Query,
    headers: HeaderMap,
) -> ConsoleResult<Response> {
    let changes = s
        .berth
        .follow_changes(
            &user,
            query.text("app"),
            last_event_id(&headers),
            token.as_deref(),
        )
        .await?;
    Ok(event_stream(changes))
}
