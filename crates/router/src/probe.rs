//! Health checks: a TCP connect, or an HTTP GET answered below 400 (over
//! the router's own pool of connections), each within the check's timeout.

use std::net::SocketAddr;

use berth_core::routing::HealthCheck;
use hyper::Request;
use hyper::header::USER_AGENT;
use tokio::net::TcpStream;

use crate::Router;
use crate::body::empty;

impl Router {
    pub(crate) async fn check(&self, addr: SocketAddr, check: &HealthCheck) -> bool {
        tokio::time::timeout(check.timeout, self.attempt(addr, check.path.as_deref()))
            .await
            .unwrap_or(false)
    }

    async fn attempt(&self, addr: SocketAddr, path: Option<&str>) -> bool {
        let Some(path) = path else {
            return TcpStream::connect(addr).await.is_ok();
        };
        let Ok(request) = Request::get(format!("http://{addr}{path}"))
            .header(USER_AGENT, "berth-health-check")
            .body(empty())
        else {
            return false;
        };
        self.client
            .request(request)
            .await
            .is_ok_and(|r| r.status().as_u16() < 400)
    }
}
