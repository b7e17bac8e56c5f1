//! The gate of Tapis pod endpoints: the address allow-list, CORS, and
//! `tapis_auth` — a token or the pod session cookie of a user the entry
//! allows, else a browser is sent to log in and others get 401. The login
//! ends at the callback path on the pod's own host, where the one-time code
//! becomes the session cookie.

use std::sync::Arc;

use async_trait::async_trait;
use berth_core::networking::{
    AUTH_CALLBACK_PATH, POD_SESSION_COOKIE, cors_headers, ip_allowed, preflight_method,
    session_set_cookie, strip_session_cookie, traffic_token,
};
use berth_core::routing::RouteAuth;
use berth_core::service::Berth;
use hyper::HeaderMap;

use crate::Scheme;
use crate::gate::{Admission, Gate, GateRequest};

pub struct PodGate {
    berth: Arc<Berth>,
}

impl PodGate {
    pub fn new(berth: Arc<Berth>) -> Self {
        PodGate { berth }
    }
}

fn text(status: u16, body: &str) -> Admission {
    Admission::Answer {
        status,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: format!("{status} {body}\n"),
    }
}

fn refusal(status: u16) -> &'static str {
    match status {
        401 => "Unauthorized: send a token of a user this pod allows (X-Tapis-Token)",
        403 => "Forbidden: this pod does not allow you",
        404 => "Not Found: no such pod endpoint",
        _ => "Service Unavailable: try again shortly",
    }
}

/// A browser finding its way, not an API client: it is sent to log in.
fn is_browser(headers: &HeaderMap) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    header("accept").contains("text/html") || header("sec-fetch-mode") == "navigate"
}

#[async_trait]
impl Gate for PodGate {
    async fn admit(&self, request: GateRequest<'_>) -> Admission {
        let RouteAuth::TapisPod { pod_id, endpoint } = request.auth else {
            return Admission::Pass {
                request_headers: Vec::new(),
                response_headers: Vec::new(),
            };
        };
        if !ip_allowed(endpoint, request.client) {
            return text(403, "Forbidden: your address may not reach this pod");
        }
        let pairs: Vec<(&str, &str)> = request
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let origin = request.headers.get("origin").and_then(|v| v.to_str().ok());
        if let Some(method) = preflight_method(request.method, &pairs) {
            return Admission::Answer {
                status: 204,
                headers: cors_headers(endpoint, origin, method, true),
                body: String::new(),
            };
        }
        let response_headers = cors_headers(endpoint, origin, request.method, false);
        if !endpoint.auth.enabled {
            return Admission::Pass {
                request_headers: Vec::new(),
                response_headers,
            };
        }
        let path = request.path_and_query.split('?').next().unwrap_or("/");
        if path == AUTH_CALLBACK_PATH {
            let code = request
                .path_and_query
                .split_once('?')
                .map(|(_, q)| q)
                .unwrap_or("")
                .split('&')
                .find_map(|pair| pair.strip_prefix("code="))
                .unwrap_or("");
            return match self.berth.redeem_pod_auth_code(code, request.host) {
                Some(grant) => Admission::Answer {
                    status: 302,
                    headers: vec![
                        ("location".into(), grant.return_path.clone()),
                        (
                            "set-cookie".into(),
                            session_set_cookie(
                                &grant.session,
                                grant.max_age,
                                request.scheme == Scheme::Https,
                            ),
                        ),
                    ],
                    body: String::new(),
                },
                None => text(401, "Unauthorized: the login code is unknown or used"),
            };
        }
        let token = traffic_token(&pairs);
        match self
            .berth
            .authorize_pod_traffic(pod_id, &endpoint.name, token)
            .await
        {
            Ok(user) => {
                let mut request_headers = user.headers;
                // The pod never sees the session that opened it.
                let cookies = request
                    .headers
                    .get("cookie")
                    .and_then(|v| v.to_str().ok())
                    .filter(|c| c.contains(POD_SESSION_COOKIE));
                if let Some(cookies) = cookies {
                    request_headers.push((
                        "cookie".into(),
                        strip_session_cookie(cookies).unwrap_or_default(),
                    ));
                }
                Admission::Pass {
                    request_headers,
                    response_headers,
                }
            }
            Err(denied) => match denied.login_url() {
                Some(login) if is_browser(request.headers) => {
                    let separator = if login.contains('?') { '&' } else { '?' };
                    let location = format!(
                        "{login}{separator}origin={}://{}",
                        request.scheme.as_str(),
                        request.host
                    );
                    Admission::Answer {
                        status: 302,
                        headers: vec![("location".into(), location)],
                        body: String::new(),
                    }
                }
                _ => text(denied.status(), refusal(denied.status())),
            },
        }
    }
}
