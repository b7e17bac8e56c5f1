//! Accounts: register and log in under `/api/v2/auth`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use berth_core::CoreError;
use berth_core::model::rfc3339;
use serde_json::json;

use super::Body;
use super::error::RcaResult;
use super::views::{self, ok, reply};
use crate::AppState;

/// RCABench's own rule for new passwords; its client checks it too.
const MIN_PASSWORD_LEN: usize = 8;
/// How long a token issued at login is valid.
const TOKEN_TTL: time::Duration = time::Duration::hours(24);

/// `POST /api/v2/auth/register` → 201 with the new user.
pub async fn register(State(s): State<AppState>, body: Body) -> RcaResult<Response> {
    let o = body.fields_named("body")?;
    let username = o.str("username")?;
    let password = o.str("password")?;
    let email = o.opt_str("email")?.unwrap_or_default();
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(CoreError::invalid_field(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        )
        .into());
    }
    let user = s.berth.register(username, password, email).await?;
    Ok(reply(
        StatusCode::CREATED,
        "User registered successfully",
        views::user(&user),
    ))
}

/// `POST /api/v2/auth/login` → 200 with a Berth token valid for a day.
pub async fn login(State(s): State<AppState>, body: Body) -> RcaResult<Response> {
    let o = body.fields_named("body")?;
    let user = s
        .berth
        .check_password(o.str("username")?, o.str("password")?)
        .await?;
    let (token, secret) = s.berth.issue_token(&user, Some(TOKEN_TTL)).await?;
    let expires = token.expires.map(rfc3339).unwrap_or_default();
    Ok(ok(
        "Login successful",
        json!({"token": secret, "expires_at": expires, "user": views::user(&user)}),
    ))
}
