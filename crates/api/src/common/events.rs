//! The change feed as server-sent events, as every stream of it is sent:
//! each change one event named by its type, with its number as the event's
//! id (so a reconnecting `EventSource` resumes after it) and the dialect's
//! view of it as JSON data, and a comment when the stream is quiet.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use berth_core::feed::Change;
use futures::{Stream, StreamExt};
use serde::Serialize;

/// A comment this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The number of the last event a reconnecting client saw (`EventSource`
/// sends it by itself); anything else there is ignored.
pub fn last_event_id(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("last-event-id")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `changes` as a `text/event-stream`, each change's data written by `view`.
pub fn event_stream<V: Serialize + 'static>(
    changes: impl Stream<Item = Change> + Send + 'static,
    view: fn(&Change) -> V,
) -> Response {
    let events = changes.map(move |change| {
        let event = Event::default()
            .id(change.seq.to_string())
            .event(change.kind.name());
        // Views are structs of strings, numbers and string-keyed maps,
        // which always serialise.
        let data = serde_json::to_string(&view(&change)).unwrap_or_default();
        Ok::<_, Infallible>(event.data(data))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_a_number_is_a_last_event_id() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_event_id(&headers), None);
        headers.insert("last-event-id", HeaderValue::from_static(" 42 "));
        assert_eq!(last_event_id(&headers), Some(42));
        headers.insert("last-event-id", HeaderValue::from_static("x"));
        assert_eq!(last_event_id(&headers), None);
    }
}
