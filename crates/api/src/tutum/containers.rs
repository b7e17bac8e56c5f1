//! Containers: list, inspect, start, stop, logs and terminate under
//! `/api/v1/container`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use berth_core::CoreError;
use berth_core::model::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::{TutumResult, wrong_state};
use super::paging::{filtered_page, passes};
use super::{Caller, views};
use crate::AppState;

async fn find(s: &AppState, user: &User, uuid: &str, need: Level) -> TutumResult<(App, Instance)> {
    let uuid = Uuid::parse_str(uuid)
        .map_err(|_| CoreError::not_found(format!("container {uuid} not found")))?;
    Ok(s.berth.instance(user, uuid, need).await?)
}

async fn render(s: &AppState, app: &App, instance: &Instance) -> TutumResult<Value> {
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
async fn render_after(s: &AppState, app: &App, before: Instance) -> TutumResult<Json<Value>> {
    let instance = s.berth.instance_now(before).await;
    Ok(Json(render(s, app, &instance).await?))
}

pub async fn list(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> TutumResult<Json<Value>> {
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
    let filters = [
        ("unique_name", "unique_name", false),
        ("uuid", "uuid", false),
        ("uuid__startswith", "uuid", true),
        ("state", "state", false),
    ];
    Ok(Json(filtered_page(
        objects,
        &filters,
        &q,
        "/api/v1/container/",
    )))
}

pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<Json<Value>> {
    let (app, instance) = find(&s, &user, &uuid, Level::Read).await?;
    Ok(Json(render(&s, &app, &instance).await?))
}

pub async fn start(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Value>)> {
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

pub async fn stop(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Value>)> {
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

pub async fn logs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<Json<Value>> {
    let (_, instance) = find(&s, &user, &uuid, Level::Read).await?;
    Ok(Json(
        json!({ "logs": s.berth.instance_logs(&instance, 1000).await? }),
    ))
}

/// Removes the container and lowers its application's target by one.
pub async fn terminate(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(uuid): Path<String>,
) -> TutumResult<(StatusCode, Json<Value>)> {
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
    if let Value::Object(m) = &mut object {
        m.insert("state".into(), json!("Terminating"));
    }
    Ok((StatusCode::ACCEPTED, Json(object)))
}
