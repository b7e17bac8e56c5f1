//! Refusals whose words belong to the dialects. Core says what went wrong
//! (the action is not permitted, a field is blank, an email address is not
//! one, …) and carries it in an ordinary [`CoreError`] under a marker text
//! defined here; the API frame recognises the marker with [`Refusal::of`]
//! and puts each dialect's words in its place.

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
    const ALL: [Refusal; 6] = [
        Refusal::PermissionDenied,
        Refusal::BlankField,
        Refusal::RequiredField,
        Refusal::InvalidEmail,
        Refusal::InvalidToken,
        Refusal::BadCredentials,
    ];

    /// The text a refusal carries inside core; no answer shows it.
    fn marker(self) -> &'static str {
        match self {
            Refusal::PermissionDenied => "refusal: permission denied",
            Refusal::BlankField => "refusal: blank field",
            Refusal::RequiredField => "refusal: required field",
            Refusal::InvalidEmail => "refusal: invalid email address",
            Refusal::InvalidToken => "refusal: invalid token",
            Refusal::BadCredentials => "refusal: bad credentials",
        }
    }

    /// The refusal `error` carries, if it carries one.
    pub fn of(error: &CoreError) -> Option<Refusal> {
        let text = match error {
            CoreError::Invalid { message, .. } => message,
            CoreError::Forbidden(m) | CoreError::Unauthenticated(m) => m,
            _ => return None,
        };
        Refusal::ALL.into_iter().find(|r| r.marker() == text)
    }

    /// `error` with this refusal's marker replaced by `words`.
    pub fn reword(error: CoreError, words: &str) -> CoreError {
        match error {
            CoreError::Invalid { field, .. } => CoreError::Invalid {
                field,
                message: words.to_string(),
            },
            CoreError::Forbidden(_) => CoreError::Forbidden(words.to_string()),
            CoreError::Unauthenticated(_) => CoreError::Unauthenticated(words.to_string()),
            other => other,
        }
    }
}

impl CoreError {
    /// The actor may not do this ([`Refusal::PermissionDenied`]).
    pub fn permission_denied() -> Self {
        CoreError::Forbidden(Refusal::PermissionDenied.marker().into())
    }

    /// `field` is empty ([`Refusal::BlankField`]).
    pub fn blank_field(field: &str) -> Self {
        CoreError::invalid_field(field, Refusal::BlankField.marker())
    }

    /// `field` is missing ([`Refusal::RequiredField`]).
    pub fn required_field(field: &str) -> Self {
        CoreError::invalid_field(field, Refusal::RequiredField.marker())
    }

    /// `field` is not an email address ([`Refusal::InvalidEmail`]).
    pub fn invalid_email(field: &str) -> Self {
        CoreError::invalid_field(field, Refusal::InvalidEmail.marker())
    }

    /// The token is unknown, expired or revoked ([`Refusal::InvalidToken`]).
    pub fn invalid_token() -> Self {
        CoreError::Unauthenticated(Refusal::InvalidToken.marker().into())
    }

    /// The user name and password do not match ([`Refusal::BadCredentials`]).
    pub fn bad_credentials() -> Self {
        CoreError::Unauthenticated(Refusal::BadCredentials.marker().into())
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
