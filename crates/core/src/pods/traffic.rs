//! Who may send traffic to a pod endpoint with `tapis_auth`, and the
//! browser login that gets them there without an external authenticator:
//!
//! 1. The router finds no valid token on a request to the pod's host and
//!    sends a browser to `/v3/pods/<pod_id_net>/auth` on the API
//!    ([`Berth::pod_auth_url`]).
//! 2. There the user logs in (or presents a token); Berth checks they may
//!    pass, issues a one-time code valid for a minute
//!    ([`Berth::issue_pod_auth_code`]) and redirects to
//!    `<pod host>/_tapis/auth/callback?code=…`.
//! 3. The router redeems the code on the pod's host
//!    ([`Berth::redeem_pod_auth_code`]), sets the pod session cookie
//!    ([`super::networking::session_set_cookie`]) and redirects to the
//!    entry's `tapis_auth_return_path`.
//! 4. Every later request carries the cookie; [`Berth::authorize_pod_traffic`]
//!    checks it (or an API token in a header) and says which headers the
//!    pod gets.
//!
//! A pod session is not a Berth token: it is signed by the server, names
//! one endpoint of one pod (by the pod's uuid, so a pod made again under
//! the same id does not accept it) and one user, expires, and opens
//! nothing else — the pod's owner never sees a token that acts for its
//! visitors.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::networking::{self, PodEndpoint, pod_endpoints};
use super::pod_meta;
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::service::{Berth, app_object};

/// How long a login code may wait to be redeemed.
const CODE_TTL: time::Duration = time::Duration::minutes(1);
/// How long a pod session lasts (as long as a Tapis access token).
pub const SESSION_TTL: time::Duration = time::Duration::hours(4);
/// Pending codes kept at most; more logins at once wait.
const MAX_PENDING_CODES: usize = 10_000;
/// Marks a pod session, so a token is never taken for one by mistake.
const SESSION_PREFIX: &str = "bps1.";

/// The one who passed: `None` on an endpoint without `tapis_auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficUser {
    pub username: Option<String>,
    /// Headers the router sets on the request it passes to the pod
    /// (`tapis_auth_response_headers`, filled in), replacing the client's.
    pub headers: Vec<(String, String)>,
}

/// Why a request may not reach a pod endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrafficDenied {
    /// No such pod or no such entry in its networking.
    NoSuchEndpoint,
    /// No token: a browser goes to `login_url`, anyone else gets 401.
    NoToken { login_url: String },
    /// A token that is not valid (expired, revoked, for another pod): a
    /// browser logs in again at `login_url`, anyone else gets 401.
    InvalidToken { login_url: String },
    /// Signed in, but not in the entry's `tapis_auth_allowed_users`: 403.
    NotAllowed { username: String },
    /// The store did not answer: 503.
    Unavailable,
}

impl TrafficDenied {
    /// The HTTP status a non-browser client gets.
    pub fn status(&self) -> u16 {
        match self {
            TrafficDenied::NoSuchEndpoint => 404,
            TrafficDenied::NoToken { .. } | TrafficDenied::InvalidToken { .. } => 401,
            TrafficDenied::NotAllowed { .. } => 403,
            TrafficDenied::Unavailable => 503,
        }
    }

    /// Where a browser goes to log in, when logging in would help.
    pub fn login_url(&self) -> Option<&str> {
        match self {
            TrafficDenied::NoToken { login_url } | TrafficDenied::InvalidToken { login_url } => {
                Some(login_url)
            }
            _ => None,
        }
    }
}

/// What a redeemed code gives the router to answer the callback with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodAuthGrant {
    pub pod_id: String,
    pub endpoint: String,
    pub username: String,
    /// The cookie value ([`networking::session_set_cookie`] makes the header).
    pub session: String,
    /// Seconds the session lasts.
    pub max_age: i64,
    /// Where on the pod's host to send the browser now.
    pub return_path: String,
}

/// A code waiting to be redeemed on the pod's host.
#[derive(Debug, Clone)]
struct PendingCode {
    host: String,
    grant: PodAuthGrant,
    expires: Timestamp,
}

/// The codes issued and not yet redeemed; in memory, as they live a minute.
#[derive(Debug, Default)]
pub struct PodAuthCodes(Mutex<HashMap<String, PendingCode>>);

/// What a pod session says; signed, never encrypted (it holds no secret).
#[derive(Debug, Serialize, Deserialize)]
struct SessionClaims {
    pod: uuid::Uuid,
    endpoint: String,
    user_id: i64,
    username: String,
    exp: i64,
}

type HmacSha256 = Hmac<Sha256>;

/// The session key, derived from the server key so a session and a JWT
/// are never signed alike.
fn session_mac(server_key: &[u8]) -> HmacSha256 {
    let mut derive =
        <HmacSha256 as Mac>::new_from_slice(server_key).expect("HMAC takes keys of any length");
    derive.update(b"berth pod session v1");
    let key = derive.finalize().into_bytes();
    <HmacSha256 as Mac>::new_from_slice(&key).expect("HMAC takes keys of any length")
}

