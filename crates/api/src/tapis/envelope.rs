use axum::Json;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde_json::{Value, json};

pub const VERSION: &str = concat!("berth-", env!("CARGO_PKG_VERSION"));

/// A successful answer in the Tapis envelope.
pub fn ok(message: &str, result: Value) -> Json<Value> {
    ok_with_metadata(message, result, json!({}))
}

pub fn ok_with_metadata(message: &str, result: Value, metadata: Value) -> Json<Value> {
    Json(
        json!({"status": "success", "message": message, "result": result, "version": VERSION, "metadata": metadata}),
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

/// The error envelope around `message`.
pub fn error_body(message: &str) -> Json<Value> {
    Json(
        json!({"status": "error", "message": message, "result": null, "version": VERSION, "metadata": {}}),
    )
}

impl IntoResponse for TapisError {
    fn into_response(self) -> Response {
        let status = crate::common::status_of(&self.0);
        let message = crate::common::message_of(&self.0);
        (status, error_body(&message)).into_response()
    }
}

pub type TapisResult<T> = Result<T, TapisError>;
