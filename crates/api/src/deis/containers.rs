//! An app's containers: listing, restarts and scale under `/v1/apps/{id}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use berth_core::CoreError;
use berth_core::model::{Level, User};
use berth_core::rules;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::views::{ContainerView, Listing};
use super::{Body, Caller, views};
use crate::AppState;

/// How many containers of each process type to run: `{"web": 3, "worker": 1}`.
#[derive(ToSchema)]
#[schema(as = deis::Scale)]
#[expect(
    dead_code,
    reason = "describes the object the handler reads entry by entry"
)]
pub struct Scale(BTreeMap<String, u32>);

async fn container_list(
    s: &AppState,
    user: &User,
    id: &str,
    proc_type: Option<&str>,
) -> DeisResult<Listing<ContainerView>> {
    let app = s.berth.app(user, id, Level::Read).await?;
    let instances = s.berth.instances(user, id, proc_type).await?;
    Ok(views::all(
        instances
            .iter()
            .map(|i| views::container(&app, i))
            .collect(),
    ))
}

/// The app's containers.
#[utoipa::path(get, path = "/v1/apps/{id}/containers", tag = "deis", operation_id = "deis_containers_list",
    params(("id" = String, Path, description = "The app's name")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "All of them, as one page", body = Listing<ContainerView>),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn containers(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Listing<ContainerView>>> {
    Ok(Json(container_list(&s, &user, &id, None).await?))
}

/// The app's containers of one process type.
#[utoipa::path(get, path = "/v1/apps/{id}/containers/{proc_type}", tag = "deis",
    operation_id = "deis_containers_of_type",
    params(
        ("id" = String, Path, description = "The app's name"),
        ("proc_type" = String, Path, description = "The process type, e.g. `web`")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "All of them, as one page", body = Listing<ContainerView>),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn containers_of_type(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type)): Path<(String, String)>,
) -> DeisResult<Json<Listing<ContainerView>>> {
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
) -> DeisResult<Json<Vec<ContainerView>>> {
    let app = s.berth.app(user, id, Level::User).await?;
    let done = s.berth.restart(user, id, proc_type, num).await?;
    Ok(Json(
        done.iter().map(|i| views::container(&app, i)).collect(),
    ))
}

/// Restarts every container of the app.
#[utoipa::path(post, path = "/v1/apps/{id}/containers/restart", tag = "deis",
    operation_id = "deis_containers_restart",
    params(("id" = String, Path, description = "The app's name")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The containers restarted", body = Vec<ContainerView>),
        (status = 403, description = "The caller may not change the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
pub async fn restart(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Vec<ContainerView>>> {
    restarted(&s, &user, &id, None, None).await
}

/// Restarts the app's containers of one process type.
#[utoipa::path(post, path = "/v1/apps/{id}/containers/{proc_type}/restart", tag = "deis",
    operation_id = "deis_containers_restart_type",
    params(
        ("id" = String, Path, description = "The app's name"),
        ("proc_type" = String, Path, description = "The process type, e.g. `web`")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The containers restarted", body = Vec<ContainerView>),
        (status = 403, description = "The caller may not change the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
pub async fn restart_type(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type)): Path<(String, String)>,
) -> DeisResult<Json<Vec<ContainerView>>> {
    restarted(&s, &user, &id, Some(&proc_type), None).await
}

/// Restarts one container.
#[utoipa::path(post, path = "/v1/apps/{id}/containers/{proc_type}/{num}/restart", tag = "deis",
    operation_id = "deis_containers_restart_one",
    params(
        ("id" = String, Path, description = "The app's name"),
        ("proc_type" = String, Path, description = "The process type, e.g. `web`"),
        ("num" = String, Path, description = "The container's number, from 1; anything else is a 404")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The container restarted", body = Vec<ContainerView>),
        (status = 403, description = "The caller may not change the app", body = ErrorBody),
        (status = 404, description = "No such app or container", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
pub async fn restart_one(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, proc_type, num)): Path<(String, String, String)>,
) -> DeisResult<Json<Vec<ContainerView>>> {
    let num: u32 = num
        .parse()
        .map_err(|_| CoreError::not_found(format!("container {proc_type}.{num} not found")))?;
    restarted(&s, &user, &id, Some(&proc_type), Some(num)).await
}

/// `{"web": 3, "worker": 1}` → 204 once the engine runs exactly that.
#[utoipa::path(post, path = "/v1/apps/{id}/scale", tag = "deis", operation_id = "deis_scale",
    params(("id" = String, Path, description = "The app's name")),
    request_body(content(
        (Scale = "application/json"),
        (Scale = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "The engine runs that many"),
        (status = 400, description = "A count is invalid, or the app has no build of that type", body = ErrorBody),
        (status = 403, description = "The caller may not change the app, or the quota is used up", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
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
