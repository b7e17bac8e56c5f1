//! The change feed as server-sent events, as every stream of it is sent:
//! each change one event named by its type, with its number as the event's
//! id (so a reconnecting `EventSource` resumes after it) and the dialect's
//! view of it as JSON data, and a comment when the stream is quiet.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use berth_core::feed::{Change, ChangeKind};
use berth_core::model::rfc3339;
use futures::{Stream, StreamExt};
use serde::Serialize;
use utoipa::ToSchema;

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

/// A view as the JSON text of a server-sent event's data.
pub fn json_data(view: &impl Serialize) -> String {
    // Views are structs of strings, numbers and string-keyed maps, which
    // always serialise.
    serde_json::to_string(view).unwrap_or_default()
}

/// `changes` as a `text/event-stream`, each change's data its [`ChangeView`]
/// (the same in every dialect that streams changes).
pub fn event_stream(changes: impl Stream<Item = Change> + Send + 'static) -> Response {
    let events = changes.map(move |change| {
        let event = Event::default()
            .id(change.seq.to_string())
            .event(change.kind.name());
        Ok::<_, Infallible>(event.data(json_data(&view(&change))))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// One change, the `data` of a server-sent event whose `event` is its `type`
/// and whose `id` is its place in the feed. Fields are in alphabetical
/// order, as the wire has them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = berth::Change)]
pub struct ChangeView {
    /// The app's name.
    pub app: String,
    /// When it happened (RFC 3339).
    pub at: String,
    /// `instance` only: the container, as `type.num`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// `instance` only: the release the container runs (during a rollout
    /// the same `type.num` runs in two).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<i64>,
    /// `instance` only: the container's new state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// `scaled` only: how many containers of each process type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structure: Option<BTreeMap<String, u32>>,
    /// `app_created`, `app_destroyed`, `release_created`, `scaled` or `instance`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `release_created` only: the new release's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// One change on the wire: its type, app and time, and what it carries.
pub fn view(change: &Change) -> ChangeView {
    let mut view = ChangeView {
        app: change.app.clone(),
        at: rfc3339(change.at),
        instance: None,
        release: None,
        state: None,
        structure: None,
        kind: change.kind.name(),
        version: None,
    };
    match &change.kind {
        ChangeKind::AppCreated | ChangeKind::AppDestroyed => {}
        ChangeKind::ReleaseCreated { version } => view.version = Some(*version),
        ChangeKind::Scaled { structure } => view.structure = Some(structure.clone()),
        ChangeKind::InstanceState {
            instance,
            release,
            state,
        } => {
            view.instance = Some(instance.clone());
            view.release = Some(*release);
            view.state = Some(state.as_str());
        }
    }
    view
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

    #[test]
    fn a_change_is_written_with_sorted_keys_and_only_what_it_carries() {
        let change = Change::new(
            "shop",
            None,
            ChangeKind::Scaled {
                structure: BTreeMap::from([("web".into(), 2)]),
            },
        );
        let scaled = view(&change);
        let declared = serde_json::to_string(&scaled).unwrap();
        assert_eq!(declared, serde_json::to_value(&scaled).unwrap().to_string());
        assert!(
            declared.starts_with(r#"{"app":"shop","at":""#),
            "{declared}"
        );
        assert!(
            declared.ends_with(r#","structure":{"web":2},"type":"scaled"}"#),
            "{declared}"
        );
        let change = Change::new(
            "shop",
            None,
            ChangeKind::InstanceState {
                instance: "web.1".into(),
                release: 3,
                state: berth_core::model::InstanceState::Up,
            },
        );
        let declared = serde_json::to_string(&view(&change)).unwrap();
        assert!(
            declared
                .ends_with(r#","instance":"web.1","release":3,"state":"up","type":"instance"}"#),
            "{declared}"
        );
    }
}
