//! Errors as Deis answered them: `{"detail": …}`, or `{field: [msg],
//! "detail": …}` for one invalid field, with `WWW-Authenticate: Token` on 401.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::json;

use super::Deis;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type DeisError = DialectError<Deis>;
pub type DeisResult<T> = Result<T, DeisError>;

/// A core error in Deis's shapes at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    let detail = message_of(error);
    let body = match error {
        CoreError::Invalid {
            field: Some(f),
            message,
        } => json!({ f: [message], "detail": detail }),
        _ => json!({ "detail": detail }),
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
