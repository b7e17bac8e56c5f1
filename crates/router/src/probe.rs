//! Health checks: a TCP connect, or an HTTP GET answered below 400, each
//! within the check's timeout.

use std::net::SocketAddr;

use berth_core::routing::HealthCheck;
use bytes::Bytes;
use http_body_util::Empty;
use hyper::Request;
use hyper::header::{HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

pub(crate) async fn check(addr: SocketAddr, check: &HealthCheck) -> bool {
    tokio::time::timeout(check.timeout, attempt(addr, check.path.as_deref()))
        .await
        .unwrap_or(false)
}

async fn attempt(addr: SocketAddr, path: Option<&str>) -> bool {
    let Ok(stream) = TcpStream::connect(addr).await else {
        return false;
    };
    let Some(path) = path else {
        return true;
    };
    let Ok((mut sender, conn)) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await
    else {
        return false;
    };
    let driver = tokio::spawn(conn);
    let request = Request::get(path)
        .header(HOST, addr.to_string())
        .header(USER_AGENT, "berth-health-check")
        .body(Empty::new());
    let healthy = match request {
        Ok(request) => sender
            .send_request(request)
            .await
            .is_ok_and(|r| r.status().as_u16() < 400),
        Err(_) => false,
    };
    driver.abort();
    healthy
}
