//! Pieces every dialect shares: credentials, request bodies, pagination.

pub mod body;
pub mod health;

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A yes/no request parameter: true, false, 1, 0, yes or no (any case).
pub fn parse_flag(field: &str, text: &str) -> Result<bool, berth_core::CoreError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(berth_core::CoreError::invalid_field(
            field,
            "must be true or false",
        )),
    }
}

/// The token in `Authorization: token T` or `Authorization: Bearer T`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (["token", "bearer"].contains(&scheme.to_ascii_lowercase().as_str()) && !token.is_empty())
        .then_some(token)
}

/// The HTTP status every dialect gives a core error; internal errors are
/// logged here, once, since no answer carries their detail.
pub fn status_of(error: &berth_core::CoreError) -> StatusCode {
    use berth_core::CoreError;
    match error {
        CoreError::Invalid { .. } | CoreError::Failed(_) => StatusCode::BAD_REQUEST,
        CoreError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
        CoreError::NotFound(_) => StatusCode::NOT_FOUND,
        CoreError::Conflict(_) => StatusCode::CONFLICT,
        CoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        CoreError::Internal(m) => {
            tracing::error!(error = %m, "internal error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// A core error as one line of text, naming the field when there is one.
pub fn message_of(error: &berth_core::CoreError) -> String {
    match error {
        berth_core::CoreError::Invalid {
            field: Some(f),
            message,
        } => format!("{f}: {message}"),
        other => other.to_string(),
    }
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response()
}

/// Page size of every `{count,next,previous,results}` listing.
pub const PAGE_SIZE: i64 = 100;

/// 1-based page number from `?page=`; anything unparsable is page 1.
pub fn page_number(raw: Option<&String>) -> i64 {
    raw.and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
        .min(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_from_both_schemes() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("token abc"));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(bearer_token(&h), Some("xyz"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic Zm9v"),
        );
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn pages() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some(&"3".to_string())), 3);
        assert_eq!(page_number(Some(&"-2".to_string())), 1);
        assert_eq!(page_number(Some(&"x".to_string())), 1);
    }
}
