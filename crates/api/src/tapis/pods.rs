//! Pods: list, create, get, update, delete, start, stop, restart, logs,
//! credentials and the derived definition (permissions: `super::permissions`).

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Path, Query, State};
use berth_core::CoreError;
use berth_core::model::*;
use berth_core::pods::{DEFAULT_TIME_TO_STOP, PodDefinition, pod_meta};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::error::TapisResult;
use super::openapi::Refusals;
use super::views::{
    self, Definition, Envelope, Metadata, Pod, PodCredentials, PodLogs, ok, ok_with_metadata,
};
use super::{Body, Caller};
use crate::AppState;

/// An answer in the Tapis envelope.
type Answer<T> = TapisResult<Json<Envelope<T>>>;

/// The fields of a new pod (tapipy's `NewPod`); a field a pod does not
/// have is refused.
#[derive(ToSchema, serde::Deserialize)]
#[schema(as = TapisNewPod)]
#[allow(dead_code)]
pub struct NewPod {
    /// `[a-z][a-z0-9]+`, 3 to 64 characters.
    pod_id: String,
    #[serde(flatten)]
    definition: PodFields,
}

/// The fields a pod update may change (tapipy's `UpdatePod` and the rest
/// of a definition; `pod_id` only unchanged); each is optional.
#[derive(ToSchema, serde::Deserialize)]
#[schema(as = TapisPodChange)]
#[allow(dead_code)]
pub struct PodChange {
    pod_id: Option<String>,
    #[serde(flatten)]
    definition: PodFields,
}

/// A pod's definition fields, each optional, as a create or an update
/// reads them.
#[derive(ToSchema, serde::Deserialize)]
#[schema(as = TapisPodFields)]
#[allow(dead_code)]
pub struct PodFields {
    /// An image the allow-list names; or give `template`.
    image: Option<String>,
    /// `name[:tag[@timestamp]]`.
    template: Option<String>,
    description: Option<String>,
    /// The entrypoint argv.
    command: Option<Vec<String>>,
    arguments: Option<Vec<String>>,
    environment_variables: Option<BTreeMap<String, Value>>,
    /// `ON` (the default on create), `OFF` or `RESTART`.
    status_requested: Option<String>,
    #[schema(value_type = Option<Object>)]
    volume_mounts: Option<Map<String, Value>>,
    /// Seconds; -1: unlimited; else 300 to 3153600000.
    time_to_stop_default: Option<i64>,
    time_to_stop_instance: Option<i64>,
    #[schema(value_type = Option<Object>)]
    networking: Option<Map<String, Value>>,
    /// `cpu_request`, `cpu_limit`, `mem_request`, `mem_limit`, `gpus`.
    #[schema(value_type = Option<Object>)]
    resources: Option<Map<String, Value>>,
    compute_queue: Option<String>,
    secret_map: Option<BTreeMap<String, Value>>,
    #[schema(value_type = Option<Object>)]
    template_overrides: Option<Map<String, Value>>,
}

/// A pod as Tapis shows it: its definition plus live status.
async fn render(s: &AppState, user: &User, app: App) -> TapisResult<Pod> {
    let w = s.berth.workload(user, app).await?;
    Ok(views::pod(&w, &s.berth.settings.domain))
}

