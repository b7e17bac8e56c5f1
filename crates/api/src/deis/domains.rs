//! An app's custom domains: `/v1/apps/{id}/domains`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::paging::PageQuery;
use super::views::{DomainView, Listing};
use super::{Body, Caller, Paging, views};
use crate::AppState;

/// A domain to serve an app at: `POST /v1/apps/{id}/domains`.
#[derive(ToSchema)]
#[schema(as = deis::DomainAddition)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct DomainAddition {
    domain: String,
}

/// The app's custom domains, a page at a time.
#[utoipa::path(get, path = "/v1/apps/{id}/domains", tag = "deis", operation_id = "deis_domains_list",
    params(("id" = String, Path, description = "The app's name"), PageQuery),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of domains", body = Listing<DomainView>),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn list_domains(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    paging: Paging,
) -> DeisResult<Json<Listing<DomainView>>> {
    let page = s
        .berth
        .list_domains(&user, &id, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::domain)))
}

/// Serves the app at one more domain.
#[utoipa::path(post, path = "/v1/apps/{id}/domains", tag = "deis", operation_id = "deis_domains_add",
    params(("id" = String, Path, description = "The app's name")),
    request_body(content(
        (DomainAddition = "application/json"),
        (DomainAddition = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The domain", body = DomainView),
        (status = 400, description = "No domain, or not a valid host name", body = ErrorBody),
        (status = 403, description = "The caller may not change the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 409, description = "The domain is taken", body = ErrorBody)))]
pub async fn add_domain(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<(StatusCode, Json<DomainView>)> {
    let d = s.berth.add_domain(&user, &id, body.str("domain")?).await?;
    Ok((StatusCode::CREATED, Json(views::domain(&d))))
}

/// Stops serving the app at a domain.
#[utoipa::path(delete, path = "/v1/apps/{id}/domains/{domain}", tag = "deis",
    operation_id = "deis_domains_remove",
    params(
        ("id" = String, Path, description = "The app's name"),
        ("domain" = String, Path, description = "The domain")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "It is gone"),
        (status = 403, description = "The caller may not change the app", body = ErrorBody),
        (status = 404, description = "No such app, or no such domain of it", body = ErrorBody)))]
pub async fn remove_domain(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, domain)): Path<(String, String)>,
) -> DeisResult<StatusCode> {
    s.berth.remove_domain(&user, &id, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}
