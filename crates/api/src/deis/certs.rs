//! TLS certificates: `/v1/certs`, as the Deis CLI's `certs:add/list/remove`
//! send them. No answer carries a private key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::paging::PageQuery;
use super::views::{CertificateView, Listing};
use super::{Body, Caller, Paging, views};
use crate::AppState;

/// A certificate to serve: `POST /v1/certs`.
#[derive(ToSchema)]
#[schema(as = deis::CertificateUpload)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct CertificateUpload {
    /// The PEM chain, the server's certificate first.
    certificate: String,
    /// The PEM private key.
    key: String,
    /// The name to file it under; the certificate's own common name when absent.
    common_name: Option<String>,
}

/// The caller's certificates (everyone's, for administrators), a page at a time.
#[utoipa::path(get, path = "/v1/certs", tag = "deis", operation_id = "deis_certs_list",
    params(PageQuery),
    security(("token" = []), ("bearer" = [])),
    responses((status = 200, description = "One page of certificates", body = Listing<CertificateView>)))]
pub async fn list_certs(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    paging: Paging,
) -> DeisResult<Json<Listing<CertificateView>>> {
    let page = s
        .berth
        .list_certs(&user, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::certificate)))
}

/// Adds a certificate the router serves for the names it carries.
#[utoipa::path(post, path = "/v1/certs", tag = "deis", operation_id = "deis_certs_add",
    request_body(content(
        (CertificateUpload = "application/json"),
        (CertificateUpload = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The certificate", body = CertificateView),
        (status = 400, description = "A field is missing, or the chain or key cannot be read or do not match", body = ErrorBody),
        (status = 403, description = "A name it carries belongs to another user", body = ErrorBody),
        (status = 409, description = "A certificate of that name exists", body = ErrorBody)))]
pub async fn add_cert(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<(StatusCode, Json<CertificateView>)> {
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

/// One certificate.
#[utoipa::path(get, path = "/v1/certs/{common_name}", tag = "deis", operation_id = "deis_certs_get",
    params(("common_name" = String, Path, description = "The name it is filed under")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The certificate", body = CertificateView),
        (status = 404, description = "No such certificate of the caller's", body = ErrorBody)))]
pub async fn cert(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(common_name): Path<String>,
) -> DeisResult<Json<CertificateView>> {
    let cert = s.berth.cert(&user, &common_name).await?;
    Ok(Json(views::certificate(&cert)))
}

/// Removes a certificate; the router stops serving it.
#[utoipa::path(delete, path = "/v1/certs/{common_name}", tag = "deis", operation_id = "deis_certs_remove",
    params(("common_name" = String, Path, description = "The name it is filed under")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "It is gone"),
        (status = 404, description = "No such certificate of the caller's", body = ErrorBody)))]
pub async fn remove_cert(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(common_name): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.remove_cert(&user, &common_name).await?;
    Ok(StatusCode::NO_CONTENT)
}
