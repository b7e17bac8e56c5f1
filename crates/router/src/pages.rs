//! The router's own short answers: plain text, never a hang.

use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use crate::body::{ProxyBody, full};

pub(crate) fn page(status: StatusCode, text: String) -> Response<ProxyBody> {
    let mut response = Response::new(full(format!("{text}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

pub(crate) fn unknown_host(host: &str) -> Response<ProxyBody> {
    page(
        StatusCode::NOT_FOUND,
        format!("404 Not Found: no app answers at {host}"),
    )
}

pub(crate) fn no_instance(app: &str) -> Response<ProxyBody> {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("503 Service Unavailable: no instance of {app} is ready"),
    )
}

pub(crate) fn bad_gateway(app: &str) -> Response<ProxyBody> {
    page(
        StatusCode::BAD_GATEWAY,
        format!("502 Bad Gateway: the instance of {app} failed to answer"),
    )
}

pub(crate) fn bad_request(why: &str) -> Response<ProxyBody> {
    page(StatusCode::BAD_REQUEST, format!("400 Bad Request: {why}"))
}
