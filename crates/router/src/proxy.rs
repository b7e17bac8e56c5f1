//! One request through the router: find the route by Host, admit it, pick
//! the ready instance with the fewest requests in flight (round robin among
//! equals), forward it with the forwarding headers, and pass the answer back
//! as it streams. WebSocket and other upgrades are joined end to end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use berth_core::metrics::{ROUTER_REQUESTS, ROUTER_UPSTREAM_SECONDS};
use berth_core::routing::{Backend, Route, RouteAuth};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, CONTENT_LENGTH, HOST, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING,
    UPGRADE,
};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use uuid::Uuid;

use crate::body::{InFlight, ProxyBody, Tracked, empty, full};
use crate::gate::{Admission, GateRequest};
use crate::{Load, Router, Scheme, pages};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long a request to an app whose instances are up but not yet healthy
/// waits for one to become ready before it gets a 503: longer than an
/// undeclared check's default grace (2 s), so a first deploy is served.
const STARTING_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Headers that describe one connection, not the request: never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

impl Router {
    /// Answers one request that arrived from `peer`.
    pub async fn handle(
        self: &Arc<Self>,
        request: Request<Incoming>,
        peer: SocketAddr,
        scheme: Scheme,
    ) -> Response<ProxyBody> {
        let response = self.answer(request, peer, scheme).await;
        if let Some(metrics) = &self.metrics {
            metrics.count(ROUTER_REQUESTS, &[response.status().as_str()]);
        }
        response
    }

    async fn answer(
        self: &Arc<Self>,
        mut request: Request<Incoming>,
        peer: SocketAddr,
        scheme: Scheme,
    ) -> Response<ProxyBody> {
        let Some(host) = request_host(&request) else {
            return pages::bad_request("the request names no host");
        };
        let table = self.table();
        let Some(mut route) = table.lookup(&host).cloned() else {
            return pages::unknown_host(&host);
        };
        if route.backends.is_empty() && route.starting {
            route = self.until_serving(&host, route).await;
        }
        drop(table);
        let mut added_to_answer = Vec::new();
        if route.auth != RouteAuth::Open {
            match self.admit(&route, &request, &host, peer, scheme).await {
                Admission::Pass {
                    request_headers,
                    response_headers,
                } => {
                    for (name, value) in request_headers {
                        set_header(request.headers_mut(), &name, &value);
                    }
                    added_to_answer = response_headers;
                }
                Admission::Answer {
                    status,
                    headers,
                    body,
                } => return answer(status, &headers, body),
            }
        }
        let mut response = self.forward(&route, request, &host, peer, scheme).await;
        for (name, value) in added_to_answer {
            set_header(response.headers_mut(), &name, &value);
        }
        response
    }

    /// A route whose app is starting: waits for the table that gives it a
    /// ready instance (at most [`STARTING_WAIT`]), so that a request right
    /// after a deploy is served rather than refused. Returns the route as
    /// it is then.
    async fn until_serving(&self, host: &str, mut route: Arc<Route>) -> Arc<Route> {
        let mut published = self.published.subscribe();
        let deadline = tokio::time::Instant::now() + STARTING_WAIT;
        loop {
            if let Some(now) = self.table().lookup(host) {
                route = now.clone();
            }
            if !route.backends.is_empty() || !route.starting {
                return route;
            }
            match tokio::time::timeout_at(deadline, published.changed()).await {
                Ok(Ok(())) => continue,
                _ => return route,
            }
        }
    }

    async fn admit(
        &self,
        route: &Route,
        request: &Request<Incoming>,
        host: &str,
        peer: SocketAddr,
        scheme: Scheme,
    ) -> Admission {
        let Some(gate) = &self.gate else {
            return Admission::Answer {
                status: 401,
                headers: Vec::new(),
                body: format!("401 Unauthorized: {host} needs a login this server cannot check\n"),
            };
        };
        let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
        gate.admit(GateRequest {
            auth: &route.auth,
            host,
            method: request.method().as_str(),
            path_and_query,
            headers: request.headers(),
            client: peer.ip(),
            scheme,
        })
        .await
    }

