//! `GET /ui/api/events`: the change feed of the apps the session may read,
//! as server-sent events (`?app=` for one app), for the page to redraw
//! what changed. Each event carries its number, so a reconnecting page
//! (`Last-Event-ID`) gets what it missed; the stream ends when the session
//! does.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::error::ConsoleResult;
use super::openapi::{BadRequest, NotFound, Unauthorized};
use super::{Caller, Query, json_text, views};
use crate::AppState;

/// A comment this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

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
    let events = changes.map(|change| {
        let event = Event::default()
            .id(change.seq.to_string())
            .event(change.kind.name());
        Ok::<_, Infallible>(event.data(json_text(&views::change(&change))))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

/// The number of the last event the page saw, which `EventSource` sends
/// by itself when it reconnects; anything else there is ignored.
fn last_event_id(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("last-event-id")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
