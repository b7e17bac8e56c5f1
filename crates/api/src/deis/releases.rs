//! An app's releases and rollback: `/v1/apps/{id}/releases`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use berth_core::CoreError;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::paging::PageQuery;
use super::views::{Listing, ReleaseView};
use super::{Body, Caller, Paging, views};
use crate::AppState;

/// Which release to roll back to: `POST /v1/apps/{id}/releases/rollback`.
#[derive(ToSchema)]
#[schema(as = deis::Rollback)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Rollback {
    /// The version to go back to; the one before the current when absent.
    version: Option<i64>,
}

/// The release a rollback made.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::RolledBack)]
pub struct RolledBack {
    /// The new release's version.
    pub version: i64,
}

/// The app's releases, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/apps/{id}/releases", tag = "deis", operation_id = "deis_releases_list",
    params(("id" = String, Path, description = "The app's name"), PageQuery),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of releases", body = Listing<ReleaseView>),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn list_releases(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    paging: Paging,
) -> DeisResult<Json<Listing<ReleaseView>>> {
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

/// One release.
#[utoipa::path(get, path = "/v1/apps/{id}/releases/{version}", tag = "deis",
    operation_id = "deis_releases_get",
    params(
        ("id" = String, Path, description = "The app's name"),
        ("version" = String, Path, description = "`v3` or `3`; anything else is a 404")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The release", body = ReleaseView),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app or release", body = ErrorBody)))]
pub async fn release(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, version)): Path<(String, String)>,
) -> DeisResult<Json<ReleaseView>> {
    let r = s
        .berth
        .release(&user, &id, parse_version(&version)?)
        .await?;
    Ok(Json(views::release(&r)))
}

/// Makes a new release of an earlier one's build and config.
#[utoipa::path(post, path = "/v1/apps/{id}/releases/rollback", tag = "deis",
    operation_id = "deis_releases_rollback",
    params(("id" = String, Path, description = "The app's name")),
    request_body(content(
        (Rollback = "application/json"),
        (Rollback = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The new release", body = RolledBack,
            headers(
                ("Deis-Release" = i64, description = "The new release's version"),
                ("X-Deis-Release" = i64, description = "The same, as older clients read it"))),
        (status = 400, description = "The version is invalid, or there is nothing to roll back to", body = ErrorBody),
        (status = 403, description = "The caller may not change the app", body = ErrorBody),
        (status = 404, description = "No such app or release", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
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
        RolledBack {
            version: release.version,
        },
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
