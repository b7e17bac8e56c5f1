//! The web console at `/ui`: one page with its script and style, embedded
//! in the binary, and the small JSON API under `/ui/api` the page calls.
//! The API is a dialect like the others: each handler reads its request,
//! calls one core use case and renders JSON; errors read `{"error": …}`.
//! A caller is the Berth token in the session cookie; every state-changing
//! request must also carry the session's CSRF token (see `session.rs`).

mod apps;
mod assets;
mod error;
mod events;
pub mod openapi;
mod session;
mod views;
mod workloads;

use axum::Router;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use berth_core::CoreError;

use crate::AppState;
use crate::common::{self, Credentials, Dialect};

/// The console's JSON API, a dialect whose credentials are a cookie.
#[derive(Debug, Clone, Copy)]
pub struct Console;

impl Dialect for Console {
    const NO_CREDENTIALS: &'static str = "log in first";

    fn credentials(parts: &Parts) -> Result<Option<Credentials>, CoreError> {
        Ok(session::cookie(&parts.headers).map(|t| Credentials::Token(t.to_string())))
    }

    fn error_response(status: StatusCode, error: &CoreError) -> Response {
        error::response(status, error)
    }
}

/// The authenticated caller of a console request.
pub type Caller = common::Caller<Console>;

/// A console request body (JSON).
pub type Body = common::Payload<Console>;

/// A console request's query parameters.
pub type Query = common::Params<Console>;

/// A console request's path parameters.
pub type PathOf = common::PathParams<Console>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(assets::page))
        .route("/console.js", get(assets::script))
        .route("/console.css", get(assets::style))
        .route("/api/login", post(session::login))
        .route("/api/logout", post(session::logout))
        .route("/api/session", get(session::current))
        .route("/api/events", get(events::follow))
        .route("/api/apps", get(apps::list).post(apps::create))
        .route("/api/apps/{id}", get(apps::detail))
        .route("/api/apps/{id}/instances", get(apps::instances))
        .route("/api/apps/{id}/releases", get(apps::releases))
        .route(
            "/api/apps/{id}/config",
            get(apps::config).post(apps::set_config),
        )
        .route("/api/apps/{id}/domains", get(apps::domains))
        .route("/api/apps/{id}/perms", get(apps::perms))
        .route("/api/apps/{id}/logs", get(apps::logs))
        .route("/api/apps/{id}/deploy", post(apps::deploy))
        .route("/api/apps/{id}/scale", post(apps::scale))
        .route("/api/apps/{id}/rollback", post(apps::rollback))
        .route("/api/apps/{id}/restart", post(apps::restart))
        .route("/api/pods", get(workloads::pods))
        .route("/api/pods/{id}/start", post(workloads::start_pod))
        .route("/api/pods/{id}/stop", post(workloads::stop_pod))
        .route(
            "/api/pods/{id}/files",
            get(workloads::download_file).post(workloads::upload_file),
        )
        .route(
            "/api/jobs",
            get(workloads::jobs).post(workloads::submit_job),
        )
        .route("/api/jobs/{container}/stop", post(workloads::stop_job))
        .route("/api/images", get(workloads::images))
        .route("/api/users", get(workloads::users))
        .route("/api/nodes", get(workloads::nodes))
        .fallback(error::not_found)
        .layer(middleware::from_fn(session::require_csrf))
        .layer(middleware::from_fn(security_headers))
}

/// The page may load its own script, style and data only: no inline
/// script, no framing, no referrer. API answers are never cached.
async fn security_headers(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    if is_api {
        set(header::CACHE_CONTROL, "no-store");
    }
    res
}
