use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::{Value, json};

/// A core error in RCABench's envelope: `{code, message, timestamp}`, no `data`.
#[derive(Debug)]
pub struct RcaError(pub CoreError);

impl From<CoreError> for RcaError {
    fn from(e: CoreError) -> Self {
        RcaError(e)
    }
}

pub type RcaResult<T> = Result<T, RcaError>;

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl IntoResponse for RcaError {
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
        (
            status,
            Json(json!({"code": status.as_u16(), "message": message, "timestamp": unix_now()})),
        )
            .into_response()
    }
}

/// A success in RCABench's envelope.
pub fn reply(status: StatusCode, message: &str, data: Value) -> Response {
    (
        status,
        Json(json!({
            "code": status.as_u16(),
            "message": message,
            "data": data,
            "timestamp": unix_now(),
        })),
    )
        .into_response()
}

/// A success that carries no data (deletions).
pub fn done(message: &str) -> Response {
    (
        StatusCode::OK,
        Json(json!({"code": 200, "message": message, "timestamp": unix_now()})),
    )
        .into_response()
}

pub async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"code": 405, "message": "Method not allowed", "timestamp": unix_now()})),
    )
        .into_response()
}
