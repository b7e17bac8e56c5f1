//! `POST /v3/oauth2/tokens`: a JWT for a user name and password.

use axum::Json;
use axum::extract::State;
use berth_core::CoreError;
use serde_json::Value;

use super::Body;
use super::error::TapisResult;
use super::views::{self, ok};
use crate::AppState;
use crate::common::Peer;

/// JWTs live four hours, as Tapis access tokens do.
const TOKEN_TTL: time::Duration = time::Duration::hours(4);

/// `grant_type=password` (JSON or form).
pub async fn create_token(
    State(s): State<AppState>,
    Peer(peer): Peer,
    body: Body,
) -> TapisResult<Json<Value>> {
    let grant = body.opt_str("grant_type")?.unwrap_or("password");
    if grant != "password" {
        return Err(
            CoreError::invalid_field("grant_type", "only the password grant is supported").into(),
        );
    }
    let user = s
        .berth
        .check_password(body.str("username")?, body.str("password")?, peer)
        .await?;
    let claims = views::claims(&user, &s.berth.settings.tenant);
    let (jwt, expires) = s.berth.issue_jwt(&user, TOKEN_TTL, claims).await?;
    Ok(ok(
        "Token created successfully.",
        views::access_token(&jwt, TOKEN_TTL, expires),
    ))
}
