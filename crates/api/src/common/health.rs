//! `GET /healthz`: whether the store and the container engine answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// How the server stands.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// Which part does not answer (`store not answering`, `engine not answering`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// 200 when the store and the engine both answer; 503 naming which one
/// did not otherwise. Anyone may ask, so the answer names no version and
/// no error text (core logs them).
#[utoipa::path(get, path = "/healthz", tag = "berth", responses(
    (status = 200, description = "The store and the engine answer", body = Health),
    (status = 503, description = "One of them does not", body = Health),
))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.berth.health().await {
        Ok(_) => Json(Health {
            status: "ok",
            reason: None,
        })
        .into_response(),
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
        Json(Health {
            status: "unavailable",
            reason: Some(format!("{failing} not answering")),
        }),
    )
        .into_response()
}
