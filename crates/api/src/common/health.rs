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

/// 200 when the store and the engine both answer; 503 with the reason otherwise.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.berth.health().await {
        Ok(engine) => Json(json!({"status": "ok", "engine": engine})).into_response(),
        Err(reason) => unavailable(reason),
    }
}

fn unavailable(reason: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "reason": reason})),
    )
        .into_response()
}
