//! `GET /v1/events` and `GET /v1/apps/{id}/events`: the change feed as
//! server-sent events, of the apps the caller may read.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use berth_core::feed::{Change, ChangeKind};
use berth_core::model::rfc3339;
use serde::Serialize;
use utoipa::ToSchema;

use super::Caller;
use super::error::{DeisResult, ErrorBody};
use crate::AppState;
use crate::common::events::{event_stream, last_event_id};

/// One change, the `data` of a server-sent event whose `event` is its `type`
/// and whose `id` is its place in the feed. Fields are in alphabetical
/// order, as the wire has them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Change)]
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
    Ok(event_stream(changes, view))
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
    Ok(event_stream(changes, view))
}

/// One change on the wire: its type, app and time, and what it carries.
fn view(change: &Change) -> ChangeView {
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
