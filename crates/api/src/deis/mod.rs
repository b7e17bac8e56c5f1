//! The native API: a superset of Deis Controller API v1, at `/v1`.

mod apps;
mod auth;
mod builds;
mod certs;
mod config;
mod containers;
mod domains;
mod error;
mod events;
mod keys;
mod nodes;
pub mod openapi;
mod paging;
mod perms;
mod releases;
mod users;
mod views;

pub(crate) use views::log_line;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use berth_core::CoreError;

use crate::AppState;
use crate::common::{self, Dialect};
pub use error::DeisError;
use paging::Paging;

pub const API_VERSION: &str = "1.5";

/// Deis Controller API v1, the native dialect.
#[derive(Debug, Clone, Copy)]
pub struct Deis;

impl Dialect for Deis {
    const NO_CREDENTIALS: &'static str = "Authentication credentials were not provided.";

    fn error_response(status: StatusCode, error: &CoreError) -> Response {
        error::response(status, error)
    }
}

/// The authenticated caller of a `/v1` request.
pub type Caller = common::Caller<Deis>;

/// A `/v1` request body; malformed ones are refused in Deis's shape.
pub type Body = common::Payload<Deis>;

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
            get(builds::list_builds).post(builds::create_build),
        )
        .route(
            "/apps/{id}/config",
            get(config::config).post(config::set_config),
        )
        .route("/apps/{id}/releases", get(releases::list_releases))
        .route("/apps/{id}/releases/rollback", post(releases::rollback))
        .route("/apps/{id}/releases/{version}", get(releases::release))
        .route("/apps/{id}/containers", get(containers::containers))
        .route("/apps/{id}/containers/restart", post(containers::restart))
        .route(
            "/apps/{id}/containers/{proc_type}",
            get(containers::containers_of_type),
        )
        .route(
            "/apps/{id}/containers/{proc_type}/restart",
            post(containers::restart_type),
        )
        .route(
            "/apps/{id}/containers/{proc_type}/{num}/restart",
            post(containers::restart_one),
        )
        .route("/apps/{id}/scale", post(containers::scale))
        .route("/apps/{id}/logs", get(apps::logs))
        .route("/apps/{id}/events", get(events::of_app))
        .route("/apps/{id}/run", post(apps::run))
        .route(
            "/apps/{id}/domains",
            get(domains::list_domains).post(domains::add_domain),
        )
        .route(
            "/apps/{id}/domains/{domain}",
            delete(domains::remove_domain),
        )
        .route(
            "/apps/{id}/perms",
            get(perms::list_perms).post(perms::add_perm),
        )
        // The seed documents the removal as a POST; Deis's code and CLI use DELETE.
        .route(
            "/apps/{id}/perms/{username}",
            delete(perms::remove_perm).post(perms::remove_perm),
        )
        .route(
            "/admin/perms",
            get(perms::list_admins).post(perms::add_admin),
        )
        .route("/admin/perms/{username}", delete(perms::remove_admin))
        .route("/users", get(users::list_users))
        .route("/nodes", get(nodes::list_nodes))
        .route("/events", get(events::all))
        .route("/certs", get(certs::list_certs).post(certs::add_cert))
        .route(
            "/certs/{common_name}",
            get(certs::cert).delete(certs::remove_cert),
        )
        .route("/keys", get(keys::list_keys).post(keys::add_key))
        .route("/keys/{id}", delete(keys::remove_key))
        .fallback(common::error::not_found)
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
