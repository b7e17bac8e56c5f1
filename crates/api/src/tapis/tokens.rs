//! `POST /v3/oauth2/tokens`: a JWT for a user name and password.

use axum::Json;
use axum::extract::State;
use berth_core::CoreError;
use utoipa::ToSchema;

use super::Body;
use super::error::TapisResult;
use super::openapi::LoginRefusals;
use super::views::{self, Envelope, NewToken, ok};
use crate::AppState;
use crate::common::Peer;

/// JWTs live four hours, as Tapis access tokens do.
const TOKEN_TTL: time::Duration = time::Duration::hours(4);

/// A password grant (JSON or form).
#[derive(ToSchema)]
#[schema(as = TapisPasswordGrant)]
#[allow(dead_code)]
pub struct PasswordGrant {
    username: String,
    password: String,
    /// `password`, the only grant; the default.
    grant_type: Option<String>,
}

/// A JWT for a user name and password (`grant_type=password`, JSON or form).
#[utoipa::path(post, path = "/v3/oauth2/tokens", tag = "tapis", operation_id = "tapis_token_create",
    request_body(content((PasswordGrant = "application/json"), (PasswordGrant = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The access token", body = Envelope<NewToken>), LoginRefusals))]
pub async fn create_token(
    State(s): State<AppState>,
    Peer(peer): Peer,
    body: Body,
) -> TapisResult<Json<Envelope<NewToken>>> {
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
