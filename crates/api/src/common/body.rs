//! Request bodies as JSON or form-encoded, read into one JSON value so that
//! handlers see one shape. Malformed input is a 400, never axum's 422.

use std::marker::PhantomData;

use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::IntoResponse;
use berth_core::CoreError;
use serde_json::{Map, Value};

/// Bodies larger than this are refused: no API here takes more.
const MAX_BODY: usize = 1 << 20;

/// A request body; `E` is the dialect's error type, so a malformed body is
/// refused in that dialect's own shape.
pub struct Payload<E>(pub Value, PhantomData<E>);

impl<S, E> FromRequest<S> for Payload<E>
where
    S: Send + Sync,
    E: From<CoreError> + IntoResponse,
{
    type Rejection = E;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| CoreError::invalid(format!("could not read the request body: {e}")))?;
        if bytes.len() > MAX_BODY {
            return Err(CoreError::invalid("request body too large").into());
        }
        Ok(Payload::new(parse_body(&bytes, is_form)?))
    }
}

pub fn parse_body(bytes: &[u8], is_form: bool) -> Result<Value, CoreError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    if is_form {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
            .map_err(|e| CoreError::invalid(format!("malformed form body: {e}")))?;
        return Ok(Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| CoreError::invalid(format!("JSON parse error - {e}")))
}

impl<E> Payload<E> {
    pub fn new(value: Value) -> Self {
        Payload(value, PhantomData)
    }

    pub fn object(&self) -> Result<&Map<String, Value>, CoreError> {
        self.0
            .as_object()
            .ok_or_else(|| CoreError::invalid("the request body must be a JSON object"))
    }

    /// An optional string field; other JSON types are a 400 naming the field.
    pub fn opt_str(&self, field: &str) -> Result<Option<&str>, CoreError> {
        match self.object()?.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(CoreError::invalid_field(field, "must be a string")),
        }
    }

    pub fn str(&self, field: &str) -> Result<&str, CoreError> {
        self.opt_str(field)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CoreError::invalid_field(field, "This field is required."))
    }

    /// An optional integer, also accepted as a numeric string (form bodies).
    pub fn opt_int(&self, field: &str) -> Result<Option<i64>, CoreError> {
        match self.object()?.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| CoreError::invalid_field(field, "must be an integer")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| CoreError::invalid_field(field, "must be an integer")),
            Some(_) => Err(CoreError::invalid_field(field, "must be an integer")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_form_and_empty_bodies() {
        assert_eq!(parse_body(b"", false).unwrap(), json!({}));
        assert_eq!(parse_body(br#"{"a": 1}"#, false).unwrap(), json!({"a": 1}));
        assert_eq!(
            parse_body(b"username=a&password=b%20c", true).unwrap(),
            json!({"username": "a", "password": "b c"})
        );
        assert!(parse_body(b"{nope", false).is_err());
    }

    #[test]
    fn typed_fields() {
        let p = Payload::<CoreError>::new(json!({"s": "x", "n": 3, "ns": "4", "bad": [1]}));
        assert_eq!(p.str("s").unwrap(), "x");
        assert!(p.str("missing").is_err());
        assert!(p.opt_str("n").is_err());
        assert_eq!(p.opt_int("n").unwrap(), Some(3));
        assert_eq!(p.opt_int("ns").unwrap(), Some(4));
        assert!(p.opt_int("bad").is_err());
        assert!(Payload::<CoreError>::new(json!([1])).object().is_err());
    }
}
