//! Refusals whose words belong to the dialects. Core says what went wrong
//! (the action is not permitted, a field is blank, an email address is not
//! one, …) as [`CoreError::Refused`]; the API frame puts each dialect's
//! words in its place ([`Refusal::reword`]).

use crate::error::CoreError;

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
    use super::*;

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
