//! Errors as Tutum answered them: `{"error": …}`, and the 400 for an
//! operation the object's state does not allow.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde::Serialize;
use utoipa::ToSchema;

use super::Tutum;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type TutumError = DialectError<Tutum>;
pub type TutumResult<T> = Result<T, TutumError>;

/// A refusal or failure, as Tutum words it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumErrorBody)]
pub struct ErrorBody {
    /// What went wrong, naming the field as `field: message` when there is one.
    pub error: String,
}

/// A core error in Tutum's shape at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    let body = ErrorBody {
        error: message_of(error),
    };
    (status, Json(body)).into_response()
}

/// The 400 Tutum gave for an operation the current state does not allow.
pub fn wrong_state(what: &str, state: &str) -> TutumError {
    TutumError::from(CoreError::invalid(format!(
        "cannot perform the operation: the {what} is {state}"
    )))
}
