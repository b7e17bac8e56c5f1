//! Domains, SSH keys and permissions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::DeisResult;
use super::{Body, Caller, Paging, views};
use crate::AppState;

pub async fn list_domains(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    paging: Paging,
) -> DeisResult<Json<Value>> {
    let page = s
        .berth
        .list_domains(&user, &id, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::domain)))
}

pub async fn add_domain(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<(StatusCode, Json<Value>)> {
    let d = s.berth.add_domain(&user, &id, body.str("domain")?).await?;
    Ok((StatusCode::CREATED, Json(views::domain(&d))))
}

pub async fn remove_domain(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path((id, domain)): Path<(String, String)>,
) -> DeisResult<StatusCode> {
    s.berth.remove_domain(&user, &id, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_perms(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Value>> {
    Ok(Json(
        json!({ "users": s.berth.collaborators(&user, &id).await? }),
    ))
}

pub async fn add_perm(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<StatusCode> {
    s.berth.share(&user, &id, body.str("username")?).await?;
    Ok(StatusCode::CREATED)
}

pub async fn remove_perm(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path((id, username)): Path<(String, String)>,
) -> DeisResult<StatusCode> {
    s.berth.unshare(&user, &id, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_admins(
    State(s): State<AppState>,
    Caller(user): Caller,
) -> DeisResult<Json<Value>> {
    let admins = s.berth.admins(&user).await?;
    Ok(Json(views::all(
        admins
            .iter()
            .map(|u| json!({"username": u.username, "is_superuser": u.is_admin}))
            .collect(),
    )))
}

pub async fn add_admin(
    State(s): State<AppState>,
    Caller(user): Caller,
    body: Body,
) -> DeisResult<StatusCode> {
    s.berth
        .set_admin(&user, body.str("username")?, true)
        .await?;
    Ok(StatusCode::CREATED)
}

pub async fn remove_admin(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(username): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.set_admin(&user, &username, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every registered user; administrators only.
pub async fn list_users(
    State(s): State<AppState>,
    Caller(user): Caller,
) -> DeisResult<Json<Value>> {
    let users = s.berth.users(&user).await?;
    Ok(Json(views::all(users.iter().map(views::user).collect())))
}

pub async fn list_keys(
    State(s): State<AppState>,
    Caller(user): Caller,
    paging: Paging,
) -> DeisResult<Json<Value>> {
    let page = s
        .berth
        .list_keys(&user, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::key)))
}

pub async fn add_key(
    State(s): State<AppState>,
    Caller(user): Caller,
    body: Body,
) -> DeisResult<(StatusCode, Json<Value>)> {
    let key = s
        .berth
        .add_key(&user, body.str("id")?, body.str("public")?)
        .await?;
    Ok((StatusCode::CREATED, Json(views::key(&key))))
}

pub async fn remove_key(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.remove_key(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
