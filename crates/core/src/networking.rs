//! A Tapis pod's `networking`: each named entry is an endpoint with its own
//! host under the server's domain (`default` → `<pod_id>.<domain>`, any
//! other name → `<pod_id>-<name>.<domain>`, one DNS label deep), the pod
//! port it reaches, its protocol, and the traffic rules the router applies:
//! Tapis auth (`tapis_auth*`), CORS (`cors_*`) and an IP allow list.
//!
//! Everything here is pure: parsing and checking entries, the rules a
//! request is held to (`ip_allowed`, `cors_headers`, `user_allowed`), the
//! headers passed to the pod, where a request's token is, and the signed
//! pod session a browser keeps in a cookie on the pod's host.

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult};
use crate::model::Level;

/// The entry a pod without `networking` gets, and the one whose host carries no suffix.
pub const DEFAULT_ENDPOINT: &str = "default";
/// The pod port of an entry that names none.
pub const DEFAULT_PORT: u16 = 5000;
/// How many entries one pod may have.
pub const MAX_ENDPOINTS: usize = 4;
/// The cookie a pod's host keeps a browser's pod session in.
pub const POD_SESSION_COOKIE: &str = "berth_pod_session";
/// The path on a pod's own host where the router finishes a browser login.
pub const AUTH_CALLBACK_PATH: &str = "/_tapis/auth/callback";
/// The site named in `<<tapissiteid>>`.
pub const SITE_ID: &str = "berth";

/// The keys an entry may have (the Tapis `Networking` model).
const KNOWN_KEYS: &[&str] = &[
    "protocol",
    "port",
    "url",
    "ip_allow_list",
    "tapis_auth",
    "tapis_auth_response_headers",
    "tapis_auth_allowed_users",
    "tapis_auth_return_path",
    "cors_allow_origins",
    "cors_allow_methods",
    "cors_allow_headers",
    "cors_allow_credentials",
    "cors_max_age",
    "tapis_ui_uri",
    "tapis_ui_uri_redirect",
    "tapis_ui_uri_description",
];

/// `tapis_auth_allowed_users` entries that stand for everyone holding at
/// least a level on the pod.
const LEVEL_GROUPS: &[(&str, Level)] = &[
    ("AUTHORIZED_READS", Level::Read),
    ("AUTHORIZED_USERS", Level::User),
    ("AUTHORIZED_ADMINS", Level::Admin),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Tcp,
    Postgres,
    /// Reachable only from the pod's own network, never routed.
    LocalOnly,
}

impl Protocol {
    pub fn parse(text: &str) -> Option<Protocol> {
        match text.to_ascii_lowercase().as_str() {
            "http" => Some(Protocol::Http),
            "tcp" => Some(Protocol::Tcp),
            "postgres" => Some(Protocol::Postgres),
            "local_only" => Some(Protocol::LocalOnly),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Tcp => "tcp",
            Protocol::Postgres => "postgres",
            Protocol::LocalOnly => "local_only",
        }
    }
}

/// Who may pass an entry with `tapis_auth`, and what the pod is told of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapisAuth {
    pub enabled: bool,
    /// Headers set on each request passed to the pod; values may hold
    /// `<<tapisusername>>`, `<<tapistenantid>>` and `<<tapissiteid>>`.
    pub response_headers: Vec<(String, String)>,
    /// User names (any case), `*` for every signed-in user, or a level group
    /// (`AUTHORIZED_READS`, `AUTHORIZED_USERS`, `AUTHORIZED_ADMINS`).
    pub allowed_users: Vec<String>,
    /// Where on the pod's host a browser lands after logging in.
    pub return_path: String,
}

impl Default for TapisAuth {
    fn default() -> Self {
        TapisAuth {
            enabled: false,
            response_headers: Vec::new(),
            allowed_users: vec!["*".into()],
            return_path: "/".into(),
        }
    }
}

/// The CORS answer an entry gives; no origins means no CORS headers at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub allow_credentials: bool,
    /// Seconds a browser may keep a preflight answer.
    pub max_age: u32,
}

