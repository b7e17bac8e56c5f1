//! Tutum API v1 (application era) at `/api/v1`: applications and their
//! containers, over the same apps and instances as every other dialect.

mod applications;
mod auth;
mod containers;
mod error;
mod images;
pub mod openapi;
mod paging;
mod views;

use axum::Router;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use berth_core::CoreError;

use crate::AppState;
use crate::common::{self, Credentials, Dialect};
pub use error::TutumError;

/// Tutum API v1.
#[derive(Debug, Clone, Copy)]
pub struct Tutum;

impl Dialect for Tutum {
    const NO_CREDENTIALS: &'static str = "Authentication credentials were not provided";

    /// `ApiKey user:key`, Basic `user:key` or `user:password`, or any other
    /// dialect's token header.
    fn credentials(parts: &Parts) -> Result<Option<Credentials>, CoreError> {
        let Some(header) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(None);
        };
        auth::credentials(header)
            .map(Some)
            .ok_or_else(|| CoreError::Unauthenticated("Unsupported authorization scheme".into()))
    }

    fn error_response(status: StatusCode, error: &CoreError) -> Response {
        error::response(status, error)
    }
}

/// The caller, in any of the forms [`Tutum::credentials`] reads.
pub type Caller = common::Caller<Tutum>;

/// A request body; malformed ones are refused in Tutum's shape.
pub type Body = common::Payload<Tutum>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth", get(auth::api_key))
        .route("/register", post(auth::register))
        .route(
            "/application",
            get(applications::list).post(applications::create),
        )
        .route(
            "/application/{uuid}",
            get(applications::detail)
                .patch(applications::update)
                .delete(applications::terminate),
        )
        .route("/application/{uuid}/start", post(applications::start))
        .route("/application/{uuid}/stop", post(applications::stop))
        .route("/application/{uuid}/redeploy", post(applications::redeploy))
        .route("/application/{uuid}/logs", get(applications::logs))
        .route("/image/{*name}", get(images::detail))
        .route("/container", get(containers::list))
        .route(
            "/container/{uuid}",
            get(containers::detail).delete(containers::terminate),
        )
        .route("/container/{uuid}/start", post(containers::start))
        .route("/container/{uuid}/stop", post(containers::stop))
        .route("/container/{uuid}/logs", get(containers::logs))
        .fallback(|| async { TutumError::from(CoreError::not_found("Not found")) })
        .layer(middleware::from_fn(json_only))
}

/// Tutum answers JSON only: a client that accepts nothing of it gets 415.
async fn json_only(req: Request, next: Next) -> Response {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    let acceptable = accept.split(',').any(|part| {
        let media = part.split(';').next().unwrap_or("").trim();
        matches!(media, "*/*" | "application/*" | "application/json" | "")
    });
    if !acceptable {
        let refusal = error::ErrorBody {
            error: "only application/json is supported".into(),
        };
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, axum::Json(refusal)).into_response();
    }
    next.run(req).await
}
