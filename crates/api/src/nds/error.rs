use axum::Json;
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
        let status = crate::common::status_of(&self.0);
        let message = crate::common::message_of(&self.0);
        (status, Json(json!({ "error": message }))).into_response()
    }
}

pub type NdsResult<T> = Result<T, NdsError>;
