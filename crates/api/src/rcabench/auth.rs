//! Accounts: register and log in under `/api/v2/auth`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use berth_core::model::rfc3339;
use utoipa::ToSchema;

use super::error::RcaResult;
use super::openapi::{BadRequest, Conflict, Forbidden, TooManyAttempts, Unauthorized};
use super::views::{self, Envelope, Login, UserView, ok, reply};
use super::{Body, RcaBench};
use crate::AppState;
use crate::common::{MaybeCaller, Peer};

/// How long a token issued at login is valid.
const TOKEN_TTL: time::Duration = time::Duration::hours(24);

/// The fields `POST /api/v2/auth/register` reads.
#[derive(ToSchema)]
#[schema(as = rcabench::Registration)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Registration {
    username: String,
    password: String,
    email: Option<String>,
}

/// The fields `POST /api/v2/auth/login` reads.
#[derive(ToSchema)]
#[schema(as = rcabench::Credentials)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Credentials {
    username: String,
    password: String,
}

/// Register an account (an administrator's token may register others).
#[utoipa::path(post, path = "/api/v2/auth/register", tag = "rcabench",
    operation_id = "rcabench_auth_register",
    request_body(content(
        (Registration = "application/json"),
        (Registration = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "The new account", body = Envelope<UserView>),
        BadRequest, Unauthorized, Forbidden, Conflict,
    ))]
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

/// Log in: a Berth token valid for a day.
#[utoipa::path(post, path = "/api/v2/auth/login", tag = "rcabench",
    operation_id = "rcabench_auth_login",
    request_body(content(
        (Credentials = "application/json"),
        (Credentials = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "A token and its user", body = Envelope<Login>),
        BadRequest, Unauthorized, TooManyAttempts,
    ))]
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
        Login {
            expires_at: expires,
            token: secret,
            user: views::user(&user),
        },
    ))
}
