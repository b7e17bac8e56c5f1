//! How a core error becomes an answer: one status table for every dialect,
//! the words for the refusals core reports unworded, and the [`Dialect`]
//! trait through which each dialect gives the body shape, headers,
//! credential forms and field rules around it.

use std::fmt;
use std::marker::PhantomData;

use axum::Json;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use berth_core::error::Refusal;
use serde_json::json;

use super::auth::{Credentials, bearer_token};
use super::body::FieldRules;

/// One API dialect: a zero-sized marker whose impl says how that API
/// words its refusals and reads its callers' credentials.
pub trait Dialect: Send + Sync + 'static {
    /// What a request that carries no credentials is told (401).
    const NO_CREDENTIALS: &'static str;

    /// How this dialect's request bodies are read field by field.
    const FIELDS: FieldRules = FieldRules::STANDARD;

    /// The credentials a request carries, in the forms this dialect reads:
    /// `Ok(None)` when it carries none, an error when it carries some in a
    /// form this dialect cannot read. By default, `Authorization: token T`
    /// or `Authorization: Bearer T`.
    fn credentials(parts: &Parts) -> Result<Option<Credentials>, CoreError> {
        Ok(bearer_token(&parts.headers).map(|t| Credentials::Token(t.to_string())))
    }

    /// A core error in this dialect's body shape and headers, at `status`
    /// (taken from the shared table, [`status_of`]).
    fn error_response(status: StatusCode, error: &CoreError) -> Response;

    /// This dialect's words for a refusal; by default the words every
    /// dialect shares, [`refusal_words`].
    fn refusal_words(refusal: Refusal) -> &'static str {
        refusal_words(refusal)
    }
}

/// Django REST framework's words for each refusal. The Deis CLI prints
/// them, and every other dialect shows them too.
pub fn refusal_words(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::PermissionDenied => "You do not have permission to perform this action.",
        Refusal::BlankField => "This field may not be blank.",
        Refusal::RequiredField => FieldRules::STANDARD.required,
        Refusal::InvalidEmail => "Enter a valid email address.",
        Refusal::InvalidToken => "Invalid token.",
        Refusal::BadCredentials => "Unable to log in with provided credentials.",
    }
}

/// `error` in dialect `D`'s words: a refusal core left unworded gets them.
pub fn worded<D: Dialect>(error: CoreError) -> CoreError {
    match Refusal::of(&error) {
        Some(refusal) => Refusal::reword(error, D::refusal_words(refusal)),
        None => error,
    }
}

/// A core error on its way out in dialect `D`'s shape.
pub struct DialectError<D> {
    pub error: CoreError,
    dialect: PhantomData<D>,
}

impl<D> From<CoreError> for DialectError<D> {
    fn from(error: CoreError) -> Self {
        DialectError {
            error,
            dialect: PhantomData,
        }
    }
}

impl<D> fmt::Debug for DialectError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<D: Dialect> IntoResponse for DialectError<D> {
    fn into_response(self) -> Response {
        let error = worded::<D>(self.error);
        let status = status_of(&error);
        D::error_response(status, &generic(error))
    }
}

/// What an answer says about a failure inside the server: nothing of its
/// cause, which [`status_of`] has logged.
pub fn generic(error: CoreError) -> CoreError {
    match error {
        CoreError::Internal(_) => {
            CoreError::Internal("the server could not complete the request".into())
        }
        CoreError::Unavailable(_) => {
            CoreError::Unavailable("the container engine is not answering".into())
        }
        other => other,
    }
}

/// The HTTP status every dialect gives a core error; internal and engine
/// errors are logged here, once, since no answer carries their detail.
pub fn status_of(error: &CoreError) -> StatusCode {
    match error {
        CoreError::Invalid { .. } | CoreError::Failed(_) => StatusCode::BAD_REQUEST,
        CoreError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
        // Answers word refusals first (`worded`); this is their kind's status.
        refused @ CoreError::Refused { .. } => status_of(&Refusal::reword(refused.clone(), "")),
        CoreError::NotFound(_) => StatusCode::NOT_FOUND,
        CoreError::Conflict(_) => StatusCode::CONFLICT,
        CoreError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
        CoreError::Unavailable(cause) => {
            tracing::warn!(error = %cause, cause = ?cause, "engine unavailable");
            StatusCode::SERVICE_UNAVAILABLE
        }
        CoreError::Internal(cause) => {
            tracing::error!(error = %cause, cause = ?cause, "internal error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// A core error as one line of text, naming the field when there is one.
pub fn message_of(error: &CoreError) -> String {
    match error {
        CoreError::Invalid {
            field: Some(f),
            message,
        } => format!("{f}: {message}"),
        other => other.to_string(),
    }
}

/// The answer for a path no dialect serves, in the native API's shape.
pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deis::Deis;

    async fn body_of(error: CoreError) -> (StatusCode, String) {
        let response = DialectError::<Deis>::from(error).into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn internal_and_engine_failures_answer_without_their_cause() {
        let (status, body) = body_of(CoreError::Internal(
            "error returned from database: disk I/O error at /srv/berth.db".into(),
        ))
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.contains("disk") && !body.contains("/srv"), "{body}");
        let (status, body) = body_of(CoreError::Unavailable(
            "error trying to connect: /run/docker.sock: permission denied".into(),
        ))
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!body.contains("docker.sock"), "{body}");
    }

    #[tokio::test]
    async fn too_many_attempts_is_429() {
        let (status, _) = body_of(CoreError::TooManyAttempts("slow down".into())).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
}
