//! Errors in RCABench's envelope: `{code, message, timestamp}`, no `data`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::json;

use super::{RcaBench, views};
use crate::common::DialectError;
use crate::common::error::message_of;

pub type RcaError = DialectError<RcaBench>;
pub type RcaResult<T> = Result<T, RcaError>;

/// A core error in RCABench's envelope at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    (
        status,
        Json(json!({
            "code": status.as_u16(),
            "message": message_of(error),
            "timestamp": views::unix_now(),
        })),
    )
        .into_response()
}

pub async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"code": 405, "message": "Method not allowed", "timestamp": views::unix_now()})),
    )
        .into_response()
}
