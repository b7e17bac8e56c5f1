//! `GET /healthz`: whether the store and the container engine answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// 200 when the store and the engine both answer; 503 naming which one
/// did not otherwise. Anyone may ask, so the answer names no version and
/// no error text (core logs them).
async fn healthz(State(state): State<AppState>) -> Response {
    match state.berth.health().await {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(reason) => unavailable(reason),
    }
}

fn unavailable(reason: String) -> Response {
    let failing = if reason.starts_with("store") {
        "store"
    } else {
        "engine"
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "reason": format!("{failing} not answering")})),
    )
        .into_response()
}
