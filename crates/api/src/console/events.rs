//! `GET /ui/api/events`: the change feed of the apps the session may read,
//! as server-sent events (`?app=` for one app), for the page to redraw
//! what changed.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::error::ConsoleResult;
use super::{Caller, Query, views};
use crate::AppState;

/// A comment this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn follow(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    query: Query,
) -> ConsoleResult<Response> {
    let changes = s.berth.follow_changes(&user, query.text("app")).await?;
    let events = changes.map(|change| {
        let event = Event::default().event(change.kind.name());
        Ok::<_, Infallible>(event.data(views::change(&change).to_string()))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}
