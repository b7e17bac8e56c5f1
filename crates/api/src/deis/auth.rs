//! Accounts and tokens: the handshake, register, login, cancel, password
//! change and token regeneration under `/v1/auth`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::model::PersonalName;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::views::UserView;
use super::{API_VERSION, Body, Caller, Deis, views};
use crate::AppState;
use crate::common::{MaybeCaller, Peer};

/// A new account: `POST /v1/auth/register`.
#[derive(ToSchema)]
#[schema(as = deis::Registration)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Registration {
    username: String,
    password: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

/// A user name and password: `POST /v1/auth/login`.
#[derive(ToSchema)]
#[schema(as = deis::Login)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Login {
    username: String,
    password: String,
}

/// A password change: `POST /v1/auth/passwd`.
#[derive(ToSchema)]
#[schema(as = deis::PasswordChange)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct PasswordChange {
    /// The current password; an administrator changing another user's leaves it out.
    password: Option<String>,
    new_password: String,
    /// Whose password (administrators only); the caller's when absent.
    username: Option<String>,
}

/// Whose tokens to revoke: `POST /v1/auth/tokens`.
#[derive(ToSchema)]
#[schema(as = deis::TokenRevocation)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct TokenRevocation {
    /// Another user's (administrators only); the caller's when absent.
    username: Option<String>,
    /// Everyone's (administrators only); `true` or the text `true`.
    all: Option<bool>,
}

/// A token to send as `Authorization: token <token>`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Token)]
pub struct TokenView {
    /// Absent when an administrator revoked another user's tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// An empty object: the change is done.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Done)]
pub struct Done {}

/// The Deis CLI checks that an unauthenticated `GET /v1/` is a 401 before
/// it registers or logs in, and reads the API version from it.
#[utoipa::path(get, path = "/v1", tag = "deis", operation_id = "deis_handshake",
    responses((status = 401, description = "Always: the client reads the API version from the header",
        body = ErrorBody,
        headers(("DEIS_API_VERSION" = String, description = "The Deis API version, `1.5`")))))]
pub async fn handshake() -> Response {
    let mut res = (
        StatusCode::UNAUTHORIZED,
        ErrorBody::new("Authentication credentials were not provided.").json(),
    )
        .into_response();
    res.headers_mut().insert(
        HeaderName::from_static("deis_api_version"),
        HeaderValue::from_static(API_VERSION),
    );
    res
}

/// Opens an account; an administrator's credentials may come along.
#[utoipa::path(post, path = "/v1/auth/register", tag = "deis", operation_id = "deis_register",
    request_body(content(
        (Registration = "application/json"),
        (Registration = "application/x-www-form-urlencoded"))),
    security((), ("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The account", body = UserView),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
        (status = 401, description = "Credentials came along and are not valid", body = ErrorBody),
        (status = 403, description = "Registration is closed to the caller", body = ErrorBody),
        (status = 409, description = "The user name is taken", body = ErrorBody)))]
pub async fn register(
    State(s): State<AppState>,
    actor: MaybeCaller<Deis>,
    body: Body,
) -> DeisResult<(StatusCode, Json<UserView>)> {
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

/// A new token for a user name and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "deis", operation_id = "deis_login",
    request_body(content(
        (Login = "application/json"),
        (Login = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "The token", body = TokenView),
        (status = 400, description = "A field is missing, or the credentials are wrong", body = ErrorBody),
        (status = 401, description = "The credentials are wrong", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address or for this user", body = ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    Peer(peer): Peer,
    body: Body,
) -> DeisResult<Json<TokenView>> {
    let (_, token) = s
        .berth
        .login(body.str("username")?, body.str("password")?, peer)
        .await?;
    Ok(Json(TokenView { token: Some(token) }))
}

/// Closes the caller's account.
#[utoipa::path(delete, path = "/v1/auth/cancel", tag = "deis", operation_id = "deis_cancel_account",
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "The account, its tokens and its apps are gone")))]
pub async fn cancel(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> DeisResult<StatusCode> {
    s.berth.cancel_account(&user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"password": old, "new_password": new}`; an administrator may name
/// another `username`. The account's other tokens stop working.
#[utoipa::path(post, path = "/v1/auth/passwd", tag = "deis", operation_id = "deis_change_password",
    request_body(content(
        (PasswordChange = "application/json"),
        (PasswordChange = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = Done),
        (status = 400, description = "A field is missing or invalid, or the old password is wrong", body = ErrorBody),
        (status = 403, description = "Only administrators change another user's password", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords", body = ErrorBody)))]
pub async fn passwd(
    State(s): State<AppState>,
    Caller { user, token, .. }: Caller,
    body: Body,
) -> DeisResult<Json<Done>> {
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
    Ok(Json(Done {}))
}

/// Revokes the caller's tokens (or another user's, or everyone's, for
/// administrators) and returns a fresh one for the caller.
#[utoipa::path(post, path = "/v1/auth/tokens", tag = "deis", operation_id = "deis_regenerate_tokens",
    request_body(content(
        (TokenRevocation = "application/json"),
        (TokenRevocation = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's fresh token, unless another user's were revoked", body = TokenView),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 403, description = "Only administrators revoke others' tokens", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
pub async fn regenerate(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<Json<TokenView>> {
    let all = matches!(body.object()?.get("all"), Some(Value::Bool(true)))
        || body
            .opt_str("all")?
            .is_some_and(|a| a.eq_ignore_ascii_case("true"));
    let token = s
        .berth
        .regenerate_token(&user, body.opt_str("username")?, all)
        .await?;
    Ok(Json(TokenView { token }))
}