impl Default for Cors {
    fn default() -> Self {
        Cors {
            allow_origins: Vec::new(),
            allow_methods: Vec::new(),
            allow_headers: Vec::new(),
            allow_credentials: false,
            max_age: 100,
        }
    }
}

/// An address or a CIDR range of an IP allow list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub network: IpAddr,
    pub prefix: u8,
}

impl IpRange {
    /// `a.b.c.d`, `a.b.c.d/n`, or the IPv6 forms of both.
    pub fn parse(text: &str) -> Option<IpRange> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr.trim().parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= max)?
            }
            Some(_) => return None,
        };
        Some(IpRange { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// One entry of a pod's `networking`, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodEndpoint {
    /// The entry's name (`default` or the suffix of its host).
    pub name: String,
    /// The host it is reached at (its `url`).
    pub host: String,
    pub port: u16,
    pub protocol: Protocol,
    pub auth: TapisAuth,
    pub cors: Cors,
    /// Empty: every address may connect.
    pub ip_allow_list: Vec<IpRange>,
}

/// The host of entry `name` of `pod_id` under `domain`.
pub fn endpoint_host(pod_id: &str, name: &str, domain: &str) -> String {
    if name == DEFAULT_ENDPOINT {
        format!("{pod_id}.{domain}")
    } else {
        format!("{pod_id}-{name}.{domain}")
    }
}

/// Splits the first label of an endpoint's host (Tapis's `pod_id_net`)
/// into the pod id and the entry name: pod ids hold no `-`, so the first
/// one ends the id.
pub fn split_pod_id_net(pod_id_net: &str) -> (&str, &str) {
    pod_id_net
        .split_once('-')
        .unwrap_or((pod_id_net, DEFAULT_ENDPOINT))
}

/// The first label of an endpoint's host.
pub fn pod_id_net(pod_id: &str, name: &str) -> String {
    if name == DEFAULT_ENDPOINT {
        pod_id.to_string()
    } else {
        format!("{pod_id}-{name}")
    }
}

/// Every endpoint of a pod, in name order; a pod without `networking`
/// has one, `default`: http on port 5000. Entries that do not parse (only
/// possible for definitions stored before they were checked) are left out.
pub fn pod_endpoints(
    pod_id: &str,
    networking: &Map<String, Value>,
    domain: &str,
) -> Vec<PodEndpoint> {
    if networking.is_empty() {
        return vec![PodEndpoint {
            name: DEFAULT_ENDPOINT.into(),
            host: endpoint_host(pod_id, DEFAULT_ENDPOINT, domain),
            port: DEFAULT_PORT,
            protocol: Protocol::Http,
            auth: TapisAuth::default(),
            cors: Cors::default(),
            ip_allow_list: Vec::new(),
        }];
    }
    networking
        .iter()
        .filter_map(|(name, entry)| parse_endpoint(pod_id, name, entry, domain).ok())
        .collect()
}

/// Checks a pod's `networking` as Tapis does; the message names the entry
/// and the key at fault.
pub fn validate_networking(networking: &Map<String, Value>) -> CoreResult<()> {
    let refuse = |message: String| CoreError::invalid_field("networking", message);
    if networking.len() > MAX_ENDPOINTS {
        return Err(refuse(format!("may hold at most {MAX_ENDPOINTS} entries")));
    }
    for (name, entry) in networking {
        let name_ok = (3..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !name_ok {
            return Err(refuse(format!(
                "entry name '{name}' must be 3 to 64 lowercase letters and digits"
            )));
        }
        parse_endpoint("pod", name, entry, "check").map_err(refuse)?;
    }
    Ok(())
}

/// One entry, or what is wrong with it (`<name>.<key> ...`).
fn parse_endpoint(
    pod_id: &str,
    name: &str,
    entry: &Value,
    domain: &str,
) -> Result<PodEndpoint, String> {
    let Some(entry) = entry.as_object() else {
        return Err(format!("{name} must be an object"));
    };
    if let Some(unknown) = entry.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "{name}.{unknown} is not a networking field (known: {})",
            KNOWN_KEYS.join(", ")
        ));
    }
    let field = |key: &str| entry.get(key).filter(|v| !v.is_null());
    let wrong = |key: &str, what: &str| format!("{name}.{key} must be {what}");
    let text = |key: &str| -> Result<Option<&str>, String> {
        field(key)
            .map(|v| v.as_str().ok_or_else(|| wrong(key, "a string")))
            .transpose()
    };
    let flag = |key: &str| -> Result<bool, String> {
        field(key)
            .map(|v| v.as_bool().ok_or_else(|| wrong(key, "true or false")))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let texts = |key: &str| -> Result<Option<Vec<String>>, String> {
        field(key)
            .map(|v| {
                v.as_array()
                    .and_then(|items| {
                        items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| wrong(key, "a list of strings"))
            })
            .transpose()
    };

    let protocol = match text("protocol")? {
        None => Protocol::Http,
        Some(p) => Protocol::parse(p)
            .ok_or_else(|| wrong("protocol", "one of http, tcp, postgres, local_only"))?,
    };
    let port = match field("port") {
        None => DEFAULT_PORT,
        Some(v) => v
            .as_u64()
            .filter(|p| (10..=65535).contains(p))
            .map(|p| p as u16)
            .ok_or_else(|| wrong("port", "a port number from 10 to 65535"))?,
    };
    // `url` is the service's to set; what a client sends back is ignored.
    text("url")?;

    let mut auth = TapisAuth {
        enabled: flag("tapis_auth")?,
        ..TapisAuth::default()
    };
    if let Some(headers) = field("tapis_auth_response_headers") {
        let headers = headers
            .as_object()
            .ok_or_else(|| wrong("tapis_auth_response_headers", "an object of strings"))?;
        if headers.len() > 32 {
            return Err(wrong("tapis_auth_response_headers", "at most 32 headers"));
        }
        for (header, value) in headers {
            let value = value
                .as_str()
                .ok_or_else(|| wrong("tapis_auth_response_headers", "an object of strings"))?;
            if !is_header_name(header) {
                return Err(format!(
                    "{name}.tapis_auth_response_headers: '{header}' is not a header name"
                ));
            }
            if value.len() > 1024 || value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
                return Err(format!(
                    "{name}.tapis_auth_response_headers: the value of '{header}' must be at most 1024 characters, without control characters"
                ));
            }
            auth.response_headers
                .push((header.clone(), value.to_string()));
        }
    }
    if let Some(users) = texts("tapis_auth_allowed_users")? {
        auth.allowed_users = users;
    }
    if let Some(path) = text("tapis_auth_return_path")?.filter(|p| !p.is_empty()) {
        let safe = path.starts_with('/')
            && path.len() <= 180
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"./-_".contains(&b));
        if !safe {
            return Err(wrong(
                "tapis_auth_return_path",
                "a path starting with '/' of at most 180 letters, digits, '.', '/', '-' and '_'",
            ));
        }
        auth.return_path = path.to_string();
    }

    let mut cors = Cors {
        allow_origins: texts("cors_allow_origins")?.unwrap_or_default(),
        allow_methods: texts("cors_allow_methods")?.unwrap_or_default(),
        allow_headers: texts("cors_allow_headers")?.unwrap_or_default(),
        allow_credentials: flag("cors_allow_credentials")?,
        ..Cors::default()
    };
    if let Some(age) = field("cors_max_age") {
        cors.max_age = age
            .as_u64()
            .filter(|a| *a <= 3600)
            .map(|a| a as u32)
            .ok_or_else(|| wrong("cors_max_age", "a number of seconds from 0 to 3600"))?;
    }
    for (key, values) in [
        ("cors_allow_methods", &cors.allow_methods),
        ("cors_allow_headers", &cors.allow_headers),
    ] {
        if values.iter().any(|v| v != "*" && !is_header_name(v)) {
            return Err(wrong(key, "a list of tokens (letters, digits, '-')"));
        }
    }
    if cors.allow_origins.iter().any(|o| {
        o.bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b',')
    }) {
        return Err(wrong("cors_allow_origins", "a list of origins"));
    }

    let mut ip_allow_list = Vec::new();
    for ip in texts("ip_allow_list")?.unwrap_or_default() {
        ip_allow_list.push(IpRange::parse(&ip).ok_or_else(|| {
            format!("{name}.ip_allow_list: '{ip}' is not an IP address or CIDR range")
        })?);
    }

    if let Some(uri) = text("tapis_ui_uri")?.filter(|u| !u.is_empty()) {
        let safe = uri.starts_with('/')
            && uri.len() <= 128
            && uri
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"./-".contains(&b));
        if !safe {
            return Err(wrong(
                "tapis_ui_uri",
                "a path starting with '/' of at most 128 lowercase letters, digits, '.', '/' and '-'",
            ));
        }
    }
    flag("tapis_ui_uri_redirect")?;
    if let Some(description) = text("tapis_ui_uri_description")?
        && (!description.is_ascii() || description.len() > 255)
    {
        return Err(wrong(
            "tapis_ui_uri_description",
            "at most 255 ASCII characters",
        ));
    }

    if protocol != Protocol::Http && (auth.enabled || !cors.allow_origins.is_empty()) {
        return Err(format!(
            "{name}: tapis_auth and cors_* need protocol http, not {}",
            protocol.as_str()
        ));
    }
    Ok(PodEndpoint {
        name: name.to_string(),
        host: endpoint_host(pod_id, name, domain),
        port,
        protocol,
        auth,
        cors,
        ip_allow_list,
    })
}

