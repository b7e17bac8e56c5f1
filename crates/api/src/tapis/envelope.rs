use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::{Value, json};

pub const VERSION: &str = concat!("berth-", env!("CARGO_PKG_VERSION"));

/// A successful answer in the Tapis envelope.
pub fn ok(message: &str, result: Value) -> Json<Value> {
    Json(
        json!({"status": "success", "message": message, "result": result, "version": VERSION, "metadata": {}}),
    )
}

/// A core error in the Tapis envelope with its status code.
#[derive(Debug)]
pub struct TapisError(pub CoreError);

impl From<CoreError> for TapisError {
    fn from(e: CoreError) -> Self {
        TapisError(e)
    }
}

impl IntoResponse for TapisError {
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
        let body = json!({"status": "error", "message": message, "result": null, "version": VERSION, "metadata": {}});
        (status, Json(body)).into_response()
    }
}

pub type TapisResult<T> = Result<T, TapisError>;
