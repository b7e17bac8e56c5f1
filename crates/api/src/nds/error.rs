use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::json;

/// A core error as the NDS API answers it: `{"error": …}`.
#[derive(Debug)]
pub struct NdsError(pub CoreError);

impl From<CoreError> for NdsError {
    fn from(e: CoreError) -> Self {
        NdsError(e)
    }
}

impl IntoResponse for NdsError {
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

pub type NdsResult<T> = Result<T, NdsError>;
