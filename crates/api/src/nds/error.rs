//! Errors as the NDS API answers them: `{"error": …}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;

use super::Nds;
use super::views::ErrorBody;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type NdsError = DialectError<Nds>;
pub type NdsResult<T> = Result<T, NdsError>;

/// A core error in the NDS shape at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message_of(error),
        }),
    )
        .into_response()
}
