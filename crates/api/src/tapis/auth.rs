//! The browser login for pod endpoints with `tapis_auth`:
//! `GET /v3/pods/{pod_id}/auth` (a token in a header logs in at once,
//! else a login form), `POST` of that form, and `GET …/auth/callback`,
//! which passes a code on to the pod's own host, where the router turns it
//! into the pod session cookie. `pod_id_net` is the first label of the
//! endpoint's host: `<pod_id>` or `<pod_id>-<entry>`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use berth_core::CoreError;
use berth_core::pods::networking::{self, PodEndpoint};

use utoipa::ToSchema;

use super::error::{ErrorBody, TapisResult};
use super::{Body, Tapis};
use crate::AppState;
use crate::common::{MaybeCaller, Peer};

/// Where the code goes: the callback on the endpoint's host, `origin` (as
/// the router saw the request) when given, else the scheme Berth is served with.
fn callback_url(s: &AppState, endpoint: &PodEndpoint, origin: Option<&str>) -> TapisResult<String> {
    let scheme = if s.berth.settings.public_url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    Ok(networking::auth_callback_url(endpoint, origin, scheme)?)
}

fn redirect(status: StatusCode, location: &str) -> Response {
    (status, [(header::LOCATION, location.to_string())]).into_response()
}

/// Text made safe to put in HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The login form, posting back to the same path.
fn login_form(status: StatusCode, pod_id_net: &str, origin: Option<&str>, error: &str) -> Response {
    let origin = origin.map(escape).unwrap_or_default();
    let error = if error.is_empty() {
        String::new()
    } else {
        format!("<p role=\"alert\">{}</p>", escape(error))
    };
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Log in to {pod}</title></head>\
         <body><h1>Log in to {pod}</h1>{error}\
         <form method=\"post\"><input type=\"hidden\" name=\"origin\" value=\"{origin}\">\
         <label>User name <input name=\"username\" autocomplete=\"username\" required></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Log in</button></form></body></html>",
        pod = escape(pod_id_net),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

/// The browser login to a pod endpoint. With a valid token in a header:
/// straight on to the pod's host with a code. Without one: the login form.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/auth", tag = "tapis", operation_id = "tapis_pod_auth",
    params(("pod_id" = String, Path, description = "The first label of the endpoint's host: `<pod_id>` or `<pod_id>-<entry>`"),
        ("origin" = Option<String>, Query, description = "The endpoint's origin as the router saw it")),
    responses(
        (status = 200, description = "The login form", content_type = "text/html", body = String),
        (status = 302, description = "On to the callback on the pod's host, with a code"),
        (status = 400, description = "A malformed origin", body = ErrorBody),
        (status = 401, description = "A token that is not valid", body = ErrorBody),
        (status = 403, description = "The endpoint has no `tapis_auth`, or does not let the user through", body = ErrorBody),
        (status = 404, description = "No such pod endpoint", body = ErrorBody),
    ),
    security((), ("tapisToken" = []), ("bearer" = [])))]
pub async fn pod_auth(
    State(s): State<AppState>,
    caller: MaybeCaller<Tapis>,
    Path(pod_id_net): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Response> {
    let endpoint = s.berth.pod_login_endpoint(&pod_id_net).await?;
    let origin = q.get("origin").map(String::as_str);
    let callback = callback_url(&s, &endpoint, origin)?;
    match caller.user {
        Some(user) => {
            let (_, code) = s.berth.issue_pod_auth_code(&user, &pod_id_net).await?;
            Ok(redirect(
                StatusCode::FOUND,
                &format!("{callback}?code={code}"),
            ))
        }
        None => Ok(login_form(StatusCode::OK, &pod_id_net, origin, "")),
    }
}

/// The login form's fields.
#[derive(ToSchema)]
#[schema(as = TapisPodLogin)]
#[allow(dead_code)]
pub struct PodLogin {
    username: String,
    password: String,
    /// The endpoint's origin as the router saw it.
    origin: Option<String>,
}

/// The login form's post (form or JSON: `username`, `password`, `origin`).
#[utoipa::path(post, path = "/v3/pods/{pod_id}/auth", tag = "tapis", operation_id = "tapis_pod_auth_login",
    params(("pod_id" = String, Path, description = "The first label of the endpoint's host: `<pod_id>` or `<pod_id>-<entry>`")),
    request_body(content((PodLogin = "application/x-www-form-urlencoded"), (PodLogin = "application/json"))),
    responses(
        (status = 303, description = "On to the callback on the pod's host, with a code"),
        (status = 400, description = "A malformed request or origin", body = ErrorBody),
        (status = 401, description = "The form again: wrong user name or password", content_type = "text/html", body = String),
        (status = 403, description = "The endpoint has no `tapis_auth`, or does not let the user through", body = ErrorBody),
        (status = 404, description = "No such pod endpoint", body = ErrorBody),
        (status = 429, description = "The form again: too many failed attempts", content_type = "text/html", body = String),
    ))]
pub async fn pod_auth_login(
    State(s): State<AppState>,
    Peer(peer): Peer,
    Path(pod_id_net): Path<String>,
    body: Body,
) -> TapisResult<Response> {
    let endpoint = s.berth.pod_login_endpoint(&pod_id_net).await?;
    let origin = body.opt_str("origin")?;
    let callback = callback_url(&s, &endpoint, origin)?;
    let user = match s
        .berth
        .check_password(body.str("username")?, body.str("password")?, peer)
        .await
    {
        Ok(user) => user,
        Err(CoreError::TooManyAttempts(message)) => {
            return Ok(login_form(
                StatusCode::TOO_MANY_REQUESTS,
                &pod_id_net,
                origin,
                &message,
            ));
        }
        Err(CoreError::Refused { .. }) => {
            return Ok(login_form(
                StatusCode::UNAUTHORIZED,
                &pod_id_net,
                origin,
                "Wrong user name or password.",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let (_, code) = s.berth.issue_pod_auth_code(&user, &pod_id_net).await?;
    Ok(redirect(
        StatusCode::SEE_OTHER,
        &format!("{callback}?code={code}"),
    ))
}

/// Tapis's callback path: the code is redeemed on the pod's host (where the
/// cookie belongs), so this passes it on there.
#[utoipa::path(get, path = "/v3/pods/{pod_id}/auth/callback", tag = "tapis", operation_id = "tapis_pod_auth_callback",
    params(("pod_id" = String, Path, description = "The first label of the endpoint's host: `<pod_id>` or `<pod_id>-<entry>`"),
        ("code" = String, Query, description = "The login code (hex)"),
        ("origin" = Option<String>, Query, description = "The endpoint's origin as the router saw it")),
    responses(
        (status = 302, description = "On to the callback on the pod's host, with the code"),
        (status = 400, description = "No code, or a malformed origin", body = ErrorBody),
        (status = 403, description = "The endpoint has no `tapis_auth`, or does not let the user through", body = ErrorBody),
        (status = 404, description = "No such pod endpoint", body = ErrorBody),
    ))]
pub async fn pod_auth_callback(
    State(s): State<AppState>,
    Path(pod_id_net): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> TapisResult<Response> {
    let endpoint = s.berth.pod_login_endpoint(&pod_id_net).await?;
    let code = q
        .get("code")
        .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| CoreError::invalid_field("code", "the login code is missing"))?;
    let callback = callback_url(&s, &endpoint, q.get("origin").map(String::as_str))?;
    Ok(redirect(
        StatusCode::FOUND,
        &format!("{callback}?code={code}"),
    ))
}
