//! Containers: list, inspect, start, stop, logs and terminate under
//! `/api/v1/container`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use berth_core::CoreError;
use berth_core::model::*;
use uuid::Uuid;

use super::error::{ErrorBody, TutumResult, wrong_state};
use super::openapi::{CallerRefusals, EngineDown};
use super::paging::{Filter, filtered_page, passes};
use super::views::{Container, ContainerList, Logs};
use super::{Caller, views};
use crate::AppState;

async fn find(s: &AppState, user: &User, uuid: &str, need: Level) -> TutumResult<(App, Instance)> {
    let uuid = Uuid::parse_str(uuid)
        .map_err(|_| CoreError::not_found(format!("container {uuid} not found")))?;
    Ok(s.berth.instance(user, uuid, need).await?)
}

async fn render(s: &AppState, app: &App, instance: &Instance) -> TutumResult<Container> {
    let build = s.berth.current_build(app).await?;
    let config = s.berth.current_config(app).await?;
    Ok(views::container(
        app,
        build.as_ref(),
        &config,
        instance,
        &s.berth.settings.domain,
    ))
}

/// Re-reads the instance after a change; a terminated one is rendered as such.
async fn render_after(s: &AppState, app: &App, before: Instance) -> TutumResult<Json<Container>> {
    let instance = s.berth.instance_now(before).await;
    Ok(Json(render(s, app, &instance).await?))
}

/// List the containers of the caller's applications.
#[utoipa::path(get, path = "/api/v1/container", tag = "tutum",
    operation_id = "tutum_containers_list",
    params(
        ("offset" = Option<usize>, Query, description = "Where the page starts; 0 by default"),
        ("limit" = Option<usize>, Query, description = "Page length: 25 by default, at most 100"),
        ("uuid" = Option<String>, Query, description = "Only the container with this uuid"),
        ("uuid__startswith" = Option<String>, Query, description = "Only containers whose uuid starts so"),
        ("unique_name" = Option<String>, Query, description = "Only the container with this unique name"),
        ("state" = Option<String>, Query, description = "Only containers in this state, e.g. `Running`"),
        ("application__uuid" = Option<String>, Query, description = "Only the containers of the application with this uuid"),
        ("application__uuid__startswith" = Option<String>, Query, description = "Only the containers of applications whose uuid starts so"),
        ("application__unique_name" = Option<String>, Query, description = "Only the containers of the application with this unique name"),
    ),
    responses(
        (status = 200, description = "One page of containers", body = ContainerList),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> TutumResult<Json<ContainerList>> {
    let domain = &s.berth.settings.domain;
    let mut objects = Vec::new();
    for w in s.berth.workloads(&user).await? {
        let app_uuid = w.app.uuid.to_string();
        let app_filters = [
            ("application__uuid", app_uuid.as_str(), false),
            ("application__uuid__startswith", app_uuid.as_str(), true),
            ("application__unique_name", w.app.id.as_str(), false),
        ];
        let app_matches = app_filters
            .iter()
            .all(|(param, have, prefix)| passes(&q, param, have, *prefix));
        if !app_matches {
            continue;
        }
        for i in w
            .instances
            .iter()
            .filter(|i| i.state != InstanceState::Destroyed)
        {
            objects.push(views::container(
                &w.app,
                w.build.as_ref(),
                &w.config,
                i,
                domain,
            ));
        }
    }
    let filters: [Filter<Container>; 4] = [
        ("unique_name", |c| c.unique_name.clone(), false),
        ("uuid", |c| c.uuid.to_string(), false),
        ("uuid__startswith", |c| c.uuid.to_string(), true),
        ("state", |c| c.state.to_string(), false),
    ];
    let (meta, objects) = filtered_page(objects, &filters, &q, "/api/v1/container/");
    Ok(Json(ContainerList { meta, objects }))
}

/// One container.
#[utoipa::path(get, path = "/api/v1/container/{uuid}", tag = "tutum",
    operation_id = "tutum_containers_detail",
    params(("uuid" = String, Path, description = "The container's uuid")),
    responses(
        (status = 200, description = "The container", body = Container),
        (status = 404, description = "No such container the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<Json<Container>> {
    let (app, instance) = find(&s, &user, &uuid, Level::Read).await?;
    Ok(Json(render(&s, &app, &instance).await?))
}

/// Start a stopped container.
#[utoipa::path(post, path = "/api/v1/container/{uuid}/start", tag = "tutum",
    operation_id = "tutum_containers_start",
    params(("uuid" = String, Path, description = "The container's uuid")),
    responses(
        (status = 202, description = "Starting", body = Container),
        (status = 400, description = "Its application is stopped", body = ErrorBody),
        (status = 403, description = "The caller may not change it", body = ErrorBody),
        (status = 404, description = "No such container the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn start(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Container>)> {
    let (app, instance) = find(&s, &user, &uuid, Level::User).await?;
    if app.desired == Desired::Off {
        return Err(wrong_state("application", "Stopped"));
    }
    s.berth
        .set_instance_stopped(&user, &app, &instance, false)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        render_after(&s, &app, instance).await?,
    ))
}

/// Stop a container; its application keeps the others running.
#[utoipa::path(post, path = "/api/v1/container/{uuid}/stop", tag = "tutum",
    operation_id = "tutum_containers_stop",
    params(("uuid" = String, Path, description = "The container's uuid")),
    responses(
        (status = 202, description = "Stopping", body = Container),
        (status = 400, description = "It, or its application, is stopped already", body = ErrorBody),
        (status = 403, description = "The caller may not change it", body = ErrorBody),
        (status = 404, description = "No such container the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn stop(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Container>)> {
    let (app, instance) = find(&s, &user, &uuid, Level::User).await?;
    let state = views::container_state(&instance);
    if state == "Stopped" || app.desired == Desired::Off {
        return Err(wrong_state("container", "Stopped"));
    }
    s.berth
        .set_instance_stopped(&user, &app, &instance, true)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        render_after(&s, &app, instance).await?,
    ))
}

/// The last 1000 lines the container wrote.
#[utoipa::path(get, path = "/api/v1/container/{uuid}/logs", tag = "tutum",
    operation_id = "tutum_containers_logs",
    params(("uuid" = String, Path, description = "The container's uuid")),
    responses(
        (status = 200, description = "The lines", body = Logs),
        (status = 404, description = "No such container the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn logs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<Json<Logs>> {
    let (_, instance) = find(&s, &user, &uuid, Level::Read).await?;
    Ok(Json(Logs {
        logs: s.berth.instance_logs(&instance, 1000).await?,
    }))
}

/// Remove the container and lower its application's target by one.
#[utoipa::path(delete, path = "/api/v1/container/{uuid}", tag = "tutum",
    operation_id = "tutum_containers_terminate",
    params(("uuid" = String, Path, description = "The container's uuid")),
    responses(
        (status = 202, description = "Terminating", body = Container),
        (status = 403, description = "The caller may not change it", body = ErrorBody),
        (status = 404, description = "No such container the caller may see", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn terminate(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Container>)> {
    let (app, instance) = find(&s, &user, &uuid, Level::User).await?;
    s.berth.terminate_instance(&user, &app, &instance).await?;
    let mut object = render(
        &s,
        &app,
        &Instance {
            state: InstanceState::Destroyed,
            ..instance
        },
    )
    .await?;
    object.state = "Terminating";
    Ok((StatusCode::ACCEPTED, Json(object)))
}
