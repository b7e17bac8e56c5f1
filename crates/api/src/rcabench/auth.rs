//! Accounts: register and log in under `/api/v2/auth`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use berth_core::model::rfc3339;
use serde_json::json;

use super::error::RcaResult;
use super::views::{self, ok, reply};
use super::{Body, RcaBench};
use crate::AppState;
use crate::common::{MaybeCaller, Peer};

/// How long a token issued at login is valid.
const TOKEN_TTL: time::Duration = time::Duration::hours(24);

/// `POST /api/v2/auth/register` → 201 with the new user.
pub async fn register(
    State(s): State<AppState>,
    actor: MaybeCaller<RcaBench>,
    body: Body,
) -> RcaResult<Response> {
    let o = body.fields_named("body")?;
    let username = o.str("username")?;
    let password = o.str("password")?;
    let email = o.opt_str("email")?.unwrap_or_default();
    let user = s
        .berth
        .register(actor.user.as_ref(), username, password, email)
        .await?;
    Ok(reply(
        StatusCode::CREATED,
        "User registered successfully",
        views::user(&user),
    ))
}

/// `POST /api/v2/auth/login` → 200 with a Berth token valid for a day.
pub async fn login(State(s): State<AppState>, Peer(peer): Peer, body: Body) -> RcaResult<Response> {
    let o = body.fields_named("body")?;
    let user = s
        .berth
        .check_password(o.str("username")?, o.str("password")?, peer)
        .await?;
    let (token, secret) = s.berth.issue_token(&user, Some(TOKEN_TTL)).await?;
    let expires = token.expires.map(rfc3339).unwrap_or_default();
    Ok(ok(
        "Login successful",
        json!({"token": secret, "expires_at": expires, "user": views::user(&user)}),
    ))
}
