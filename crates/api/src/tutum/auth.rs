//! Accounts: an API key for a user and password (`/api/v1/auth`), sign-up
//! (`/api/v1/register`), and the credential forms Tutum clients send.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use berth_core::CoreError;
use serde_json::{Value, json};

use super::error::{TutumError, TutumResult};
use super::{Body, Tutum, views};
use crate::AppState;
use crate::common::error::worded;
use crate::common::{Credentials, MaybeCaller, Peer};

/// `ApiKey user:key` or Basic `user:secret` (the secret a key or a
/// password), or a bare Berth token (`token T`, `Bearer T`).
pub fn credentials(header: &str) -> Option<Credentials> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    let rest = rest.trim();
    let pair = match scheme.to_ascii_lowercase().as_str() {
        "apikey" => rest.to_string(),
        "basic" => String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?,
        )
        .ok()?,
        "token" | "bearer" => return Some(Credentials::Token(rest.to_string())),
        _ => return None,
    };
    let (username, secret) = pair.split_once(':')?;
    Some(Credentials::UserSecret {
        username: username.to_string(),
        secret: secret.to_string(),
    })
}

/// `GET /api/v1/auth/` with Basic user:password: the user's API key (a new Berth token).
pub async fn api_key(
    State(s): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
) -> TutumResult<Json<Value>> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let user = match credentials(header) {
        Some(credentials) => credentials.authenticate(&s.berth, peer).await?,
        None => {
            return Err(TutumError::from(CoreError::Unauthenticated(
                "Authentication credentials were not provided".into(),
            )));
        }
    };
    let (_, key) = s.berth.issue_token(&user, None).await?;
    Ok(Json(views::api_key(&user, &key)))
}

/// `POST /api/v1/register/` → 201; errors in the `{"register": {field: [msg]}}` shape the CLI prints.
pub async fn register(
    State(s): State<AppState>,
    actor: Result<MaybeCaller<Tutum>, TutumError>,
    body: Body,
) -> Response {
    let actor = match actor {
        Ok(actor) => actor.user,
        Err(refused) => return refused.into_response(),
    };
    let outcome = async {
        let username = body.str("username")?;
        let password = body.str("password1")?;
        if body.opt_str("password2")?.is_some_and(|p| p != password) {
            return Err(CoreError::invalid_field(
                "password2",
                "The two password fields didn't match.",
            ));
        }
        let email = body.opt_str("email")?.unwrap_or_default();
        s.berth
            .register(actor.as_ref(), username, password, email)
            .await
    }
    .await;
    match outcome {
        Ok(user) => (StatusCode::CREATED, Json(views::registered(&user))).into_response(),
        Err(e) => {
            let (field, message) = match &worded::<Tutum>(e) {
                CoreError::Invalid { field, message } => {
                    (field.clone().unwrap_or("__all__".into()), message.clone())
                }
                CoreError::Conflict(_) => (
                    "username".into(),
                    "A user with that username already exists.".into(),
                ),
                other => ("__all__".into(), other.to_string()),
            };
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"register": {field: [message]}})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_forms() {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("ann:pw:with:colons")
        );
        assert!(
            matches!(credentials(&basic), Some(Credentials::UserSecret { username, secret }) if username == "ann" && secret == "pw:with:colons")
        );
        assert!(
            matches!(credentials("ApiKey ann:abc"), Some(Credentials::UserSecret { secret, .. }) if secret == "abc")
        );
        assert!(matches!(credentials("Bearer t"), Some(Credentials::Token(t)) if t == "t"));
        assert!(credentials("ApiKey nocolon").is_none());
        assert!(credentials("Digest x").is_none());
    }
}
