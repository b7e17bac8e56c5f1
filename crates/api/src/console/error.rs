//! Errors as the console's API answers them: `{"error": "…"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::json;

use super::Console;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type ConsoleResult<T> = Result<T, DialectError<Console>>;

/// A core error in the console's shape at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    (status, Json(json!({ "error": message_of(error) }))).into_response()
}

/// A refusal that has no core error behind it (the CSRF check).
pub fn refused(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The answer for a path under `/ui` the console does not serve.
pub async fn not_found() -> Response {
    refused(StatusCode::NOT_FOUND, "not found")
}
