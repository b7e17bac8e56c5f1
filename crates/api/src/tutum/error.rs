//! Errors as Tutum answered them: `{"error": …}`, and the 400 for an
//! operation the object's state does not allow.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::json;

use super::Tutum;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type TutumError = DialectError<Tutum>;
pub type TutumResult<T> = Result<T, TutumError>;

/// A core error in Tutum's shape at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    (status, Json(json!({ "error": message_of(error) }))).into_response()
}

/// The 400 Tutum gave for an operation the current state does not allow.
pub fn wrong_state(what: &str, state: &str) -> TutumError {
    TutumError::from(CoreError::invalid(format!(
        "cannot perform the operation: the {what} is {state}"
    )))
}