/// An RFC 7230 token: what a header name (or a method) may be.
fn is_header_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a client at `ip` may reach the endpoint.
pub fn ip_allowed(endpoint: &PodEndpoint, ip: IpAddr) -> bool {
    endpoint.ip_allow_list.is_empty() || endpoint.ip_allow_list.iter().any(|r| r.contains(ip))
}

/// The CORS headers to answer a request from `origin` with: for a
/// preflight (`OPTIONS` with `Access-Control-Request-Method`, whose value
/// is `method`) the whole set, which the router answers itself; for any
/// other request the allowed origin and credentials, added to the pod's
/// answer. Nothing when the entry sets no origins, the origin is not one of
/// them, or a preflight asks for a method the entry does not allow.
pub fn cors_headers(
    endpoint: &PodEndpoint,
    origin: Option<&str>,
    method: &str,
    is_preflight: bool,
) -> Vec<(String, String)> {
    let cors = &endpoint.cors;
    let Some(origin) = origin else {
        return Vec::new();
    };
    let any_origin = cors.allow_origins.iter().any(|o| o == "*");
    if !any_origin
        && !cors
            .allow_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
    {
        return Vec::new();
    }
    if is_preflight
        && !cors.allow_methods.is_empty()
        && !cors
            .allow_methods
            .iter()
            .any(|m| m == "*" || m.eq_ignore_ascii_case(method))
    {
        return Vec::new();
    }
    let mut headers = Vec::new();
    // A wildcard answer may not carry credentials, so with them the origin is echoed.
    if any_origin && !cors.allow_credentials {
        headers.push(("Access-Control-Allow-Origin".into(), "*".into()));
    } else {
        headers.push(("Access-Control-Allow-Origin".into(), origin.to_string()));
        headers.push(("Vary".into(), "Origin".into()));
    }
    if cors.allow_credentials {
        headers.push(("Access-Control-Allow-Credentials".into(), "true".into()));
    }
    if is_preflight {
        if !cors.allow_methods.is_empty() {
            headers.push((
                "Access-Control-Allow-Methods".into(),
                cors.allow_methods.join(", "),
            ));
        }
        if !cors.allow_headers.is_empty() {
            headers.push((
                "Access-Control-Allow-Headers".into(),
                cors.allow_headers.join(", "),
            ));
        }
        headers.push(("Access-Control-Max-Age".into(), cors.max_age.to_string()));
    }
    headers
}

