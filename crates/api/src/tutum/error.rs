use axum::Json;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::json;

/// A core error as Tutum answered: `{"error": …}` with its status codes.
#[derive(Debug)]
pub struct TutumError(pub CoreError);

impl From<CoreError> for TutumError {
    fn from(e: CoreError) -> Self {
        TutumError(e)
    }
}

impl IntoResponse for TutumError {
    fn into_response(self) -> Response {
        let status = crate::common::status_of(&self.0);
        let message = crate::common::message_of(&self.0);
        (status, Json(json!({ "error": message }))).into_response()
    }
}

pub type TutumResult<T> = Result<T, TutumError>;

/// The 400 Tutum gave for an operation the current state does not allow.
pub fn wrong_state(what: &str, state: &str) -> TutumError {
    TutumError(CoreError::invalid(format!(
        "cannot perform the operation: the {what} is {state}"
    )))
}
