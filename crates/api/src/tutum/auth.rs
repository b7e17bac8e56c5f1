//! Accounts: an API key for a user and password (`/api/v1/auth`), sign-up
//! (`/api/v1/register`), and the credential forms Tutum clients send.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use berth_core::CoreError;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::error::{ErrorBody, TutumError, TutumResult};
use super::openapi::CallerRefusals;
use super::views::{ApiKeyList, Registered};
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

/// The caller's API key (a new Berth token), for Basic `user:password`.
#[utoipa::path(get, path = "/api/v1/auth", tag = "tutum",
    operation_id = "tutum_auth_api_key",
    responses(
        (status = 200, description = "The key, as a one-item list", body = ApiKeyList),
        CallerRefusals,
    ),
    security(("basic" = []), ("apiKey" = []), ("bearer" = [])))]
pub async fn api_key(
    State(s): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
) -> TutumResult<Json<ApiKeyList>> {
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

/// The fields sign-up reads, from a JSON object or a form.
#[derive(ToSchema)]
#[schema(as = TutumRegistration)]
#[allow(dead_code)] // describes what `register` reads; nothing builds it
pub struct Registration {
    username: String,
    password1: String,
    /// When given, must equal `password1`.
    password2: Option<String>,
    email: Option<String>,
}

/// A refused sign-up, as the Tutum CLI prints it: `{"register": {field: [message]}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumRegisterRefusal)]
pub struct RegisterRefusal {
    /// The field at fault (`__all__` for none) and what is wrong with it.
    register: BTreeMap<String, Vec<String>>,
}

/// Either form a sign-up's 400 takes: a field refused, or a body that is
/// not an object of fields at all.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = TutumRegisterFailure)]
#[allow(dead_code)] // describes the two 400s; each is built as its own type
pub enum RegisterFailure {
    Refused(RegisterRefusal),
    Malformed(ErrorBody),
}

/// Sign up.
///
/// 201 with the new account. Errors come in the
/// `{"register": {field: [msg]}}` shape the CLI prints.
#[utoipa::path(post, path = "/api/v1/register", tag = "tutum",
    operation_id = "tutum_register",
    request_body(content(
        (Registration = "application/json"),
        (Registration = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "The new account", body = Registered),
        (status = 400, description = "A field not valid, a taken user name, or a malformed body", body = RegisterFailure),
        (status = 401, description = "Credentials were sent and are not valid", body = ErrorBody),
        (status = 415, description = "The client accepts no `application/json`", body = ErrorBody),
        (status = 429, description = "Too many failed password attempts", body = ErrorBody),
    ))]
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
            let refusal = RegisterRefusal {
                register: BTreeMap::from([(field, vec![message])]),
            };
            (StatusCode::BAD_REQUEST, Json(refusal)).into_response()
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
