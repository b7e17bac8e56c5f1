//! What decides requests to routes that need more than their Host: a pod
//! endpoint with Tapis auth, CORS or an address allow-list. The server
//! supplies the [`Gate`]; the router only asks it and applies the answer.

use std::net::IpAddr;

use async_trait::async_trait;
use berth_core::routing::RouteAuth;
use hyper::HeaderMap;

use crate::Scheme;

/// One request, as the gate sees it.
pub struct GateRequest<'a> {
    pub auth: &'a RouteAuth,
    pub host: &'a str,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub client: IpAddr,
    pub scheme: Scheme,
}

/// The gate's answer.
pub enum Admission {
    /// Forward it, adding these headers to the request and to its answer.
    Pass {
        request_headers: Vec<(String, String)>,
        response_headers: Vec<(String, String)>,
    },
    /// Answer it here (a refusal, a redirect to log in, a CORS preflight).
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

#[async_trait]
pub trait Gate: Send + Sync {
    async fn admit(&self, request: GateRequest<'_>) -> Admission;
}
