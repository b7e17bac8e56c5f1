//! Errors as the console's API answers them: `{"error": "…"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde::Serialize;
use utoipa::ToSchema;

use super::Console;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type ConsoleResult<T> = Result<T, DialectError<Console>>;

/// A refusal or failure, as the console's API words it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Error)]
pub struct ErrorBody {
    /// What went wrong, naming the field as `field: message` when there is one.
    pub error: String,
}

/// A core error in the console's shape at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    refused(status, &message_of(error))
}

/// A refusal that has no core error behind it (the CSRF check).
pub fn refused(status: StatusCode, message: &str) -> Response {
    let body = ErrorBody {
        error: message.to_string(),
    };
    (status, Json(body)).into_response()
}

/// The answer for a path under `/ui` the console does not serve.
pub async fn not_found() -> Response {
    refused(StatusCode::NOT_FOUND, "not found")
}