/// The method a CORS preflight asks about, if the request is one.
pub fn preflight_method<'a>(method: &str, headers: &[(&str, &'a str)]) -> Option<&'a str> {
    if !method.eq_ignore_ascii_case("OPTIONS") {
        return None;
    }
    header(headers, "access-control-request-method")
}

/// Whether `username` (holding `level` on the pod, if any) passes an
/// entry's `tapis_auth_allowed_users`.
pub fn user_allowed(allowed_users: &[String], username: &str, level: Option<Level>) -> bool {
    if allowed_users.is_empty() {
        return true;
    }
    allowed_users.iter().any(|entry| {
        entry == "*"
            || match LEVEL_GROUPS.iter().find(|(group, _)| group == entry) {
                Some((_, need)) => level.is_some_and(|l| l >= *need),
                None => entry.eq_ignore_ascii_case(username),
            }
    })
}

/// The headers the pod gets with each request `username` passes, their
/// placeholders filled in. The router sets them, replacing any the client sent.
pub fn auth_headers(endpoint: &PodEndpoint, username: &str, tenant: &str) -> Vec<(String, String)> {
    endpoint
        .auth
        .response_headers
        .iter()
        .map(|(name, value)| {
            let value = value
                .replace("<<tapisusername>>", username)
                .replace("<<tapistenantid>>", tenant)
                .replace("<<tapissiteid>>", SITE_ID);
            (name.clone(), value)
        })
        .collect()
}

