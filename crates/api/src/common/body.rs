//! Request bodies as JSON or form-encoded, read into one JSON value so that
//! handlers see one shape, and the one set of typed field getters every
//! dialect reads them with. Malformed input is a 400, never axum's 422; a
//! value of the wrong JSON type is a 400 naming the field, never a default.

use std::marker::PhantomData;

use axum::extract::{FromRequest, Request};
use axum::http::header;
use berth_core::CoreError;
use serde_json::{Map, Value};

use super::error::{Dialect, DialectError};

/// Bodies larger than this are refused: no API here takes more.
const MAX_BODY: usize = 1 << 20;

/// Where dialects differ in reading fields: the words for a missing one and
/// how forgiving they are.
#[derive(Debug, Clone, Copy)]
pub struct FieldRules {
    /// What a missing or blank required field is told.
    pub required: &'static str,
    /// Whether a value of only white space is blank.
    pub blank_when_whitespace: bool,
    /// Whether an integer may come as numeric text, as form bodies send it.
    pub integers_from_text: bool,
}

impl FieldRules {
    /// Django REST framework's wording, which the Deis CLI prints, with
    /// integers accepted as text.
    pub const STANDARD: FieldRules = FieldRules {
        required: "This field is required.",
        blank_when_whitespace: false,
        integers_from_text: true,
    };
}

/// The 400 for a field of the wrong kind: "`field`: must be `what`".
pub fn must_be(field: &str, what: &str) -> CoreError {
    CoreError::invalid_field(field, format!("must be {what}"))
}

/// A JSON object's fields, read by type under one dialect's rules.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    rules: FieldRules,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>, rules: FieldRules) -> Self {
        Fields { map, rules }
    }

    /// `value` as the object called `field`; anything else is a 400 naming it.
    pub fn of(value: &'a Value, field: &str, rules: FieldRules) -> Result<Self, CoreError> {
        value
            .as_object()
            .map(|map| Fields::new(map, rules))
            .ok_or_else(|| must_be(field, "an object"))
    }

    /// Another object (a list item, a nested value) read under the same rules.
    pub fn nested(&self, value: &'a Value, field: &str) -> Result<Self, CoreError> {
        Fields::of(value, field, self.rules)
    }

    pub fn map(&self) -> &'a Map<String, Value> {
        self.map
    }

    /// A field's raw value, `null` included.
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field)
    }

    /// An optional string field; other JSON types are a 400 naming the field.
    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, CoreError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(must_be(field, "a string")),
        }
    }

    /// A string field that must be present and not blank.
    pub fn str(&self, field: &str) -> Result<&'a str, CoreError> {
        let blank_when_whitespace = self.rules.blank_when_whitespace;
        self.opt_str(field)?
            .filter(|s| {
                if blank_when_whitespace {
                    !s.trim().is_empty()
                } else {
                    !s.is_empty()
                }
            })
            .ok_or_else(|| CoreError::invalid_field(field, self.rules.required))
    }

    pub fn opt_string(&self, field: &str) -> Result<Option<String>, CoreError> {
        Ok(self.opt_str(field)?.map(str::to_string))
    }

    pub fn string(&self, field: &str) -> Result<String, CoreError> {
        self.str(field).map(str::to_string)
    }

    /// An optional integer; numeric text too where the rules allow it.
    pub fn opt_int(&self, field: &str) -> Result<Option<i64>, CoreError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| must_be(field, "an integer")),
            Some(Value::String(s)) if self.rules.integers_from_text => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| must_be(field, "an integer")),
            Some(_) => Err(must_be(field, "an integer")),
        }
    }

    pub fn opt_bool(&self, field: &str) -> Result<Option<bool>, CoreError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(must_be(field, "true or false")),
        }
    }

    /// Every field must be one of `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), CoreError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(CoreError::invalid_field(
                k,
                format!("unknown field; known fields are {}", known.join(", ")),
            )),
            None => Ok(()),
        }
    }
}

