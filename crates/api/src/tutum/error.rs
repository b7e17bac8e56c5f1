use axum::Json;
use axum::http::StatusCode;
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
        let status = match &self.0 {
            CoreError::Invalid { .. } | CoreError::Failed(_) => StatusCode::BAD_REQUEST,
            CoreError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
            CoreError::NotFound(_) => StatusCode::NOT_FOUND,
            CoreError::Conflict(_) => StatusCode::CONFLICT,
            CoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            CoreError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self.0 {
            CoreError::Invalid {
                field: Some(f),
                message,
            } => format!("{f}: {message}"),
            other => other.to_string(),
        };
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
