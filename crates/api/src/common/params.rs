//! Query-string and path parameters read by name, refused in the dialect's
//! own shape when malformed, and the yes/no flags requests carry.

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use berth_core::CoreError;

use super::body::must_be;
use super::error::{Dialect, DialectError};

/// A yes/no request parameter: true, false, 1, 0, yes or no (any case).
pub fn parse_flag(field: &str, text: &str) -> Result<bool, CoreError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(CoreError::invalid_field(field, "must be true or false")),
    }
}

/// Query-string parameters of a request in dialect `D`; a malformed query
/// string is a 400 in that dialect's shape.
pub struct Params<D> {
    values: HashMap<String, String>,
    dialect: PhantomData<D>,
}

impl<S: Send + Sync, D: Dialect> FromRequestParts<S> for Params<D> {
    type Rejection = DialectError<D>;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| CoreError::invalid(format!("malformed query string: {e}")))?;
        Ok(Params {
            values: pairs.into_iter().collect(),
            dialect: PhantomData,
        })
    }
}

impl<D> Params<D> {
    /// A parameter's value, trimmed; an empty one counts as absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, CoreError> {
        self.text(name)
            .ok_or_else(|| CoreError::invalid_field(name, "this parameter is required"))
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, CoreError> {
        self.text(name)
            .map(|v| v.parse().map_err(|_| must_be(name, "an integer")))
            .transpose()
    }

    pub fn flag(&self, name: &str) -> Result<Option<bool>, CoreError> {
        self.text(name).map(|v| parse_flag(name, v)).transpose()
    }
}

/// Path parameters by name of a request in dialect `D`; a malformed path is
/// a 400 in that dialect's shape.
pub struct PathParams<D> {
    values: HashMap<String, String>,
    dialect: PhantomData<D>,
}

impl<S: Send + Sync, D: Dialect> FromRequestParts<S> for PathParams<D> {
    type Rejection = DialectError<D>;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(values) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| CoreError::invalid(format!("malformed path: {e}")))?;
        Ok(PathParams {
            values,
            dialect: PhantomData,
        })
    }
}

impl<D> PathParams<D> {
    /// A positive integer id, else "Invalid <name>" (400).
    pub fn id(&self, name: &str) -> Result<i64, CoreError> {
        self.values
            .get(name)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| CoreError::invalid_field(name, format!("Invalid {name}")))
    }

    pub fn text(&self, name: &str) -> &str {
        self.values
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}