/// A scalar as text: where a string, a number or a boolean all mean the same.
pub fn scalar_text(field: &str, v: &Value) -> Result<String, CoreError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(must_be(field, "a string, number or boolean")),
    }
}

/// A request body in dialect `D`: a malformed one is refused in that
/// dialect's own shape, and its fields are read under that dialect's rules.
pub struct Payload<D>(pub Value, PhantomData<D>);

impl<S, D> FromRequest<S> for Payload<D>
where
    S: Send + Sync,
    D: Dialect,
{
    type Rejection = DialectError<D>;

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

impl<D: Dialect> Payload<D> {
    pub fn new(value: Value) -> Self {
        Payload(value, PhantomData)
    }

    /// The body's fields; a body that is not an object is a 400.
    pub fn fields(&self) -> Result<Fields<'_>, CoreError> {
        self.0
            .as_object()
            .map(|map| Fields::new(map, D::FIELDS))
            .ok_or_else(|| CoreError::invalid("the request body must be a JSON object"))
    }

    /// The body's fields, where the body stands for the object called `name`:
    /// one that is not an object is a 400 naming it.
    pub fn fields_named(&self, name: &str) -> Result<Fields<'_>, CoreError> {
        Fields::of(&self.0, name, D::FIELDS)
    }

    pub fn object(&self) -> Result<&Map<String, Value>, CoreError> {
        Ok(self.fields()?.map())
    }

    pub fn opt_str(&self, field: &str) -> Result<Option<&str>, CoreError> {
        self.fields()?.opt_str(field)
    }

    pub fn str(&self, field: &str) -> Result<&str, CoreError> {
        self.fields()?.str(field)
    }

    pub fn opt_int(&self, field: &str) -> Result<Option<i64>, CoreError> {
        self.fields()?.opt_int(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use serde_json::json;

    struct Standard;

    impl Dialect for Standard {
        const NO_CREDENTIALS: &'static str = "none";
        fn error_response(status: StatusCode, _: &CoreError) -> Response {
            status.into_response()
        }
    }

    const STRICT: FieldRules = FieldRules {
        required: "is required",
        blank_when_whitespace: true,
        integers_from_text: false,
    };

    fn message(e: CoreError) -> String {
        super::super::error::message_of(&e)
    }

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
        let p = Payload::<Standard>::new(json!({"s": "x", "n": 3, "ns": "4", "bad": [1]}));
        assert_eq!(p.str("s").unwrap(), "x");
        assert_eq!(
            message(p.str("missing").unwrap_err()),
            "missing: This field is required."
        );
        assert_eq!(message(p.opt_str("n").unwrap_err()), "n: must be a string");
        assert_eq!(p.opt_int("n").unwrap(), Some(3));
        assert_eq!(p.opt_int("ns").unwrap(), Some(4));
        assert!(p.opt_int("bad").is_err());
        assert_eq!(
            message(Payload::<Standard>::new(json!([1])).object().unwrap_err()),
            "the request body must be a JSON object"
        );
        assert_eq!(
            message(
                Payload::<Standard>::new(json!([1]))
                    .fields_named("body")
                    .unwrap_err()
            ),
            "body: must be an object"
        );
    }

    #[test]
    fn strict_rules() {
        let v = json!({"s": "x", "n": 2, "b": true, "ns": "4", "blank": "  "});
        let o = Fields::of(&v, "body", STRICT).unwrap();
        assert!(o.opt_str("n").is_err());
        assert!(o.opt_int("s").is_err());
        assert!(o.opt_int("ns").is_err());
        assert!(o.opt_bool("n").is_err());
        assert_eq!(o.opt_int("n").unwrap(), Some(2));
        assert_eq!(o.opt_bool("b").unwrap(), Some(true));
        assert_eq!(
            message(o.str("missing").unwrap_err()),
            "missing: is required"
        );
        assert!(o.str("blank").is_err());
        assert!(o.only(&["s", "n"]).is_err());
        assert!(o.only(&["s", "n", "b", "ns", "blank"]).is_ok());
    }
}
