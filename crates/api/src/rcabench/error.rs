//! Errors in RCABench's envelope: `{code, message, timestamp}`, no `data`.

use axum::http::StatusCode;
use axum::response::Response;
use berth_core::CoreError;

use super::RcaBench;
use super::views::Notice;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type RcaError = DialectError<RcaBench>;
pub type RcaResult<T> = Result<T, RcaError>;

/// A core error in RCABench's envelope at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    Notice::at(status, message_of(error))
}

pub async fn method_not_allowed() -> Response {
    Notice::at(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed".into())
}
