//! Who may act on what: an app's collaborators (`/v1/apps/{id}/perms`) and
//! the administrators (`/v1/admin/perms`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::DeisResult;
use super::{Body, Caller, views};
use crate::AppState;

pub async fn list_perms(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Value>> {
    Ok(Json(
        json!({ "users": s.berth.collaborators(&user, &id).await? }),
    ))
}

pub async fn add_perm(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<StatusCode> {
    s.berth.share(&user, &id, body.str("username")?).await?;
    Ok(StatusCode::CREATED)
}

pub async fn remove_perm(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, username)): Path<(String, String)>,
) -> DeisResult<StatusCode> {
    s.berth.unshare(&user, &id, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_admins(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> DeisResult<Json<Value>> {
    let admins = s.berth.admins(&user).await?;
    Ok(Json(views::all(admins.iter().map(views::admin).collect())))
}

pub async fn add_admin(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<StatusCode> {
    s.berth
        .set_admin(&user, body.str("username")?, true)
        .await?;
    Ok(StatusCode::CREATED)
}

pub async fn remove_admin(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(username): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.set_admin(&user, &username, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
