//! An app's custom domains: `/v1/apps/{id}/domains`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::error::DeisResult;
use super::{Body, Caller, Paging, views};
use crate::AppState;

pub async fn list_domains(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
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
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<(StatusCode, Json<Value>)> {
    let d = s.berth.add_domain(&user, &id, body.str("domain")?).await?;
    Ok((StatusCode::CREATED, Json(views::domain(&d))))
}

pub async fn remove_domain(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, domain)): Path<(String, String)>,
) -> DeisResult<StatusCode> {
    s.berth.remove_domain(&user, &id, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}
