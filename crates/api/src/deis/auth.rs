//! Accounts and tokens: the handshake, register, login, cancel, password
//! change and token regeneration under `/v1/auth`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::model::PersonalName;
use serde_json::{Value, json};

use super::error::DeisResult;
use super::{API_VERSION, Body, Caller, Deis, views};
use crate::AppState;
use crate::common::{MaybeCaller, Peer};

/// The Deis CLI checks that an unauthenticated `GET /v1/` is a 401 before
/// it registers or logs in, and reads the API version from it.
pub async fn handshake() -> Response {
    let mut res = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"detail": "Authentication credentials were not provided."})),
    )
        .into_response();
    res.headers_mut().insert(
        HeaderName::from_static("deis_api_version"),
        HeaderValue::from_static(API_VERSION),
    );
    res
}

pub async fn register(
    State(s): State<AppState>,
    actor: MaybeCaller<Deis>,
    body: Body,
) -> DeisResult<(StatusCode, Json<Value>)> {
    let email = body.opt_str("email")?.unwrap_or_default();
    let name = PersonalName {
        first: body.opt_str("first_name")?.unwrap_or_default().to_owned(),
        last: body.opt_str("last_name")?.unwrap_or_default().to_owned(),
    };
    let user = s
        .berth
        .register_named(
            actor.user.as_ref(),
            body.str("username")?,
            body.str("password")?,
            email,
            &name,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(views::user(&user))))
}

pub async fn login(
    State(s): State<AppState>,
    Peer(peer): Peer,
    body: Body,
) -> DeisResult<Json<Value>> {
    let (_, token) = s
        .berth
        .login(body.str("username")?, body.str("password")?, peer)
        .await?;
    Ok(Json(json!({ "token": token })))
}

pub async fn cancel(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> DeisResult<StatusCode> {
    s.berth.cancel_account(&user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"password": old, "new_password": new}`; an administrator may name
/// another `username`. The account's other tokens stop working.
pub async fn passwd(
    State(s): State<AppState>,
    Caller { user, token, .. }: Caller,
    body: Body,
) -> DeisResult<Json<Value>> {
    let old = body.opt_str("password")?.unwrap_or_default();
    s.berth
        .change_password(
            &user,
            old,
            body.str("new_password")?,
            body.opt_str("username")?,
            token.as_deref(),
        )
        .await?;
    Ok(Json(json!({})))
}

/// Revokes the caller's tokens (or another user's, or everyone's, for
/// administrators) and returns a fresh one for the caller.
pub async fn regenerate(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<Json<Value>> {
    let all = matches!(body.object()?.get("all"), Some(Value::Bool(true)))
        || body
            .opt_str("all")?
            .is_some_and(|a| a.eq_ignore_ascii_case("true"));
    let token = s
        .berth
        .regenerate_token(&user, body.opt_str("username")?, all)
        .await?;
    Ok(Json(match token {
        Some(t) => json!({ "token": t }),
        None => json!({}),
    }))
}
