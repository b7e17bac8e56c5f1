//! Berth's HTTP API: one router serving every dialect at its own paths.
//! Each dialect parses its request shapes, calls one core use case and
//! renders the result in its own envelope; none of them holds state.

pub mod common;
pub mod console;
pub mod deis;
pub mod nds;
pub mod rcabench;
pub mod tapis;
pub mod tutum;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::middleware;
use berth_core::service::Berth;

#[derive(Clone)]
pub struct AppState {
    pub berth: Arc<Berth>,
}

/// The full route table.
pub fn router(berth: Arc<Berth>) -> Router {
    let state = AppState { berth };
    Router::new()
        .merge(common::health::routes())
        .merge(common::metrics::routes())
        .merge(common::openapi::routes())
        .nest("/v1", deis::routes())
        .nest("/api/v1", tutum::routes())
        .nest("/api/v2", rcabench::routes())
        .merge(tapis::routes())
        .merge(nds::routes())
        .nest("/ui", console::routes())
        .route_layer(middleware::from_fn(common::metrics::mark_route))
        .fallback(common::error::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            common::metrics::time_request,
        ))
        .with_state(state)
}

/// Clients differ on trailing slashes (the Deis CLI uses both), and a
/// redirect would break POSTs: the slash is dropped before routing.
pub fn strip_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let new = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = new.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    req
}
