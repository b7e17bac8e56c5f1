//! [`CoreError`]: every failure a use case reports. Dialects map its
//! variants to their own status codes and shapes; internal failures keep
//! the error that caused them, for the log.

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

use crate::refusal::Refusal;
use crate::runtime::RuntimeError;

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

/// An engine failure as a use case reports it: what is missing is missing,
/// anything else means the engine is unavailable.
impl From<RuntimeError> for CoreError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::NotFound(what) => CoreError::not_found(format!("{what} not found")),
            other => CoreError::unavailable(other),
        }
    }
}

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

#[cfg(test)]
mod tests {
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
        let e = CoreError::from(RuntimeError::Engine("socket closed".into()));
        assert_eq!(e.to_string(), "engine unavailable: engine: socket closed");
        assert!(e.source().and_then(|c| c.source()).is_some());
    }
}
