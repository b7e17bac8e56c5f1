//! Errors in the Tapis envelope: `status` "error", the message, a null
//! `result`, with the status code from the shared table.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::{Value, json};

use super::Tapis;
use super::views::VERSION;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type TapisError = DialectError<Tapis>;
pub type TapisResult<T> = Result<T, TapisError>;

/// The error envelope around `message`.
pub fn error_body(message: &str) -> Json<Value> {
    Json(
        json!({"status": "error", "message": message, "result": null, "version": VERSION, "metadata": {}}),
    )
}

/// A core error in the Tapis envelope at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    (status, error_body(&message_of(error))).into_response()
}
