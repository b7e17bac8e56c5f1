//! The caller's SSH keys: `/v1/keys`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::error::DeisResult;
use super::{Body, Caller, Paging, views};
use crate::AppState;

pub async fn list_keys(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
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
    Caller { user, .. }: Caller,
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
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.remove_key(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
