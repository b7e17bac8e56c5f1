//! Errors as Deis answered them: `{"detail": …}`, or `{field: [msg],
//! "detail": …}` for one invalid field, with `WWW-Authenticate: Token` on 401.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use serde::Serialize;
use utoipa::ToSchema;

use super::Deis;
use crate::common::DialectError;
use crate::common::error::message_of;

pub type DeisError = DialectError<Deis>;
pub type DeisResult<T> = Result<T, DeisError>;

/// Every refusal's body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Error)]
pub struct ErrorBody {
    /// Why, in words.
    pub detail: String,
    /// When one field was invalid: that field's name, mapped to what is wrong with it.
    #[serde(flatten)]
    pub fields: BTreeMap<String, Vec<String>>,
}

impl ErrorBody {
    pub fn new(detail: impl Into<String>) -> Self {
        ErrorBody {
            detail: detail.into(),
            fields: BTreeMap::new(),
        }
    }

    /// The body as the wire has it: its keys in sorted order, the field
    /// name before or after `detail` as it sorts.
    pub fn json(&self) -> Json<serde_json::Value> {
        Json(serde_json::to_value(self).unwrap_or_default())
    }
}

/// A core error in Deis's shapes at `status`.
pub fn response(status: StatusCode, error: &CoreError) -> Response {
    let mut body = ErrorBody::new(message_of(error));
    if let CoreError::Invalid {
        field: Some(f),
        message,
    } = error
        // `detail` itself always carries the whole message.
        && f != "detail"
    {
        body.fields.insert(f.clone(), vec![message.clone()]);
    }
    let mut res = (status, body.json()).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            HeaderName::from_static("www-authenticate"),
            HeaderValue::from_static("Token"),
        );
    }
    res
}
