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
        let status = crate::common::status_of(&self.0);
        let message = crate::common::message_of(&self.0);
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