    /// The ready instances in the order to try them: fewest requests in
    /// flight first, round robin among equals; draining ones never.
    fn candidates<'r>(&self, route: &'r Route) -> Vec<(&'r Backend, Arc<Load>)> {
        let turns: Vec<&Backend> = route.rotation().collect();
        let loads = self.loads(turns.iter().map(|b| &b.instance));
        let mut order: Vec<(usize, usize, &Backend, Arc<Load>)> = turns
            .into_iter()
            .zip(loads)
            .enumerate()
            .filter(|(_, (_, load))| !load.draining.load(Ordering::Acquire))
            .map(|(turn, (b, load))| (load.in_flight.load(Ordering::Relaxed), turn, b, load))
            .collect();
        order.sort_by_key(|(busy, turn, _, _)| (*busy, *turn));
        order.into_iter().map(|(_, _, b, load)| (b, load)).collect()
    }

    async fn forward(
        &self,
        route: &Route,
        mut request: Request<Incoming>,
        host: &str,
        peer: SocketAddr,
        scheme: Scheme,
    ) -> Response<ProxyBody> {
        let candidates = self.candidates(route);
        if candidates.is_empty() {
            return pages::no_instance(&route.app_id);
        }
        let upgrade = wants_upgrade(request.headers());
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
        let (mut parts, body) = request.into_parts();
        prepare_headers(&mut parts.headers, host, peer, scheme, upgrade);
        // Without a body nothing is lost when a connection fails before an
        // answer: the next instance gets the same request.
        let replayable = !has_body(&parts.method, &parts.headers);
        let mut body = Some(if replayable { empty() } else { body.boxed() });
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        for (backend, load) in candidates {
            let Some(this_body) = body.take() else { break };
            let in_flight = InFlight::start(load);
            let Ok(uri) = Uri::builder()
                .scheme("http")
                .authority(backend.addr.to_string())
                .path_and_query(path_and_query.as_str())
                .build()
            else {
                return pages::bad_request("the request target is not valid");
            };
            let mut upstream = Request::from_parts(parts.clone(), this_body);
            *upstream.uri_mut() = uri;
            let sent = std::time::Instant::now();
            match self.client.request(upstream).await {
                Ok(mut answer) => {
                    if let Some(metrics) = &self.metrics {
                        metrics.observe(ROUTER_UPSTREAM_SECONDS, &[], sent.elapsed());
                    }
                    if answer.status() == StatusCode::SWITCHING_PROTOCOLS
                        && let Some(client_upgrade) = client_upgrade
                    {
                        let instance_upgrade = hyper::upgrade::on(&mut answer);
                        tokio::spawn(join_upgraded(client_upgrade, instance_upgrade, in_flight));
                        let (parts, _) = answer.into_parts();
                        return Response::from_parts(parts, empty());
                    }
                    let (mut parts, body) = answer.into_parts();
                    strip_hop_by_hop(&mut parts.headers);
                    return Response::from_parts(parts, Tracked::wrap(body.boxed(), in_flight));
                }
                Err(e) => {
                    tracing::debug!(app = %route.app_id, instance = %backend.instance, error = %e, "instance did not answer");
                    if replayable && e.is_connect() {
                        body = Some(empty());
                    }
                }
            }
        }
        pages::bad_gateway(&route.app_id)
    }
}

/// The host a request is for: its `Host` header, or the authority of an
/// absolute request target.
fn request_host<B>(request: &Request<B>) -> Option<String> {
    request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
        .filter(|h| !h.is_empty())
}

fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(UPGRADE)
        && headers
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

fn has_body(method: &Method, headers: &HeaderMap) -> bool {
    if headers.contains_key(TRANSFER_ENCODING) {
        return true;
    }
    match headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(length) => length > 0,
        None => !matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::DELETE
        ),
    }
}

