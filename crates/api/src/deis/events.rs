//! `GET /v1/events` and `GET /v1/apps/{id}/events`: the change feed as
//! server-sent events, of the apps the caller may read.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use berth_core::feed::{Change, ChangeKind};
use berth_core::model::rfc3339;
use futures::StreamExt;
use serde_json::{Value, json};

use super::Caller;
use super::error::DeisResult;
use crate::AppState;

/// A comment this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

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
    Ok(stream(changes))
}

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
    Ok(stream(changes))
}

/// The number of the last event a reconnecting client saw (`EventSource`
/// sends it by itself); anything else there is ignored.
pub(crate) fn last_event_id(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("last-event-id")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn stream(changes: impl futures::Stream<Item = Change> + Send + 'static) -> Response {
    let events = changes.map(|change| {
        let event = Event::default()
            .id(change.seq.to_string())
            .event(change.kind.name());
        Ok::<_, Infallible>(event.data(view(&change).to_string()))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// One change on the wire: its type, app and time, and what it carries.
fn view(change: &Change) -> Value {
    let mut view = json!({
        "type": change.kind.name(),
        "app": change.app,
        "at": rfc3339(change.at),
    });
    match &change.kind {
        ChangeKind::AppCreated | ChangeKind::AppDestroyed => {}
        ChangeKind::ReleaseCreated { version } => view["version"] = json!(version),
        ChangeKind::Scaled { structure } => view["structure"] = json!(structure),
        ChangeKind::InstanceState {
            instance,
            release,
            state,
        } => {
            view["instance"] = json!(instance);
            view["release"] = json!(release);
            view["state"] = json!(state.as_str());
        }
    }
    view
}