fn sign_session(server_key: &[u8], claims: &SessionClaims) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = b64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let mut mac = session_mac(server_key);
    mac.update(payload.as_bytes());
    let signature = b64.encode(mac.finalize().into_bytes());
    format!("{SESSION_PREFIX}{payload}.{signature}")
}

fn verify_session(server_key: &[u8], text: &str, now: Timestamp) -> Option<SessionClaims> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, signature) = text.strip_prefix(SESSION_PREFIX)?.split_once('.')?;
    let mut mac = session_mac(server_key);
    mac.update(payload.as_bytes());
    mac.verify_slice(&b64.decode(signature).ok()?).ok()?;
    let claims: SessionClaims = serde_json::from_slice(&b64.decode(payload).ok()?).ok()?;
    (claims.exp > now.unix_timestamp()).then_some(claims)
}

/// A host without its port, in lower case.
fn bare_host(host: &str) -> String {
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    host.to_ascii_lowercase()
}

/// Every endpoint of a pod as it runs (after the template merge), its hosts
/// under `domain`.
pub fn app_endpoints(app: &App, domain: &str) -> Vec<PodEndpoint> {
    pod_endpoints(&app.id, &pod_meta(app).derived.networking, domain)
}

impl Berth {
    /// Every endpoint of a pod as it runs (after the template merge).
    pub fn endpoints_of(&self, app: &App) -> Vec<PodEndpoint> {
        app_endpoints(app, &self.settings.domain)
    }

    /// The pod and its endpoint `name`, seen by no one in particular (the
    /// router asks before it knows who is calling).
    async fn pod_endpoint(&self, pod_id: &str, name: &str) -> CoreResult<(App, PodEndpoint)> {
        let not_found = || CoreError::not_found(format!("pod {pod_id} not found"));
        let app = self
            .store
            .get_app(pod_id)
            .await?
            .filter(|a| a.kind == AppKind::Pod)
            .ok_or_else(not_found)?;
        let endpoint = self
            .endpoints_of(&app)
            .into_iter()
            .find(|e| e.name == name)
            .ok_or_else(|| {
                CoreError::not_found(format!("pod {pod_id} has no networking entry {name}"))
            })?;
        Ok((app, endpoint))
    }