/// The first header called `name` (any case).
fn header<'a>(headers: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (n, v) = pair.trim().split_once('=')?;
        (n.trim() == name).then_some(v.trim())
    })
}

/// The token a request to a pod presents: `X-Tapis-Token`, else
/// `Authorization: Bearer` (or `token`), else the pod session cookie.
pub fn traffic_token<'a>(headers: &[(&str, &'a str)]) -> Option<&'a str> {
    if let Some(token) = header(headers, "x-tapis-token").filter(|t| !t.is_empty()) {
        return Some(token);
    }
    if let Some((scheme, token)) = header(headers, "authorization").and_then(|v| v.split_once(' '))
        && ["bearer", "token"].contains(&scheme.to_ascii_lowercase().as_str())
        && !token.trim().is_empty()
    {
        return Some(token.trim());
    }
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .find_map(|(_, v)| cookie(v, POD_SESSION_COOKIE))
        .filter(|t| !t.is_empty())
}

/// A `Cookie` header without the pod session, so the pod never sees it;
/// `None` when nothing else is left.
pub fn strip_session_cookie(cookie_header: &str) -> Option<String> {
    let rest: Vec<&str> = cookie_header
        .split(';')
        .map(str::trim)
        .filter(|pair| {
            !pair.is_empty()
                && pair
                    .split_once('=')
                    .is_none_or(|(n, _)| n.trim() != POD_SESSION_COOKIE)
        })
        .collect();
    (!rest.is_empty()).then(|| rest.join("; "))
}

/// Where a browser finishes logging in to `endpoint`: the callback path on
/// the endpoint's own host. `origin` (`scheme://host[:port]`, as the
/// router saw the request) must name that host, so a code is only ever
/// sent there; without it, `default_scheme://<host>`.
pub fn auth_callback_url(
    endpoint: &PodEndpoint,
    origin: Option<&str>,
    default_scheme: &str,
) -> CoreResult<String> {
    let Some(origin) = origin.map(str::trim).filter(|o| !o.is_empty()) else {
        return Ok(format!(
            "{default_scheme}://{}{AUTH_CALLBACK_PATH}",
            endpoint.host
        ));
    };
    let refuse = || {
        CoreError::invalid_field(
            "origin",
            format!("must be http(s)://{}[:port]", endpoint.host),
        )
    };
    let (scheme, authority) = origin.split_once("://").ok_or_else(refuse)?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if !["http", "https"].contains(&scheme)
        || !host.eq_ignore_ascii_case(&endpoint.host)
        || !port_ok
    {
        return Err(refuse());
    }
    Ok(format!(
        "{scheme}://{}{AUTH_CALLBACK_PATH}",
        authority.to_ascii_lowercase()
    ))
}

