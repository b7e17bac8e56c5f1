//! Applications: list, create, inspect, update, start, stop, redeploy,
//! logs and terminate under `/api/v1/application`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use berth_core::CoreError;
use berth_core::image::split_tag;
use berth_core::model::*;
use berth_core::rules::{self, split_command_line};
use berth_core::workload::{Lifecycle, WorkloadChange, WorkloadSpec};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{ErrorBody, TutumResult, wrong_state};
use super::openapi::{CallerRefusals, EngineDown};
use super::paging::{Filter, filtered_page};
use super::views::{Application, ApplicationList, Logs};
use super::{Body, Caller, views};
use crate::AppState;

/// The one process type of an app made here (Deis's name for an image's own command).
const PROC_TYPE: &str = rules::DEFAULT_PROC_TYPE;

/// An application by uuid: alive, or deleted in the last minutes.
enum Found {
    Live(Box<App>),
    Gone(Box<Tombstone>),
}

async fn find(s: &AppState, user: &User, uuid: &str, need: Level) -> TutumResult<Found> {
    let not_found = || CoreError::not_found(format!("application {uuid} not found"));
    let uuid = Uuid::parse_str(uuid).map_err(|_| not_found())?;
    match s.berth.app_by_uuid(user, uuid, need).await {
        Ok(app) => Ok(Found::Live(Box::new(app))),
        Err(CoreError::NotFound(_)) => match s.berth.tombstone(user, uuid).await? {
            Some(t) => Ok(Found::Gone(Box::new(t))),
            None => Err(not_found().into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// A live app for a mutation; a deleted one is in the wrong state for it.
async fn live(s: &AppState, user: &User, uuid: &str) -> TutumResult<App> {
    match find(s, user, uuid, Level::User).await? {
        Found::Live(app) => Ok(*app),
        Found::Gone(t) => Err(wrong_state("application", gone_state(s, &t).await)),
    }
}

/// The Tutum state of a deleted application.
async fn gone_state(s: &AppState, t: &Tombstone) -> &'static str {
    match s.berth.lifecycle(t).await {
        Lifecycle::Terminating => "Terminating",
        Lifecycle::Terminated => "Terminated",
    }
}

async fn render(s: &AppState, user: &User, found: Found) -> TutumResult<Application> {
    let settings = &s.berth.settings;
    let domain = &settings.domain;
    Ok(match found {
        Found::Live(app) => views::application(
            &s.berth.workload(user, *app).await?,
            domain,
            &settings.public_url,
        ),
        Found::Gone(t) => {
            let terminating = gone_state(s, &t).await == "Terminating";
            views::terminated(&t, terminating, domain)
        }
    })
}

async fn render_live(s: &AppState, user: &User, app: App) -> TutumResult<Json<Application>> {
    Ok(Json(render(s, user, Found::Live(Box::new(app))).await?))
}

/// List the caller's applications, live and recently terminated.
#[utoipa::path(get, path = "/api/v1/application", tag = "tutum",
    operation_id = "tutum_applications_list",
    params(
        ("offset" = Option<usize>, Query, description = "Where the page starts; 0 by default"),
        ("limit" = Option<usize>, Query, description = "Page length: 25 by default, at most 100"),
        ("uuid" = Option<String>, Query, description = "Only the application with this uuid"),
        ("uuid__startswith" = Option<String>, Query, description = "Only applications whose uuid starts so"),
        ("name" = Option<String>, Query, description = "Only applications with this name"),
        ("unique_name" = Option<String>, Query, description = "Only the application with this unique name"),
        ("state" = Option<String>, Query, description = "Only applications in this state, e.g. `Running`"),
    ),
    responses(
        (status = 200, description = "One page of applications", body = ApplicationList),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> TutumResult<Json<ApplicationList>> {
    let settings = &s.berth.settings;
    let domain = &settings.domain;
    let mut objects: Vec<Application> = s
        .berth
        .workloads(&user)
        .await?
        .iter()
        .map(|w| views::application(w, domain, &settings.public_url))
        .collect();
    for t in s.berth.recent_tombstones(&user).await? {
        let terminating = gone_state(&s, &t).await == "Terminating";
        objects.push(views::terminated(&t, terminating, domain));
    }
    let filters: [Filter<Application>; 5] = [
        ("uuid", |a| a.uuid.to_string(), false),
        ("uuid__startswith", |a| a.uuid.to_string(), true),
        ("name", |a| a.name.clone(), false),
        ("unique_name", |a| a.unique_name.clone(), false),
        ("state", |a| a.state.to_string(), false),
    ];
    let (meta, objects) = filtered_page(objects, &filters, &q, "/api/v1/application/");
    Ok(Json(ApplicationList { meta, objects }))
}

/// `image` (what the CLI sends) or `image_tag`, also as `/api/v1/image/<repo>/tag/<tag>/`.
fn image_of(body: &Body) -> TutumResult<Option<String>> {
    let raw = match body.opt_str("image")? {
        Some(i) => Some(i),
        None => body.opt_str("image_tag")?,
    };
    Ok(raw.filter(|r| !r.is_empty()).map(|r| {
        match r
            .strip_prefix("/api/v1/image/")
            .and_then(|rest| rest.trim_end_matches('/').rsplit_once("/tag/"))
        {
            Some((repo, tag)) => format!("{repo}:{tag}"),
            None => r.to_string(),
        }
    }))
}

fn command_of(body: &Body, field: &str) -> TutumResult<Option<Option<Vec<String>>>> {
    Ok(match body.opt_str(field)? {
        None => None,
        Some(line) => {
            let argv = split_command_line(line)
                .map_err(|e| CoreError::invalid_field(field, e.to_string()))?;
            Some((!argv.is_empty()).then_some(argv))
        }
    })
}

fn restart_policy(text: &str) -> TutumResult<RestartPolicy> {
    match text {
        "OFF" => Ok(RestartPolicy::Never),
        "ON_FAILURE" => Ok(RestartPolicy::OnFailure),
        "ALWAYS" => Ok(RestartPolicy::Always),
        other => Err(CoreError::invalid_field(
            "autorestart",
            format!("'{other}' is not OFF, ON_FAILURE or ALWAYS"),
        )
        .into()),
    }
}

/// OFF, ON_SUCCESS, ON_FAILURE or ALWAYS, as the CLI offers them.
fn exit_policy(field: &str, text: &str) -> TutumResult<AutoDestroy> {
    match text {
        "OFF" => Ok(AutoDestroy::Off),
        "ON_SUCCESS" => Ok(AutoDestroy::OnSuccess),
        "ON_FAILURE" => Ok(AutoDestroy::OnFailure),
        "ALWAYS" => Ok(AutoDestroy::Always),
        other => Err(CoreError::invalid_field(
            field,
            format!("'{other}' is not OFF, ON_SUCCESS, ON_FAILURE or ALWAYS"),
        )
        .into()),
    }
}

/// Applies the definition fields present in `body` to `config`; returns whether any was.
fn apply_config(body: &Body, config: &mut ConfigValues, proc_type: &str) -> TutumResult<bool> {
    let obj = body.object()?;
    let mut changed = false;
    if let Some(size) = body.opt_str("container_size")? {
        let (_, memory, cpu) = views::SIZES
            .iter()
            .find(|(name, _, _)| *name == size)
            .ok_or_else(|| {
                CoreError::invalid_field(
                    "container_size",
                    format!("'{size}' is not one of XS, S, M, L, XL"),
                )
            })?;
        config
            .memory
            .insert(proc_type.to_string(), memory.to_string());
        config.cpu.insert(proc_type.to_string(), *cpu);
        changed = true;
    }
    if let Some(vars) = obj.get("container_envvars").filter(|v| !v.is_null()) {
        let list = vars.as_array().ok_or_else(|| {
            CoreError::invalid_field("container_envvars", "must be a list of {key, value}")
        })?;
        config.values.clear();
        for var in list {
            let key = var["key"].as_str().ok_or_else(|| {
                CoreError::invalid_field("container_envvars", "each needs a string key")
            })?;
            let value = rules::value_text("container_envvars", key, &var["value"])?;
            config.values.insert(key.to_string(), value);
        }
        changed = true;
    }
    if let Some(ports) = obj.get("container_ports").filter(|v| !v.is_null()) {
        let list = ports.as_array().ok_or_else(|| {
            CoreError::invalid_field(
                "container_ports",
                "must be a list of {protocol, inner_port}",
            )
        })?;
        config.policy.ports = list
            .iter()
            .map(|p| {
                let inner = p["inner_port"]
                    .as_u64()
                    .or_else(|| p["inner_port"].as_str().and_then(|s| s.parse().ok()))
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        CoreError::invalid_field(
                            "container_ports",
                            "inner_port must be between 1 and 65535",
                        )
                    })?;
                let protocol = p["protocol"].as_str().unwrap_or("tcp").to_ascii_lowercase();
                Ok(PortSpec { inner, protocol })
            })
            .collect::<Result<_, CoreError>>()?;
        changed = true;
    }
    if let Some(p) = body.opt_str("autorestart")? {
        config.policy.restart = restart_policy(p)?;
        changed = true;
    }
    if let Some(p) = body.opt_str("autodestroy")? {
        config.policy.autodestroy = exit_policy("autodestroy", p)?;
        changed = true;
    }
    if let Some(p) = body.opt_str("autoreplace")? {
        config.policy.autoreplace = exit_policy("autoreplace", p)?;
        changed = true;
    }
    Ok(changed)
}

/// What `POST /api/v1/application` reads. The handlers read the fields one
/// by one from a JSON object or a form (where only the text fields fit).
#[derive(ToSchema, serde::Deserialize)]
#[schema(as = TutumNewApplication)]
#[allow(dead_code)] // describes what `create` reads; nothing builds it
pub struct NewApplication {
    /// The name to show; by default the image's repository without namespace.
    name: Option<String>,
    /// Required: `image` or `image_tag`. 1 container and size `XS` by
    /// default; the policies `OFF` by default.
    #[serde(flatten)]
    definition: ApplicationChange,
}

/// What `PATCH /api/v1/application/{uuid}` reads: a scale, and any
/// definition field, which makes a new release.
#[derive(ToSchema, serde::Deserialize)]
#[schema(as = TutumApplicationChange)]
#[allow(dead_code)] // describes what `update` reads; nothing builds it
pub struct ApplicationChange {
    /// A new image, `repository[:tag]`, or an image tag's `resource_uri`.
    image: Option<String>,
    /// Same as `image`, read when `image` is absent.
    image_tag: Option<String>,
    /// How many containers to run, 0 to 100 (numeric text too).
    target_num_containers: Option<i64>,
    /// `XS`, `S`, `M`, `L` or `XL`.
    container_size: Option<String>,
    /// The whole environment, replacing any before.
    container_envvars: Option<Vec<EnvVarSetting>>,
    /// The ports the containers expose.
    container_ports: Option<Vec<PortSetting>>,
    /// `OFF`, `ON_FAILURE` or `ALWAYS`.
    autorestart: Option<String>,
    /// `OFF`, `ON_SUCCESS`, `ON_FAILURE` or `ALWAYS`.
    autodestroy: Option<String>,
    /// `OFF`, `ON_SUCCESS`, `ON_FAILURE` or `ALWAYS`.
    autoreplace: Option<String>,
    /// The command, as one shell-quoted line; empty for the image's own.
    run_command: Option<String>,
    /// The entrypoint, as one shell-quoted line; empty for the image's own.
    entrypoint: Option<String>,
}

/// One environment variable to set.
#[derive(ToSchema, serde::Deserialize)]
#[schema(as = TutumEnvVarSetting)]
#[allow(dead_code)] // describes what `apply_config` reads; nothing builds it
pub struct EnvVarSetting {
    key: String,
    /// Text; a number or a boolean is taken as its text.
    value: String,
}

/// One port to expose.
#[derive(ToSchema, serde::Deserialize)]
#[schema(as = TutumPortSetting)]
#[allow(dead_code)] // describes what `apply_config` reads; nothing builds it
pub struct PortSetting {
    /// 1 to 65535 (numeric text too).
    inner_port: u16,
    /// `tcp` (the default) or `udp`.
    protocol: Option<String>,
}

/// What `POST /api/v1/application/{uuid}/redeploy` reads.
#[derive(ToSchema)]
#[schema(as = TutumRedeploy)]
#[allow(dead_code)] // describes what `redeploy` reads; nothing builds it
pub struct Redeploy {
    /// Switch the image to this tag of its repository first.
    tag: Option<String>,
}

/// Create an application and deploy it; 202 while its containers start.
#[utoipa::path(post, path = "/api/v1/application", tag = "tutum",
    operation_id = "tutum_applications_create",
    request_body(content(
        (NewApplication = "application/json"),
        (NewApplication = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 202, description = "Created; its containers are starting", body = Application),
        (status = 400, description = "A malformed body or a field not valid", body = ErrorBody),
        (status = 403, description = "Over the caller's quota", body = ErrorBody),
        (status = 409, description = "No free unique name like the one asked", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TutumResult<(StatusCode, Json<Application>)> {
    let image = image_of(&body)?
        .ok_or_else(|| CoreError::invalid_field("image", "This field is required."))?;
    let count = body.opt_int("target_num_containers")?.unwrap_or(1);
    let count = rules::validate_scale(PROC_TYPE, count).map_err(|_| {
        CoreError::invalid_field(
            "target_num_containers",
            format!("must be between 0 and {}", rules::MAX_SCALE),
        )
    })?;
    let mut config = ConfigValues {
        policy: RunPolicy {
            restart: RestartPolicy::Never,
            ..RunPolicy::default()
        },
        ..ConfigValues::default()
    };
    let (_, memory, cpu) = views::SIZES[0];
    config.memory.insert(PROC_TYPE.into(), memory.into());
    config.cpu.insert(PROC_TYPE.into(), cpu);
    apply_config(&body, &mut config, PROC_TYPE)?;
    // The name is kept as given; the app's id (Tutum's unique_name) is its slug.
    let name = body
        .opt_str("name")?
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| views::default_name(&image))
        .to_string();
    let spec = WorkloadSpec {
        name: name.clone(),
        kind: AppKind::App,
        image,
        command: command_of(&body, "run_command")?.flatten(),
        entrypoint: command_of(&body, "entrypoint")?.flatten(),
        proc_type: PROC_TYPE.into(),
        count,
        config,
        desired: Desired::On,
        exact_id: false,
        meta: json!({ views::NAME_KEY: name }),
        stop_at: None,
    };
    let app = s.berth.create_workload(&user, spec).await?;
    // Tutum creates and deploys asynchronously: 202, as the seed documents.
    Ok((StatusCode::ACCEPTED, render_live(&s, &user, app).await?))
}

/// One application, live or recently terminated.
#[utoipa::path(get, path = "/api/v1/application/{uuid}", tag = "tutum",
    operation_id = "tutum_applications_detail",
    params(("uuid" = String, Path, description = "The application's uuid")),
    responses(
        (status = 200, description = "The application", body = Application),
        (status = 404, description = "No such application the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<Json<Application>> {
    let found = find(&s, &user, &uuid, Level::Read).await?;
    Ok(Json(render(&s, &user, found).await?))
}

/// Change an application's scale or definition.
///
/// `target_num_containers` scales it; any other definition field makes a
/// new release. An empty body changes nothing.
#[utoipa::path(patch, path = "/api/v1/application/{uuid}", tag = "tutum",
    operation_id = "tutum_applications_update",
    params(("uuid" = String, Path, description = "The application's uuid")),
    request_body(content(
        (ApplicationChange = "application/json"),
        (ApplicationChange = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 202, description = "Changed; its containers are converging", body = Application),
        (status = 400, description = "A malformed body, a field not valid, or a terminated application", body = ErrorBody),
        (status = 403, description = "The caller may not change it, or over quota", body = ErrorBody),
        (status = 404, description = "No such application the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn update(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
    body: Body,
) -> TutumResult<(StatusCode, Json<Application>)> {
    let app = live(&s, &user, &uuid).await?;
    let proc_type = app
        .structure
        .keys()
        .next()
        .cloned()
        .unwrap_or_else(|| PROC_TYPE.into());
    let mut config = s.berth.current_config(&app).await?.values;
    let config_changed = apply_config(&body, &mut config, &proc_type)?;
    let change = WorkloadChange {
        image: image_of(&body)?,
        command: command_of(&body, "run_command")?,
        entrypoint: command_of(&body, "entrypoint")?,
        config: config_changed.then_some(config),
    };
    let target = body.opt_int("target_num_containers")?;
    if let Some(n) = target {
        rules::validate_scale(&proc_type, n).map_err(|_| {
            CoreError::invalid_field(
                "target_num_containers",
                format!("must be between 0 and {}", rules::MAX_SCALE),
            )
        })?;
    }
    s.berth.change_workload(&user, &app, change).await?;
    if let Some(n) = target {
        s.berth.set_count(&user, &app, &proc_type, n).await?;
    }
    accepted(&s, &user, &app).await
}

/// The answer to a change of an application: 202 with it as it is now.
async fn accepted(
    s: &AppState,
    user: &User,
    app: &App,
) -> TutumResult<(StatusCode, Json<Application>)> {
    let app = s.berth.app(user, &app.id, Level::Read).await?;
    Ok((StatusCode::ACCEPTED, render_live(s, user, app).await?))
}

/// Start and stop: the application's desired state; stopping a stopped one is refused.
async fn set_desired(
    s: &AppState,
    user: &User,
    uuid: &str,
    desired: Desired,
) -> TutumResult<(StatusCode, Json<Application>)> {
    let app = live(s, user, uuid).await?;
    if desired == Desired::Off && app.desired == Desired::Off {
        return Err(wrong_state("application", "Stopped"));
    }
    s.berth.set_desired(user, &app, desired).await?;
    accepted(s, user, &app).await
}

/// Start a stopped application's containers.
#[utoipa::path(post, path = "/api/v1/application/{uuid}/start", tag = "tutum",
    operation_id = "tutum_applications_start",
    params(("uuid" = String, Path, description = "The application's uuid")),
    responses(
        (status = 202, description = "Starting", body = Application),
        (status = 400, description = "The application is terminated", body = ErrorBody),
        (status = 403, description = "The caller may not change it", body = ErrorBody),
        (status = 404, description = "No such application the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn start(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Application>)> {
    set_desired(&s, &user, &uuid, Desired::On).await
}

/// Stop an application's containers.
#[utoipa::path(post, path = "/api/v1/application/{uuid}/stop", tag = "tutum",
    operation_id = "tutum_applications_stop",
    params(("uuid" = String, Path, description = "The application's uuid")),
    responses(
        (status = 202, description = "Stopping", body = Application),
        (status = 400, description = "The application is stopped already, or terminated", body = ErrorBody),
        (status = 403, description = "The caller may not change it", body = ErrorBody),
        (status = 404, description = "No such application the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn stop(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Application>)> {
    set_desired(&s, &user, &uuid, Desired::Off).await
}

/// Replace every container; `{"tag": t}` switches the image to that tag first.
#[utoipa::path(post, path = "/api/v1/application/{uuid}/redeploy", tag = "tutum",
    operation_id = "tutum_applications_redeploy",
    params(("uuid" = String, Path, description = "The application's uuid")),
    request_body(content(
        (Redeploy = "application/json"),
        (Redeploy = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 202, description = "Redeploying", body = Application),
        (status = 400, description = "A malformed body, an application without an image, or a terminated one", body = ErrorBody),
        (status = 403, description = "The caller may not change it", body = ErrorBody),
        (status = 404, description = "No such application the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn redeploy(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
    body: Body,
) -> TutumResult<(StatusCode, Json<Application>)> {
    let app = live(&s, &user, &uuid).await?;
    match body.opt_str("tag")?.filter(|t| !t.is_empty()) {
        Some(tag) => {
            let build = s
                .berth
                .current_build(&app)
                .await?
                .ok_or_else(|| CoreError::invalid("the application has no image"))?;
            let (repo, _) = split_tag(&build.image);
            let change = WorkloadChange {
                image: Some(format!("{repo}:{tag}")),
                ..WorkloadChange::default()
            };
            s.berth.change_workload(&user, &app, change).await?;
        }
        None => {
            s.berth.redeploy(&user, &app).await?;
        }
    }
    accepted(&s, &user, &app).await
}

/// The last 1000 lines its containers and the platform wrote about it.
#[utoipa::path(get, path = "/api/v1/application/{uuid}/logs", tag = "tutum",
    operation_id = "tutum_applications_logs",
    params(("uuid" = String, Path, description = "The application's uuid")),
    responses(
        (status = 200, description = "The lines; empty for a terminated application", body = Logs),
        (status = 404, description = "No such application the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn logs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<Json<Logs>> {
    let app = match find(&s, &user, &uuid, Level::Read).await? {
        Found::Live(app) => *app,
        Found::Gone(_) => {
            return Ok(Json(Logs {
                logs: String::new(),
            }));
        }
    };
    let lines = s.berth.container_output(&app, 1000).await?;
    let text: String = lines
        .iter()
        .map(|l| format!("{}\n", crate::deis::log_line(l)))
        .collect();
    Ok(Json(Logs { logs: text }))
}

/// Terminate an application.
///
/// At once: 202 with it, `Terminating` until its containers are gone.
#[utoipa::path(delete, path = "/api/v1/application/{uuid}", tag = "tutum",
    operation_id = "tutum_applications_terminate",
    params(("uuid" = String, Path, description = "The application's uuid")),
    responses(
        (status = 202, description = "Terminating", body = Application),
        (status = 400, description = "The application is terminated already", body = ErrorBody),
        (status = 403, description = "The caller may not delete it", body = ErrorBody),
        (status = 404, description = "No such application the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn terminate(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Application>)> {
    let app = match find(&s, &user, &uuid, Level::Admin).await? {
        Found::Live(app) => app,
        Found::Gone(t) => return Err(wrong_state("application", gone_state(&s, &t).await)),
    };
    s.berth.delete_app(&user, &app).await?;
    let t = s
        .berth
        .tombstone(&user, app.uuid)
        .await?
        .ok_or_else(|| CoreError::Internal("tombstone missing after delete".into()))?;
    let mut object = views::terminated(&t, true, &s.berth.settings.domain);
    object.state = "Terminating";
    Ok((StatusCode::ACCEPTED, Json(object)))
}
