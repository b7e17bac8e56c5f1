//! An app's containers: listing, restarts and scale under `/v1/apps/{id}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use berth_core::CoreError;
use berth_core::model::{Level, User};
use berth_core::rules;
use serde_json::Value;

use super::error::DeisResult;
use super::{Body, Caller, views};
use crate::AppState;

async fn container_list(
    s: &AppState,
    user: &User,
    id: &str,
    proc_type: Option<&str>,
) -> DeisResult<Value> {
    let app = s.berth.app(user, id, Level::Read).await?;
    let instances = s.berth.instances(user, id, proc_type).await?;
    Ok(views::all(
        instances
            .iter()
            .map(|i| views::container(&app, i))
            .collect(),
    ))
}

pub async fn containers(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Value>> {
    Ok(Json(container_list(&s, &user, &id, None).await?))
}

pub async fn containers_of_type(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type)): Path<(String, String)>,
) -> DeisResult<Json<Value>> {
    Ok(Json(
        container_list(&s, &user, &id, Some(&proc_type)).await?,
    ))
}

async fn restarted(
    s: &AppState,
    user: &User,
    id: &str,
    proc_type: Option<&str>,
    num: Option<u32>,
) -> DeisResult<Json<Value>> {
    let app = s.berth.app(user, id, Level::User).await?;
    let done = s.berth.restart(user, id, proc_type, num).await?;
    Ok(Json(Value::Array(
        done.iter().map(|i| views::container(&app, i)).collect(),
    )))
}

pub async fn restart(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Value>> {
    restarted(&s, &user, &id, None, None).await
}

pub async fn restart_type(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type)): Path<(String, String)>,
) -> DeisResult<Json<Value>> {
    restarted(&s, &user, &id, Some(&proc_type), None).await
}

pub async fn restart_one(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type, num)): Path<(String, String, String)>,
) -> DeisResult<Json<Value>> {
    let num: u32 = num
        .parse()
        .map_err(|_| CoreError::not_found(format!("container {proc_type}.{num} not found")))?;
    restarted(&s, &user, &id, Some(&proc_type), Some(num)).await
}

/// `{"web": 3, "worker": 1}` → 204 once the engine runs exactly that.
pub async fn scale(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<StatusCode> {
    let mut counts = BTreeMap::new();
    for (t, v) in body.object()? {
        counts.insert(t.clone(), rules::scale_count(t, v)?);
    }
    s.berth.scale(&user, &id, &counts).await?;
    Ok(StatusCode::NO_CONTENT)
}