/// The `Set-Cookie` value that keeps a pod session on the pod's host only
/// (no `Domain`), out of scripts' reach, for `max_age` seconds.
pub fn session_set_cookie(session: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{POD_SESSION_COOKIE}={session}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn endpoints(networking: Value) -> Vec<PodEndpoint> {
        pod_endpoints("mypod", networking.as_object().unwrap(), "berth.local")
    }

    fn one(entry: Value) -> PodEndpoint {
        endpoints(json!({ "default": entry })).remove(0)
    }

    #[test]
    fn each_entry_gets_its_own_host() {
        let all = endpoints(json!({
            "default": {"port": 8000},
            "api": {"protocol": "TCP", "port": 9000},
        }));
        let hosts: Vec<(&str, &str, u16, Protocol)> = all
            .iter()
            .map(|e| (e.name.as_str(), e.host.as_str(), e.port, e.protocol))
            .collect();
        assert_eq!(
            hosts,
            [
                ("api", "mypod-api.berth.local", 9000, Protocol::Tcp),
                ("default", "mypod.berth.local", 8000, Protocol::Http),
            ]
        );
        let default = endpoints(json!({}));
        assert_eq!(default.len(), 1);
        assert_eq!(default[0].host, "mypod.berth.local");
        assert_eq!(
            (default[0].port, default[0].protocol),
            (5000, Protocol::Http)
        );
        assert_eq!(split_pod_id_net("mypod-api"), ("mypod", "api"));
        assert_eq!(split_pod_id_net("mypod"), ("mypod", "default"));
        assert_eq!(pod_id_net("mypod", "api"), "mypod-api");
    }

    #[test]
    fn entries_take_the_tapis_defaults() {
        let e = one(json!({}));
        assert!(!e.auth.enabled);
        assert_eq!(e.auth.allowed_users, ["*"]);
        assert_eq!(e.auth.return_path, "/");
        assert_eq!(e.cors.max_age, 100);
        assert!(e.ip_allow_list.is_empty());
    }

    #[test]
    fn bad_entries_are_refused_with_what_is_wrong() {
        let refused = |networking: Value| {
            validate_networking(networking.as_object().unwrap())
                .unwrap_err()
                .to_string()
        };
        for (networking, words) in [
            (
                json!({"default": {"protocol": "udp"}}),
                "default.protocol must be one of",
            ),
            (
                json!({"default": {"port": 70000}}),
                "default.port must be a port number",
            ),
            (
                json!({"default": {"port": "80"}}),
                "default.port must be a port number",
            ),
            (
                json!({"default": {"colour": 1}}),
                "default.colour is not a networking field",
            ),
            (json!({"Bad-Name": {}}), "entry name 'Bad-Name'"),
            (json!({"ab": {}}), "entry name 'ab'"),
            (json!({"default": 5}), "default must be an object"),
            (
                json!({"default": {"tapis_auth": "yes"}}),
                "default.tapis_auth must be true or false",
            ),
            (
                json!({"default": {"protocol": "tcp", "tapis_auth": true}}),
                "need protocol http",
            ),
            (
                json!({"default": {"ip_allow_list": ["10.0.0.0/33"]}}),
                "is not an IP address",
            ),
            (
                json!({"default": {"ip_allow_list": ["*"]}}),
                "is not an IP address",
            ),
            (
                json!({"default": {"tapis_auth_return_path": "x"}}),
                "tapis_auth_return_path must be",
            ),
            (
                json!({"default": {"tapis_auth_response_headers": {"Bad Name": "x"}}}),
                "is not a header name",
            ),
            (
                json!({"default": {"tapis_auth_response_headers": {"X-A": "a\r\nb"}}}),
                "without control characters",
            ),
            (
                json!({"default": {"cors_max_age": 7200}}),
                "cors_max_age must be",
            ),
            (
                json!({"aaa": {}, "bbb": {}, "ccc": {}, "ddd": {}, "eee": {}}),
                "at most 4 entries",
            ),
        ] {
            let message = refused(networking.clone());
            assert!(message.contains(words), "{networking}: {message}");
        }
        let fine = json!({
            "default": {"protocol": "http", "port": 5000, "url": "ignored", "tapis_auth": true,
                        "tapis_auth_response_headers": {"X-Tapis-Username": "<<tapisusername>>"},
                        "tapis_auth_allowed_users": ["AUTHORIZED_READS", "carol"],
                        "tapis_auth_return_path": "/app/home", "cors_allow_origins": ["https://ui.example"],
                        "cors_allow_methods": ["GET", "POST"], "cors_allow_headers": ["Content-Type"],
                        "cors_allow_credentials": true, "cors_max_age": 600,
                        "ip_allow_list": ["127.0.0.1", "10.0.0.0/8", "::1"],
                        "tapis_ui_uri": "/ui", "tapis_ui_uri_redirect": false, "tapis_ui_uri_description": "the ui"},
            "db1": {"protocol": "postgres", "port": 5432},
            "inner": {"protocol": "local_only"},
        });
        assert!(validate_networking(fine.as_object().unwrap()).is_ok());
    }

    #[test]
    fn ip_allow_lists_match_addresses_and_ranges() {
        let e = one(json!({"ip_allow_list": ["192.168.1.7", "10.0.0.0/8", "2001:db8::/32"]}));
        for (ip, allowed) in [
            ("192.168.1.7", true),
            ("192.168.1.8", false),
            ("10.200.3.4", true),
            ("11.0.0.1", false),
            ("::ffff:10.1.2.3", true),
            ("2001:db8::1", true),
            ("2001:db9::1", false),
        ] {
            assert_eq!(ip_allowed(&e, ip.parse().unwrap()), allowed, "{ip}");
        }
        assert!(ip_allowed(&one(json!({})), "8.8.8.8".parse().unwrap()));
        assert!(
            IpRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        assert!(IpRange::parse("10.0.0.1/").is_none());
    }

    #[test]
    fn cors_answers_only_listed_origins() {
        let e = one(json!({
            "cors_allow_origins": ["https://ui.example"],
            "cors_allow_methods": ["GET", "POST"],
            "cors_allow_headers": ["Content-Type", "X-Tapis-Token"],
            "cors_max_age": 60,
        }));
        assert_eq!(
            cors_headers(&e, Some("https://ui.example"), "POST", true),
            [
                (
                    "Access-Control-Allow-Origin".to_string(),
                    "https://ui.example".to_string()
                ),
                ("Vary".into(), "Origin".into()),
                ("Access-Control-Allow-Methods".into(), "GET, POST".into()),
                (
                    "Access-Control-Allow-Headers".into(),
                    "Content-Type, X-Tapis-Token".into()
                ),
                ("Access-Control-Max-Age".into(), "60".into()),
            ]
        );
        assert_eq!(
            cors_headers(&e, Some("https://ui.example"), "GET", false),
            [
                (
                    "Access-Control-Allow-Origin".to_string(),
                    "https://ui.example".to_string()
                ),
                ("Vary".into(), "Origin".into()),
            ]
        );
        assert!(cors_headers(&e, Some("https://evil.example"), "GET", false).is_empty());
        assert!(cors_headers(&e, Some("https://ui.example"), "DELETE", true).is_empty());
        assert!(cors_headers(&e, None, "GET", false).is_empty());
        assert!(cors_headers(&one(json!({})), Some("https://ui.example"), "GET", false).is_empty());

        let any = one(json!({"cors_allow_origins": ["*"]}));
        assert_eq!(
            cors_headers(&any, Some("https://x.example"), "GET", false),
            [("Access-Control-Allow-Origin".to_string(), "*".to_string())]
        );
        let with_credentials =
            one(json!({"cors_allow_origins": ["*"], "cors_allow_credentials": true}));
        assert_eq!(
            cors_headers(&with_credentials, Some("https://x.example"), "GET", false),
            [
                (
                    "Access-Control-Allow-Origin".to_string(),
                    "https://x.example".to_string()
                ),
                ("Vary".into(), "Origin".into()),
                ("Access-Control-Allow-Credentials".into(), "true".into()),
            ]
        );
        assert_eq!(
            preflight_method("OPTIONS", &[("Access-Control-Request-Method", "PUT")]),
            Some("PUT")
        );
        assert_eq!(preflight_method("OPTIONS", &[]), None);
        assert_eq!(
            preflight_method("GET", &[("access-control-request-method", "PUT")]),
            None
        );
    }

    #[test]
    fn allowed_users_take_names_groups_and_the_wildcard() {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(user_allowed(&list(&["*"]), "anyone", None));
        assert!(user_allowed(&list(&[]), "anyone", None));
        assert!(user_allowed(&list(&["Carol"]), "carol", None));
        assert!(!user_allowed(&list(&["carol"]), "dave", Some(Level::Admin)));
        let readers = list(&["AUTHORIZED_READS"]);
        assert!(user_allowed(&readers, "r", Some(Level::Read)));
        assert!(!user_allowed(&readers, "stranger", None));
        let users = list(&["AUTHORIZED_USERS"]);
        assert!(!user_allowed(&users, "r", Some(Level::Read)));
        assert!(user_allowed(&users, "u", Some(Level::User)));
        assert!(user_allowed(
            &list(&["AUTHORIZED_ADMINS"]),
            "a",
            Some(Level::Admin)
        ));
        assert!(!user_allowed(
            &list(&["AUTHORIZED_ADMINS"]),
            "u",
            Some(Level::User)
        ));
    }

    #[test]
    fn response_headers_fill_in_who_passed() {
        let e = one(json!({"tapis_auth": true, "tapis_auth_response_headers": {
            "X-Tapis-Username": "<<tapisusername>>@tapis.io",
            "From": "pods auth from <<tapistenantid>>.<<tapissiteid>>",
        }}));
        assert_eq!(
            auth_headers(&e, "alice", "dev"),
            [
                ("From".to_string(), "pods auth from dev.berth".to_string()),
                ("X-Tapis-Username".into(), "alice@tapis.io".into()),
            ]
        );
    }

    #[test]
    fn codes_only_go_to_the_endpoint_host() {
        let e = one(json!({"tapis_auth": true}));
        assert_eq!(
            auth_callback_url(&e, None, "http").unwrap(),
            "http://mypod.berth.local/_tapis/auth/callback"
        );
        assert_eq!(
            auth_callback_url(&e, Some("https://MyPod.berth.local:8443"), "http").unwrap(),
            "https://mypod.berth.local:8443/_tapis/auth/callback"
        );
        for bad in [
            "https://evil.example",
            "https://mypod.berth.local.evil.example",
            "https://mypod.berth.local/path",
            "javascript://mypod.berth.local",
            "https://mypod.berth.local:x",
            "mypod.berth.local",
        ] {
            assert!(auth_callback_url(&e, Some(bad), "http").is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_come_from_headers_then_the_session_cookie() {
        assert_eq!(
            traffic_token(&[("X-Tapis-Token", "t1"), ("Authorization", "Bearer t2")]),
            Some("t1")
        );
        assert_eq!(traffic_token(&[("authorization", "Bearer t2")]), Some("t2"));
        assert_eq!(traffic_token(&[("authorization", "Basic abc")]), None);
        assert_eq!(
            traffic_token(&[("Cookie", "a=1; berth_pod_session=s3; b=2")]),
            Some("s3")
        );
        assert_eq!(traffic_token(&[("Cookie", "a=1")]), None);
        assert_eq!(traffic_token(&[]), None);
        assert_eq!(
            strip_session_cookie("a=1; berth_pod_session=s3; b=2").as_deref(),
            Some("a=1; b=2")
        );
        assert_eq!(strip_session_cookie("berth_pod_session=s3"), None);
        assert_eq!(
            session_set_cookie("s", 60, true),
            "berth_pod_session=s; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
    }
}
