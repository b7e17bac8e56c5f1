//! TLS certificates: `/v1/certs`, as the Deis CLI's `certs:add/list/remove`
//! send them. No answer carries a private key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::error::DeisResult;
use super::{Body, Caller, Paging, views};
use crate::AppState;

pub async fn list_certs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    paging: Paging,
) -> DeisResult<Json<Value>> {
    let page = s
        .berth
        .list_certs(&user, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::certificate)))
}

pub async fn add_cert(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<(StatusCode, Json<Value>)> {
    let cert = s
        .berth
        .add_cert(
            &user,
            body.str("certificate")?,
            body.str("key")?,
            body.opt_str("common_name")?,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(views::certificate(&cert))))
}

pub async fn cert(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(common_name): Path<String>,
) -> DeisResult<Json<Value>> {
    let cert = s.berth.cert(&user, &common_name).await?;
    Ok(Json(views::certificate(&cert)))
}

pub async fn remove_cert(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(common_name): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.remove_cert(&user, &common_name).await?;
    Ok(StatusCode::NO_CONTENT)
}
