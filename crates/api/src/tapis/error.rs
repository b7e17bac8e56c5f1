//! Errors in the Tapis envelope: `status` "error", the message, a null
//! `result`, with the status code from the shared table.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;

use super::Tapis;
use serde::Serialize;
use utoipa::ToSchema;

use super::views::{Metadata, Null, VERSION, null_schema};
use crate::common::DialectError;
use crate::common::error::message_of;

pub type TapisError = DialectError<Tapis>;
pub type TapisResult<T> = Result<T, TapisError>;

/// The error envelope around `message`.
pub fn error_body(message: &str) -> Json<ErrorBody> {
    Json(ErrorBody {
        message: message.to_string(),
        metadata: Metadata::default(),
        result: Null,
        status: "error",
        version: VERSION,
    })
}

/// An error answer: the envelope with `status` `error`, the reason in
/// `message` and a null `result`.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisError)]
pub struct ErrorBody {
    pub message: String,
    pub metadata: Metadata,
    /// Always null.
    #[schema(schema_with = null_schema)]
    pub result: Null,
    /// `error`.
    pub status: &'static str,
    /// The server's version, `berth-<version>`.
    pub version: &'static str,
}

/// A core error in the Tapis envelope at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    (status, error_body(&message_of(error))).into_response()
}
