//! Sessions: log in with any Berth account (core's login, with its rate
//! limits), the session cookie that carries the token it issues, the CSRF
//! token bound to that session, and log out (which revokes the token).
//!
//! The cookie is `HttpOnly` (the page's script never sees the token),
//! `SameSite=Strict` (no other site's page sends it) and limited to `/ui`;
//! `Secure` when a TLS proxy in front says the request came over HTTPS.
//! The CSRF token is a hash of the session token under its own prefix: the
//! page reads it from the login answer or `GET /ui/api/session` (answers
//! another origin cannot read) and sends it as `X-CSRF-Token` with every
//! request that changes something; one without it, or with another, is a 403.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use berth_core::CoreError;
use berth_core::auth::token_hash;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ConsoleResult, refused};
use super::openapi::{BadRequest, CsrfToken, Forbidden, TooManyAttempts, Unauthorized};
use super::{Body, Caller, views};
use crate::AppState;
use crate::common::Peer;

const COOKIE: &str = "berth_session";
const CSRF_HEADER: &str = "x-csrf-token";

/// The session token in the request's cookies, if any.
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}

/// The CSRF token of the session whose token is `session`.
pub fn csrf_token(session: &str) -> String {
    token_hash(&format!("berth-console-csrf:{session}"))
}

/// Equal texts, compared in a time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// Refuses a state-changing request of a session without its CSRF token.
/// Requests without a session go on to be refused as unauthenticated;
/// login has no session yet and checks its origin instead.
pub async fn require_csrf(req: Request, next: Next) -> Response {
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if reads || req.uri().path() == "/api/login" {
        return next.run(req).await;
    }
    if let Some(session) = cookie(req.headers()) {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !same(sent, &csrf_token(session)) {
            return refused(StatusCode::FORBIDDEN, "missing or wrong CSRF token");
        }
    }
    next.run(req).await
}

/// A login posted from another site's page is refused: browsers name the
/// page's origin, which must be this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or(origin);
    !host.is_empty() && origin_host == host
}

fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

fn set_cookie(res: &mut Response, value: &str, max_age: Option<u32>, secure: bool) {
    let mut text = format!("{COOKIE}={value}; Path=/ui; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&text) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A login: any Berth account's name and password.
#[derive(ToSchema)]
#[schema(as = console::Login)]
#[expect(
    dead_code,
    reason = "only describes the body; the handler reads it field by field"
)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// Who the session is, and the CSRF token its state-changing requests send.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Session)]
pub struct Session {
    /// Send it as `X-CSRF-Token` with every `POST`.
    pub csrf: String,
    pub user: views::UserView,
}

impl Session {
    fn of(user: &berth_core::model::User, token: &str) -> Self {
        Session {
            csrf: csrf_token(token),
            user: views::user(user),
        }
    }
}

/// Log in: the user and the session's CSRF token; the token in the cookie.
#[utoipa::path(post, path = "/ui/api/login", tag = "console",
    operation_id = "console_login",
    request_body = LoginForm,
    responses(
        (status = 200, description = "Logged in; the session token is in the \
            `berth_session` cookie (HttpOnly, SameSite=Strict, Path=/ui)", body = Session,
            headers(("Set-Cookie" = String, description = "`berth_session=…; Path=/ui; HttpOnly; SameSite=Strict`"))),
        BadRequest, Unauthorized, Forbidden, TooManyAttempts,
    ))]
pub async fn login(
    State(s): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Body,
) -> ConsoleResult<Response> {
    if !same_origin(&headers) {
        return Ok(refused(StatusCode::FORBIDDEN, "cross-origin login refused"));
    }
    let (user, token) = s
        .berth
        .login(body.str("username")?, body.str("password")?, peer)
        .await?;
    let mut res = Json(Session::of(&user, &token)).into_response();
    set_cookie(&mut res, &token, None, over_tls(&headers));
    Ok(res)
}

/// Log out: the session's token is revoked and the cookie cleared.
#[utoipa::path(post, path = "/ui/api/logout", tag = "console",
    operation_id = "console_logout",
    params(CsrfToken),
    responses(
        (status = 204, description = "Logged out; the cookie is cleared",
            headers(("Set-Cookie" = String, description = "`berth_session=; …; Max-Age=0`"))),
        Unauthorized, Forbidden,
    ),
    security(("consoleSession" = [])))]
pub async fn logout(
    State(s): State<AppState>,
    Caller { token, .. }: Caller,
    headers: HeaderMap,
) -> ConsoleResult<Response> {
    if let Some(token) = token {
        s.berth.logout(&token).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut res, "", Some(0), over_tls(&headers));
    Ok(res)
}

/// Who the session is, and its CSRF token (for a page loaded anew).
#[utoipa::path(get, path = "/ui/api/session", tag = "console",
    operation_id = "console_session",
    responses(
        (status = 200, description = "The session's user and CSRF token", body = Session),
        Unauthorized,
    ),
    security(("consoleSession" = [])))]
pub async fn current(Caller { user, token, .. }: Caller) -> ConsoleResult<Json<Session>> {
    let token = token.ok_or_else(|| CoreError::Unauthenticated("log in first".into()))?;
    Ok(Json(Session::of(&user, &token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        assert_eq!(cookie(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; berth_session=tok; b=2"),
        );
        assert_eq!(cookie(&h), Some("tok"));
        h.insert(header::COOKIE, HeaderValue::from_static("berth_session="));
        assert_eq!(cookie(&h), None);
    }

    #[test]
    fn csrf_tokens_differ_per_session() {
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert!(same(&csrf_token("a"), &csrf_token("a")));
        assert!(!same("", &csrf_token("a")));
    }

    #[test]
    fn logins_from_other_origins() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8000"));
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8000"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
    }
}