/// The pods the caller may see.
#[utoipa::path(get, path = "/v3/pods", tag = "tapis", operation_id = "tapis_pods_list",
    responses((status = 200, description = "The pods", body = Envelope<Vec<Pod>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_pods(State(s): State<AppState>, Caller { user, .. }: Caller) -> Answer<Vec<Pod>> {
    let mut out = Vec::new();
    for app in s.berth.pods(&user).await? {
        out.push(render(&s, &user, app).await?);
    }
    Ok(ok("Pods retrieved successfully.", out))
}

/// Creates a pod, from an image or a template.
#[utoipa::path(post, path = "/v3/pods", tag = "tapis", operation_id = "tapis_pods_create",
    request_body = NewPod,
    responses((status = 200, description = "The new pod", body = Envelope<Pod>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn create_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> Answer<Pod> {
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

/// A pod. `include_configs` only changes how config volume mounts show,
/// and here they always show as given: it is checked, then has no effect.
#[utoipa::path(get, path = "/v3/pods/{pod_id}", tag = "tapis", operation_id = "tapis_pod_get",
    params(("pod_id" = String, Path),
        ("include_configs" = Option<bool>, Query, description = "Accepted; no effect"),
        ("check_unresolved" = Option<bool>, Query, description = "List `metadata.unresolved_patterns` (default true)")),
    responses((status = 200, description = "The pod", body = Envelope<Pod>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<Pod> {
    flag(&q, "include_configs", false)?;
    let check_unresolved = flag(&q, "check_unresolved", true)?;
    let app = s.berth.pod(&user, &id, Level::Read).await?;
    let metadata = if check_unresolved {
        let meta = pod_meta(&app);
        let (_, unresolved) = meta.derived.resolved_environment(meta.credentials.as_ref());
        Metadata {
            unresolved_patterns: Some(unresolved),
        }
    } else {
        Metadata::default()
    };
    Ok(ok_with_metadata(
        "Pod retrieved successfully.",
        render(&s, &user, app).await?,
        metadata,
    ))
}

/// Changes a pod's definition; it applies at the next start or restart.
#[utoipa::path(put, path = "/v3/pods/{pod_id}", tag = "tapis", operation_id = "tapis_pod_update",
    params(("pod_id" = String, Path)),
    request_body = PodChange,
    responses((status = 200, description = "The pod as it is now", body = Envelope<Pod>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn update_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Answer<Pod> {
    let app = s.berth.update_pod(&user, &id, body.object()?).await?;
    updated(&s, &user, app).await
}

/// Deletes a pod and its container.
#[utoipa::path(delete, path = "/v3/pods/{pod_id}", tag = "tapis", operation_id = "tapis_pod_delete",
    params(("pod_id" = String, Path)),
    responses((status = 200, description = "Deleted; `result` is an empty string", body = Envelope<String>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn delete_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> Answer<String> {
    s.berth.delete_pod(&user, &id).await?;
    Ok(ok("Pod successfully deleted.", String::new()))
}

/// The answer to a change of a pod: the pod as it is now.
async fn updated(s: &AppState, user: &User, app: App) -> Answer<Pod> {
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
) -> Answer<Pod> {
    if flag(q, "grab_latest_template_tag", false)? {
        s.berth.grab_latest_template_tag(user, id).await?;
    }
    let app = match how {
        Launch::Start => s.berth.start_pod(user, id).await?,
        Launch::Restart => s.berth.restart_pod(user, id).await?,
    };
    updated(s, user, app).await
}

/// Starts a pod (`status_requested` ON).
#[utoipa::path(get, path = "/v3/pods/{pod_id}/start", tag = "tapis", operation_id = "tapis_pod_start",
    params(("pod_id" = String, Path), ("grab_latest_template_tag" = Option<bool>, Query, description = "First move a templated pod to its template tag's newest version")),
    responses((status = 200, description = "The pod as it is now", body = Envelope<Pod>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn start_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<Pod> {
    launch(&s, &user, &id, &q, Launch::Start).await
}

/// Stops a pod (`status_requested` OFF).
#[utoipa::path(get, path = "/v3/pods/{pod_id}/stop", tag = "tapis", operation_id = "tapis_pod_stop",
    params(("pod_id" = String, Path)),
    responses((status = 200, description = "The pod as it is now", body = Envelope<Pod>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn stop_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> Answer<Pod> {
    let app = s.berth.stop_pod(&user, &id).await?;
    updated(&s, &user, app).await
}

/// Restarts a pod: its container is replaced.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/restart", tag = "tapis", operation_id = "tapis_pod_restart",
    params(("pod_id" = String, Path), ("grab_latest_template_tag" = Option<bool>, Query, description = "First move a templated pod to its template tag's newest version")),
    responses((status = 200, description = "The pod as it is now", body = Envelope<Pod>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn restart_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<Pod> {
    launch(&s, &user, &id, &q, Launch::Restart).await
}

/// A pod's container output and action log.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/logs", tag = "tapis", operation_id = "tapis_pod_logs",
    params(("pod_id" = String, Path)),
    responses((status = 200, description = "The logs", body = Envelope<PodLogs>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_pod_logs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> Answer<PodLogs> {
    let (logs, action_logs) = s.berth.pod_logs(&user, &id).await?;
    Ok(ok(
        "Pod logs retrieved successfully.",
        PodLogs { action_logs, logs },
    ))
}

/// The user name and password generated for a pod.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/credentials", tag = "tapis", operation_id = "tapis_pod_credentials",
    params(("pod_id" = String, Path)),
    responses((status = 200, description = "The credentials", body = Envelope<PodCredentials>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_pod_credentials(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> Answer<PodCredentials> {
    let app = s.berth.pod(&user, &id, Level::User).await?;
    let creds = pod_meta(&app)
        .credentials
        .ok_or_else(|| CoreError::not_found("the pod has no credentials"))?;
    Ok(ok(
        "Pod credentials retrieved successfully.",
        PodCredentials {
            user_password: creds.user_password,
            user_username: creds.user_username,
        },
    ))
}

/// A pod's definition after the template merge. With `resolve_secrets=true`
/// (pod admins only) the environment shows the values the container gets,
/// secrets filled in; else as written.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/derived", tag = "tapis", operation_id = "tapis_pod_derived",
    params(("pod_id" = String, Path),
        ("include_configs" = Option<bool>, Query, description = "Accepted; no effect"),
        ("resolve_secrets" = Option<bool>, Query, description = "Fill the secrets in (the pod's admins only)")),
    responses((status = 200, description = "The derived definition", body = Envelope<Definition>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_derived_pod(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<Definition> {
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
    let mut v = Definition::of(&meta.derived);
    v.pod_id = app.id.clone();
    // As the pod itself shows it: what the pod runs with when nothing sets it.
    v.time_to_stop_default = Some(
        meta.derived
            .time_to_stop_default
            .unwrap_or(DEFAULT_TIME_TO_STOP),
    );
    if resolve_secrets {
        let (env, _) = meta.derived.resolved_environment(meta.credentials.as_ref());
        v.environment_variables = env;
    } else {
        v.hide_secrets();
    }
    Ok(ok("Derived pod retrieved successfully.", v))
}
