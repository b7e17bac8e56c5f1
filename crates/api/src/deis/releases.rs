//! An app's releases and rollback: `/v1/apps/{id}/releases`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use berth_core::CoreError;
use serde_json::{Value, json};

use super::error::DeisResult;
use super::{Body, Caller, Paging, views};
use crate::AppState;

pub async fn list_releases(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    paging: Paging,
) -> DeisResult<Json<Value>> {
    let page = s
        .berth
        .list_releases(&user, &id, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::release)))
}

/// `v3` or `3`.
fn parse_version(text: &str) -> Result<i64, CoreError> {
    text.strip_prefix('v')
        .unwrap_or(text)
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| CoreError::not_found(format!("release {text} not found")))
}

pub async fn release(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, version)): Path<(String, String)>,
) -> DeisResult<Json<Value>> {
    let r = s
        .berth
        .release(&user, &id, parse_version(&version)?)
        .await?;
    Ok(Json(views::release(&r)))
}

pub async fn rollback(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<Response> {
    let release = s
        .berth
        .rollback(&user, &id, body.opt_int("version")?)
        .await?;
    Ok(views::release_created(
        json!({ "version": release.version }),
        &release,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("v3").unwrap(), 3);
        assert_eq!(parse_version("12").unwrap(), 12);
        assert!(parse_version("v0").is_err());
        assert!(parse_version("latest").is_err());
    }
}