/// Keeps `Host`, drops per-connection headers (an upgrade keeps its own),
/// and adds who asked, how and for which host, and a request id.
fn prepare_headers(
    headers: &mut HeaderMap,
    host: &str,
    peer: SocketAddr,
    scheme: Scheme,
    upgrade: bool,
) {
    let upgrade_to = headers.get(UPGRADE).cloned();
    strip_hop_by_hop(headers);
    if upgrade && let Some(protocol) = upgrade_to {
        headers.insert(UPGRADE, protocol);
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    }
    let forwarded_for = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    let mut insert = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    insert(X_FORWARDED_FOR, &forwarded_for);
    insert(X_FORWARDED_PROTO, scheme.as_str());
    insert(X_FORWARDED_HOST, host);
    if !headers.contains_key(&X_REQUEST_ID) {
        headers.insert(X_REQUEST_ID, request_id());
    }
}

/// 32 random hex digits, from a generator seeded once per thread from the
/// system's randomness: unique enough to follow a request, and cheap (no
/// system call per request).
fn request_id() -> HeaderValue {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new(
            Uuid::new_v4().as_u64_pair().0 | 1
        );
    }
    let next = || {
        STATE.with(|state| {
            // xorshift64*
            let mut x = state.get();
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            state.set(x);
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
    };
    let id = format!("{:016x}{:016x}", next(), next());
    HeaderValue::from_str(&id).expect("hex digits are a valid header value")
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers a `Connection` header names are per-connection too.
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

fn set_header(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.insert(name, value);
    }
}

fn answer(status: u16, headers: &[(String, String)], body: String) -> Response<ProxyBody> {
    let mut response = Response::new(full(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    for (name, value) in headers {
        set_header(response.headers_mut(), name, value);
    }
    response
}

/// Copies both ways between the client's and the instance's upgraded
/// connections until either side closes.
async fn join_upgraded(
    client: hyper::upgrade::OnUpgrade,
    instance: hyper::upgrade::OnUpgrade,
    in_flight: InFlight,
) {
    let (client, instance) = match tokio::try_join!(client, instance) {
        Ok(both) => both,
        Err(e) => {
            tracing::debug!(error = %e, "upgrade failed");
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut instance = TokioIo::new(instance);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut instance).await;
    drop(in_flight);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_headers_are_added_and_hop_by_hop_removed() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static("keep-alive, x-secret"));
        headers.insert("x-secret", HeaderValue::from_static("1"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(X_FORWARDED_FOR, HeaderValue::from_static("203.0.113.9"));
        headers.insert(HOST, HeaderValue::from_static("web.berth.local"));
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        prepare_headers(&mut headers, "web.berth.local", peer, Scheme::Https, false);
        assert!(headers.get("x-secret").is_none());
        assert!(headers.get("keep-alive").is_none());
        assert!(headers.get(CONNECTION).is_none());
        assert_eq!(headers[HOST], "web.berth.local");
        assert_eq!(headers[&X_FORWARDED_FOR], "203.0.113.9, 127.0.0.1");
        assert_eq!(headers[&X_FORWARDED_PROTO], "https");
        assert_eq!(headers[&X_FORWARDED_HOST], "web.berth.local");
        assert_eq!(headers[&X_REQUEST_ID].len(), 32);
        assert_ne!(request_id(), request_id());
    }

    #[test]
    fn upgrades_keep_their_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        assert!(wants_upgrade(&headers));
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        prepare_headers(&mut headers, "h", peer, Scheme::Http, true);
        assert_eq!(headers[UPGRADE], "websocket");
        assert_eq!(headers[CONNECTION], "upgrade");
    }

    #[test]
    fn bodies_are_told_by_length_encoding_or_method() {
        let mut headers = HeaderMap::new();
        assert!(!has_body(&Method::GET, &headers));
        assert!(has_body(&Method::POST, &headers));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        assert!(!has_body(&Method::POST, &headers));
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        assert!(has_body(&Method::GET, &headers));
    }
}
