//! Pods: list, create, get, update, delete, start, stop, restart, logs,
//! credentials and the derived definition (permissions: `super::permissions`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use berth_core::CoreError;
use berth_core::model::*;
use berth_core::pods::{DEFAULT_TIME_TO_STOP, PodDefinition, hide_secret_map, pod_meta};
use serde_json::{Value, json};

use super::error::TapisResult;
use super::views::{self, ok, ok_with_metadata};
use super::{Body, Caller};
use crate::AppState;

/// A pod as Tapis shows it: its definition plus live status.
async fn render(s: &AppState, user: &User, app: App) -> TapisResult<Value> {
    let w = s.berth.workload(user, app).await?;
    Ok(views::pod(&w, &s.berth.settings.domain))
}

pub async fn list_pods(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Value>> {
    let mut out = Vec::new();
    for app in s.berth.pods(&user).await? {
        out.push(render(&s, &user, app).await?);
    }
    Ok(ok("Pods retrieved successfully.", Value::Array(out)))
}

pub async fn create_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Value>> {
    let definition = PodDefinition::from_fields(body.object()?)?;
    let template = match definition.template.as_str() {
        "" => None,
        reference => Some(s.berth.resolve_template(&user, reference).await.map_err(
            |e| match e {
                CoreError::NotFound(m) => CoreError::invalid_field("template", m),
                other => other,
            },
        )?),
    };
    let app = s.berth.create_pod(&user, definition, template).await?;
    Ok(ok(
        "Pod created successfully.",
        render(&s, &user, app).await?,
    ))
}

/// A yes/no query parameter; `default` when absent.
fn flag(q: &HashMap<String, String>, name: &str, default: bool) -> TapisResult<bool> {
    match q.get(name) {
        None => Ok(default),
        Some(text) => Ok(crate::common::parse_flag(name, text)?),
    }
}

/// `include_configs` only changes how config volume mounts show, and here
/// they always show as given: it is checked, then has no effect.
pub async fn get_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Json<Value>> {
    flag(&q, "include_configs", false)?;
    let check_unresolved = flag(&q, "check_unresolved", true)?;
    let app = s.berth.pod(&user, &id, Level::Read).await?;
    let metadata = if check_unresolved {
        let meta = pod_meta(&app);
        let (_, unresolved) = meta.derived.resolved_environment(meta.credentials.as_ref());
        json!({ "unresolved_patterns": unresolved })
    } else {
        json!({})
    };
    Ok(ok_with_metadata(
        "Pod retrieved successfully.",
        render(&s, &user, app).await?,
        metadata,
    ))
}

pub async fn update_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Value>> {
    let app = s.berth.update_pod(&user, &id, body.object()?).await?;
    updated(&s, &user, app).await
}

pub async fn delete_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    s.berth.delete_pod(&user, &id).await?;
    Ok(ok("Pod successfully deleted.", json!("")))
}

/// The answer to a change of a pod: the pod as it is now.
async fn updated(s: &AppState, user: &User, app: App) -> TapisResult<Json<Value>> {
    Ok(ok("Pod updated successfully.", render(s, user, app).await?))
}

/// Start and restart, the two that honour `grab_latest_template_tag`.
enum Launch {
    Start,
    Restart,
}

/// Moves the pod to its template's latest tag first when asked, then launches it.
async fn launch(
    s: &AppState,
    user: &User,
    id: &str,
    q: &HashMap<String, String>,
    how: Launch,
) -> TapisResult<Json<Value>> {
    if flag(q, "grab_latest_template_tag", false)? {
        s.berth.grab_latest_template_tag(user, id).await?;
    }
    let app = match how {
        Launch::Start => s.berth.start_pod(user, id).await?,
        Launch::Restart => s.berth.restart_pod(user, id).await?,
    };
    updated(s, user, app).await
}

pub async fn start_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Json<Value>> {
    launch(&s, &user, &id, &q, Launch::Start).await
}

pub async fn stop_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let app = s.berth.stop_pod(&user, &id).await?;
    updated(&s, &user, app).await
}

pub async fn restart_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Json<Value>> {
    launch(&s, &user, &id, &q, Launch::Restart).await
}

pub async fn get_pod_logs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let (logs, action_logs) = s.berth.pod_logs(&user, &id).await?;
    Ok(ok(
        "Pod logs retrieved successfully.",
        json!({"logs": logs, "action_logs": action_logs}),
    ))
}

pub async fn get_pod_credentials(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let app = s.berth.pod(&user, &id, Level::User).await?;
    let creds = pod_meta(&app)
        .credentials
        .ok_or_else(|| CoreError::not_found("the pod has no credentials"))?;
    Ok(ok("Pod credentials retrieved successfully.", json!(creds)))
}

/// With `resolve_secrets=true` (pod admins only) the environment shows the
/// values the container gets, secrets filled in; else as written.
pub async fn get_derived_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Json<Value>> {
    flag(&q, "include_configs", false)?;
    let resolve_secrets = flag(&q, "resolve_secrets", false)?;
    let app = s.berth.pod(&user, &id, Level::Read).await?;
    if resolve_secrets {
        s.berth
            .pod(&user, &id, Level::Admin)
            .await
            .map_err(|_| CoreError::Forbidden("resolve_secrets is for the pod's admins".into()))?;
    }
    let meta = pod_meta(&app);
    let mut v = views::definition_json(&meta.derived);
    v["pod_id"] = json!(app.id);
    // As the pod itself shows it: what the pod runs with when nothing sets it.
    v["time_to_stop_default"] = json!(
        meta.derived
            .time_to_stop_default
            .unwrap_or(DEFAULT_TIME_TO_STOP)
    );
    if resolve_secrets {
        let (env, _) = meta.derived.resolved_environment(meta.credentials.as_ref());
        v["environment_variables"] = json!(env);
    } else {
        hide_secret_map(&mut v);
    }
    Ok(ok("Derived pod retrieved successfully.", v))
}
