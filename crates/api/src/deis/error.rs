use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::json;

/// A core error in Deis's shapes: `{"detail": …}`, or `{field: [msg]}` for
/// one invalid field, with Deis's status codes.
#[derive(Debug)]
pub struct DeisError(pub CoreError);

impl From<CoreError> for DeisError {
    fn from(e: CoreError) -> Self {
        DeisError(e)
    }
}

impl IntoResponse for DeisError {
    fn into_response(self) -> Response {
        let status = crate::common::status_of(&self.0);
        let body = match &self.0 {
            CoreError::Invalid {
                field: Some(f),
                message,
            } => json!({ f: [message], "detail": format!("{f}: {message}") }),
            other => json!({ "detail": other.to_string() }),
        };
        let mut res = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                HeaderName::from_static("www-authenticate"),
                HeaderValue::from_static("Token"),
            );
        }
        res
    }
}

pub type DeisResult<T> = Result<T, DeisError>;
