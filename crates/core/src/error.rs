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
    /// The engine or a deadline failed the operation; desired state was restored.
    #[error("{0}")]
    Failed(String),
    #[error("engine unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
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
}
