//! [`CoreError`]: every failure a use case reports. Dialects map its
//! variants to their own status codes and shapes; internal failures keep
//! the error that caused them, for the log; refusals ([`Refusal`]) that
//! every dialect words its own way carry no words at all.

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

/// Every failure a use case can report. Dialects map these to their own
/// status codes and error shapes; none of them is ever a panic.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts (failed logins) in a short time; try again later.
    #[error("{0}")]
    TooManyAttempts(String),
    /// A refusal every dialect words its own way (see [`Refusal`]), about
    /// `field` where it names one.
    #[error("{}", refusal.describe())]
    Refused {
        refusal: Refusal,
        field: Option<String>,
    },
    /// The engine or a deadline failed the operation; desired state was restored.
    #[error("{0}")]
    Failed(String),
    #[error("engine unavailable: {0}")]
    Unavailable(#[source] Cause),
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn invalid(message: impl Into<String>) -> Self {
        CoreError::Invalid {
            field: None,
            message: message.into(),
        }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        CoreError::NotFound(what.into())
    }

    /// The engine failed; `source` is kept as the cause.
    pub fn unavailable(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        CoreError::Unavailable(Cause::from_error(source))
    }

    /// An internal failure that `source` describes itself.
    pub fn internal_from(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        CoreError::Internal(Cause::from_error(source))
    }

    /// An internal failure described by `context`, caused by `source`.
    pub fn internal(context: &str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        CoreError::Internal(Cause::with_context(context, source))
    }
}

/// What failed inside, as one line of text, with the error that caused it
/// when there is one (its `source()`). Two causes are equal when their texts
/// are.
#[derive(Clone)]
pub struct Cause {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Cause {
    /// A cause whose text is the error's own.
    pub fn from_error(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Cause {
            message: source.to_string(),
            source: Some(Arc::new(source)),
        }
    }

    /// A cause whose text is `context: <the error>`.
    pub fn with_context(
        context: &str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Cause {
            message: format!("{context}: {source}"),
            source: Some(Arc::new(source)),
        }
    }
}

impl From<String> for Cause {
    fn from(message: String) -> Self {
        Cause {
            message,
            source: None,
        }
    }
}

impl From<&str> for Cause {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{:?} (caused by {source:?})", self.message),
            None => write!(f, "{:?}", self.message),
        }
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for Cause {}

/// Maps a store conflict (a taken name) to the error a use case reports,
/// and every other store error as usual.
pub trait OnConflict<T> {
    fn on_conflict(self, conflict: impl FnOnce() -> CoreError) -> CoreResult<T>;
}

impl<T> OnConflict<T> for Result<T, crate::store::StoreError> {
    fn on_conflict(self, conflict: impl FnOnce() -> CoreError) -> CoreResult<T> {
        self.map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => conflict(),
            other => other.into(),
        })
    }
}

// ------------------------------------------------------------------ refusals

/// What went wrong, for refusals that every API words in its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The actor's level is below what the action needs, or the action is
    /// for administrators only.
    PermissionDenied,
    /// A text field that must say something is empty.
    BlankField,
    /// A field that must be given is missing.
    RequiredField,
    /// An email address that is not one.
    InvalidEmail,
    /// A token that no active user holds.
    InvalidToken,
    /// A user name and password that do not match an active user.
    BadCredentials,
}

impl Refusal {
    /// What the refusal means, for logs; no answer shows it.
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::PermissionDenied => "permission denied",
            Refusal::BlankField => "blank field",
            Refusal::RequiredField => "required field missing",
            Refusal::InvalidEmail => "invalid email address",
            Refusal::InvalidToken => "invalid token",
            Refusal::BadCredentials => "bad credentials",
        }
    }

    /// The refusal `error` carries, if it is one.
    pub fn of(error: &CoreError) -> Option<Refusal> {
        match error {
            CoreError::Refused { refusal, .. } => Some(*refusal),
            _ => None,
        }
    }

    /// A refusal as the plain error of its kind, saying `words`: a
    /// permission refusal is forbidden, a field refusal is invalid input,
    /// a credentials refusal is unauthenticated. Any other error is kept.
    pub fn reword(error: CoreError, words: &str) -> CoreError {
        let CoreError::Refused { refusal, field } = error else {
            return error;
        };
        match refusal {
            Refusal::PermissionDenied => CoreError::Forbidden(words.to_string()),
            Refusal::BlankField | Refusal::RequiredField | Refusal::InvalidEmail => {
                CoreError::Invalid {
                    field,
                    message: words.to_string(),
                }
            }
            Refusal::InvalidToken | Refusal::BadCredentials => {
                CoreError::Unauthenticated(words.to_string())
            }
        }
    }
}

