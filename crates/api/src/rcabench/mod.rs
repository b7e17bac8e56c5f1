//! RCABench containers API v2 at `/api/v2`: the image catalog (containers
//! and their versions), search, image builds from git and the tasks that
//! run them. Every answer is `{code, message, data, timestamp}`; ids are
//! numbers, and `type`/`status` go in as numbers and come out as names.

mod auth;
mod containers;
mod error;
mod fields;
mod tasks;
mod views;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, Path, RawQuery};
use axum::http::request::Parts;
use axum::routing::{get, patch, post};
use berth_core::CoreError;
use berth_core::model::User;

use crate::AppState;
pub use error::RcaError;

/// A request body; malformed ones are refused in RCABench's envelope.
pub type Body = crate::common::body::Payload<RcaError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route(
            "/containers",
            get(containers::list).post(containers::create),
        )
        .route("/containers/search", post(containers::search))
        .route("/containers/build", post(tasks::submit_build))
        .route(
            "/containers/{container_id}",
            get(containers::detail)
                .patch(containers::update)
                .delete(containers::delete),
        )
        .route(
            "/containers/{container_id}/labels",
            patch(containers::labels),
        )
        .route(
            "/containers/{container_id}/versions",
            get(containers::list_versions).post(containers::create_version),
        )
        .route(
            "/containers/{container_id}/versions/{version_id}",
            get(containers::version)
                .patch(containers::update_version)
                .delete(containers::delete_version),
        )
        .route("/tasks", get(tasks::list))
        .route("/tasks/{task_id}", get(tasks::detail))
        .route("/tasks/{task_id}/cancel", post(tasks::cancel))
        .fallback(|| async { RcaError(CoreError::not_found("Not found")) })
        .method_not_allowed_fallback(error::method_not_allowed)
}

/// The caller, from `Authorization: Bearer <token>` (any Berth token).
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = RcaError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::common::bearer_token(&parts.headers).ok_or_else(|| {
            RcaError(CoreError::Unauthenticated(
                "Authentication required: send Authorization: Bearer <token>".into(),
            ))
        })?;
        Ok(Caller(state.berth.authenticate(token).await?))
    }
}

/// Query parameters; a malformed query string is a 400 in the envelope.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = RcaError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .map_err(|_| CoreError::invalid("malformed query string"))?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
                .map_err(|e| CoreError::invalid(format!("malformed query string: {e}")))?;
        Ok(Params(pairs.into_iter().collect()))
    }
}

/// Path parameters by name; a malformed path is a 400 in the envelope.
pub struct PathParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = RcaError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| CoreError::invalid(format!("malformed path: {e}")))?;
        Ok(PathParams(params))
    }
}

impl PathParams {
    /// A positive integer id, else "Invalid <name>" (400).
    pub fn id(&self, name: &str) -> Result<i64, RcaError> {
        self.0
            .get(name)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| RcaError(CoreError::invalid_field(name, format!("Invalid {name}"))))
    }

    pub fn text(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or_default()
    }
}
