//! The native API: a superset of Deis Controller API v1, at `/v1`.

mod access;
mod apps;
mod auth;
mod error;
mod views;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use berth_core::CoreError;
use berth_core::model::User;

use crate::AppState;
pub use error::DeisError;

pub const API_VERSION: &str = "1.5";

/// A `/v1` request body; malformed ones are refused in Deis's shape.
pub type Body = crate::common::body::Payload<DeisError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(auth::handshake))
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/cancel", delete(auth::cancel))
        .route("/auth/passwd", post(auth::passwd))
        .route("/auth/tokens", post(auth::regenerate))
        .route("/apps", get(apps::list).post(apps::create))
        .route("/apps/{id}", get(apps::detail).delete(apps::destroy))
        .route(
            "/apps/{id}/builds",
            get(apps::list_builds).post(apps::create_build),
        )
        .route(
            "/apps/{id}/config",
            get(apps::config).post(apps::set_config),
        )
        .route("/apps/{id}/releases", get(apps::list_releases))
        .route("/apps/{id}/releases/rollback", post(apps::rollback))
        .route("/apps/{id}/releases/{version}", get(apps::release))
        .route("/apps/{id}/containers", get(apps::containers))
        .route("/apps/{id}/containers/restart", post(apps::restart))
        .route(
            "/apps/{id}/containers/{proc_type}",
            get(apps::containers_of_type),
        )
        .route(
            "/apps/{id}/containers/{proc_type}/restart",
            post(apps::restart_type),
        )
        .route(
            "/apps/{id}/containers/{proc_type}/{num}/restart",
            post(apps::restart_one),
        )
        .route("/apps/{id}/scale", post(apps::scale))
        .route("/apps/{id}/logs", get(apps::logs))
        .route("/apps/{id}/run", post(apps::run))
        .route(
            "/apps/{id}/domains",
            get(access::list_domains).post(access::add_domain),
        )
        .route("/apps/{id}/domains/{domain}", delete(access::remove_domain))
        .route(
            "/apps/{id}/perms",
            get(access::list_perms).post(access::add_perm),
        )
        .route("/apps/{id}/perms/{username}", delete(access::remove_perm))
        .route(
            "/admin/perms",
            get(access::list_admins).post(access::add_admin),
        )
        .route("/admin/perms/{username}", delete(access::remove_admin))
        .route("/users", get(access::list_users))
        .route("/keys", get(access::list_keys).post(access::add_key))
        .route("/keys/{id}", delete(access::remove_key))
        .fallback(crate::common::not_found)
        .layer(middleware::from_fn(version_header))
}

/// The Deis CLI compares this header with its own API version.
async fn version_header(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut().insert(
        HeaderName::from_static("x_deis_api_version"),
        HeaderValue::from_static(API_VERSION),
    );
    res
}

/// The authenticated caller of a `/v1` request.
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = DeisError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::common::bearer_token(&parts.headers).ok_or_else(|| {
            DeisError(CoreError::Unauthenticated(
                "Authentication credentials were not provided.".into(),
            ))
        })?;
        Ok(Caller(state.berth.authenticate(token).await?))
    }
}

/// Which page of a listing was asked for, and where the listing lives.
pub struct Paging {
    pub host: String,
    pub path: String,
    pub page: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * crate::common::PAGE_SIZE
    }

    pub fn limit(&self) -> i64 {
        crate::common::PAGE_SIZE
    }

    pub fn link(&self) -> views::PageLink<'_> {
        views::PageLink {
            host: &self.host,
            path: &self.path,
            page: self.page,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = DeisError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let page = parts
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "page").map(|(_, v)| v));
        Ok(Paging {
            host: parts
                .headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
                .to_string(),
            path: parts.uri.path().to_string(),
            page: crate::common::page_number(page.as_ref()),
        })
    }
}