impl CoreError {
    /// The actor may not do this ([`Refusal::PermissionDenied`]).
    pub fn permission_denied() -> Self {
        refused(Refusal::PermissionDenied, None)
    }

    /// `field` is empty ([`Refusal::BlankField`]).
    pub fn blank_field(field: &str) -> Self {
        refused(Refusal::BlankField, Some(field))
    }

    /// `field` is missing ([`Refusal::RequiredField`]).
    pub fn required_field(field: &str) -> Self {
        refused(Refusal::RequiredField, Some(field))
    }

    /// `field` is not an email address ([`Refusal::InvalidEmail`]).
    pub fn invalid_email(field: &str) -> Self {
        refused(Refusal::InvalidEmail, Some(field))
    }

    /// The token is unknown, expired or revoked ([`Refusal::InvalidToken`]).
    pub fn invalid_token() -> Self {
        refused(Refusal::InvalidToken, None)
    }

    /// The user name and password do not match ([`Refusal::BadCredentials`]).
    pub fn bad_credentials() -> Self {
        refused(Refusal::BadCredentials, None)
    }
}

fn refused(refusal: Refusal, field: Option<&str>) -> CoreError {
    CoreError::Refused {
        refusal,
        field: field.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use crate::runtime::RuntimeError;
    use std::error::Error;

    use super::*;

    #[test]
    fn internal_errors_keep_their_cause() {
        let io = std::io::Error::other("disk on fire");
        let e = CoreError::internal("writing the data set", io);
        assert_eq!(
            e.to_string(),
            "internal error: writing the data set: disk on fire"
        );
        let cause = e.source().expect("a cause");
        assert_eq!(cause.to_string(), "writing the data set: disk on fire");
        assert_eq!(
            cause.source().expect("its source").to_string(),
            "disk on fire"
        );
    }

    #[test]
    fn engine_errors_map_by_kind() {
        assert_eq!(
            CoreError::from(RuntimeError::NotFound("container x".into())),
            CoreError::NotFound("container x not found".into())
        );
        assert_eq!(
            CoreError::from(RuntimeError::TooLarge(
                "the archive of /x is over 1 bytes".into()
            )),
            CoreError::invalid("the archive of /x is over 1 bytes")
        );
        let e = CoreError::from(RuntimeError::Engine("socket closed".into()));
        assert_eq!(e.to_string(), "engine unavailable: engine: socket closed");
        assert!(e.source().and_then(|c| c.source()).is_some());
    }

    #[test]
    fn each_refusal_is_recognised_and_nothing_else() {
        let cases = [
            (CoreError::permission_denied(), Refusal::PermissionDenied),
            (CoreError::blank_field("id"), Refusal::BlankField),
            (CoreError::required_field("x"), Refusal::RequiredField),
            (CoreError::invalid_email("email"), Refusal::InvalidEmail),
            (CoreError::invalid_token(), Refusal::InvalidToken),
            (CoreError::bad_credentials(), Refusal::BadCredentials),
        ];
        for (error, refusal) in cases {
            assert_eq!(Refusal::of(&error), Some(refusal));
        }
        assert_eq!(Refusal::of(&CoreError::Forbidden("no".into())), None);
        assert_eq!(Refusal::of(&CoreError::not_found("x")), None);
    }

    #[test]
    fn rewording_keeps_the_kind_and_the_field() {
        assert_eq!(
            Refusal::reword(CoreError::blank_field("id"), "empty"),
            CoreError::invalid_field("id", "empty")
        );
        assert_eq!(
            Refusal::reword(CoreError::permission_denied(), "no"),
            CoreError::Forbidden("no".into())
        );
    }
}