    /// Where a browser logs in to reach endpoint `pod_id_net` (the first
    /// label of its host).
    pub fn pod_auth_url(&self, pod_id_net: &str) -> String {
        format!(
            "{}/v3/pods/{pod_id_net}/auth",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// Whether `user` passes the endpoint's allow list, and the headers the pod then gets.
    async fn admit_user(
        &self,
        app: &App,
        endpoint: &PodEndpoint,
        user: &User,
    ) -> CoreResult<Option<TrafficUser>> {
        let level = self
            .level_on(user, app.owner_id, &app_object(app), false)
            .await?;
        if !networking::user_allowed(&endpoint.auth.allowed_users, &user.username, level) {
            return Ok(None);
        }
        Ok(Some(TrafficUser {
            username: Some(user.username.clone()),
            headers: networking::auth_headers(endpoint, &user.username, &self.settings.tenant),
        }))
    }

    /// Whether a request bearing `token` (from [`networking::traffic_token`])
    /// may reach endpoint `endpoint` of pod `pod_id`. Without `tapis_auth`
    /// anyone may. With it the token must be a valid Berth token (any
    /// dialect's, a Tapis JWT included) or a pod session for this endpoint,
    /// of an active user whom the entry's `tapis_auth_allowed_users` lets
    /// through: by default (`*`) every signed-in user, as in Tapis;
    /// `AUTHORIZED_READS` / `_USERS` / `_ADMINS` for those holding that
    /// level on the pod; or names.
    pub async fn authorize_pod_traffic(
        &self,
        pod_id: &str,
        endpoint: &str,
        token: Option<&str>,
    ) -> Result<TrafficUser, TrafficDenied> {
        let unavailable = |e: CoreError| match e {
            CoreError::NotFound(_) => TrafficDenied::NoSuchEndpoint,
            _ => TrafficDenied::Unavailable,
        };
        let (app, endpoint) = self
            .pod_endpoint(pod_id, endpoint)
            .await
            .map_err(unavailable)?;
        if !endpoint.auth.enabled {
            return Ok(TrafficUser {
                username: None,
                headers: Vec::new(),
            });
        }
        let login_url = self.pod_auth_url(&networking::pod_id_net(pod_id, &endpoint.name));
        let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Err(TrafficDenied::NoToken { login_url });
        };
        let invalid = || TrafficDenied::InvalidToken {
            login_url: login_url.clone(),
        };
        let user = if token.starts_with(SESSION_PREFIX) {
            let claims = verify_session(&self.settings.jwt_key, token, now())
                .filter(|c| c.pod == app.uuid && c.endpoint == endpoint.name)
                .ok_or_else(invalid)?;
            self.store
                .user_by_name(&claims.username)
                .await
                .map_err(|_| TrafficDenied::Unavailable)?
                .filter(|u| u.id == claims.user_id && u.is_active)
                .ok_or_else(invalid)?
        } else {
            match self.authenticate(token).await {
                Ok(user) => user,
                Err(CoreError::Unauthenticated(_) | CoreError::Refused { .. }) => {
                    return Err(invalid());
                }
                Err(_) => return Err(TrafficDenied::Unavailable),
            }
        };
        match self.admit_user(&app, &endpoint, &user).await {
            Ok(Some(passed)) => Ok(passed),
            Ok(None) => Err(TrafficDenied::NotAllowed {
                username: user.username,
            }),
            Err(_) => Err(TrafficDenied::Unavailable),
        }
    }

    /// The endpoint a browser logs in to at `/auth` of `pod_id_net`;
    /// refused when the entry has no `tapis_auth`.
    pub async fn pod_login_endpoint(&self, pod_id_net: &str) -> CoreResult<PodEndpoint> {
        Ok(self.login_target(pod_id_net).await?.1)
    }

    async fn login_target(&self, pod_id_net: &str) -> CoreResult<(App, PodEndpoint)> {
        let (pod_id, name) = networking::split_pod_id_net(pod_id_net);
        let (app, endpoint) = self.pod_endpoint(pod_id, name).await?;
        if !endpoint.auth.enabled {
            return Err(CoreError::Forbidden(format!(
                "pod {pod_id_net} does not have tapis_auth configured"
            )));
        }
        Ok((app, endpoint))
    }

    /// After `actor` logged in at `/auth` of `pod_id_net`: a one-time code
    /// for the pod's host, valid for a minute, and the endpoint it is for.
    /// Refused when the entry has no `tapis_auth` or does not let `actor` through.
    pub async fn issue_pod_auth_code(
        &self,
        actor: &User,
        pod_id_net: &str,
    ) -> CoreResult<(PodEndpoint, String)> {
        let (app, endpoint) = self.login_target(pod_id_net).await?;
        if self.admit_user(&app, &endpoint, actor).await?.is_none() {
            return Err(CoreError::Forbidden(format!(
                "user '{}' is authenticated but not in the tapis_auth_allowed_users of pod {pod_id_net}",
                actor.username
            )));
        }
        let session = sign_session(
            &self.settings.jwt_key,
            &SessionClaims {
                pod: app.uuid,
                endpoint: endpoint.name.clone(),
                user_id: actor.id,
                username: actor.username.clone(),
                exp: (now() + SESSION_TTL).unix_timestamp(),
            },
        );
        let pending = PendingCode {
            host: endpoint.host.clone(),
            grant: PodAuthGrant {
                pod_id: app.id.clone(),
                endpoint: endpoint.name.clone(),
                username: actor.username.clone(),
                session,
                max_age: SESSION_TTL.whole_seconds(),
                return_path: endpoint.auth.return_path.clone(),
            },
            expires: now() + CODE_TTL,
        };
        let code = hex::encode(rand::rng().random::<[u8; 24]>());
        let mut codes = self
            .pod_auth_codes
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let at = now();
        codes.retain(|_, p| p.expires > at);
        if codes.len() >= MAX_PENDING_CODES {
            return Err(CoreError::invalid(
                "too many logins are waiting to finish; try again in a minute",
            ));
        }
        codes.insert(code.clone(), pending);
        Ok((endpoint, code))
    }

    /// Redeems a login code where the router received it (`host`, the
    /// request's `Host`): once, within its minute, and only on the host of
    /// the endpoint it was issued for. The session in the grant then goes
    /// into the cookie.
    pub fn redeem_pod_auth_code(&self, code: &str, host: &str) -> Option<PodAuthGrant> {
        let pending = self
            .pod_auth_codes
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(code)?;
        (pending.expires > now() && pending.host == bare_host(host)).then_some(pending.grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_signed_and_expire() {
        let claims = SessionClaims {
            pod: uuid::Uuid::new_v4(),
            endpoint: "default".into(),
            user_id: 7,
            username: "alice".into(),
            exp: (now() + SESSION_TTL).unix_timestamp(),
        };
        let session = sign_session(b"key", &claims);
        assert!(session.starts_with(SESSION_PREFIX));
        let back = verify_session(b"key", &session, now()).unwrap();
        assert_eq!((back.pod, back.user_id), (claims.pod, 7));
        assert!(verify_session(b"other key", &session, now()).is_none());
        assert!(verify_session(b"key", &session, now() + SESSION_TTL).is_none());
        let forged = session.replacen(SESSION_PREFIX, &format!("{SESSION_PREFIX}x"), 1);
        assert!(verify_session(b"key", &forged, now()).is_none());
        assert!(verify_session(b"key", "not a session", now()).is_none());
    }

    #[test]
    fn hosts_compare_without_port_or_case() {
        assert_eq!(bare_host("MyPod.Berth.Local:8080"), "mypod.berth.local");
        assert_eq!(bare_host("mypod.berth.local"), "mypod.berth.local");
    }
}
