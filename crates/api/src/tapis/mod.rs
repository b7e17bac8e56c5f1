//! Tapis Pods at `/v3/pods` (and `/pods`), with `/v3/oauth2/tokens`.
//! Every answer is the Tapis envelope `{status, message, result, version, metadata}`.

mod envelope;
mod files;
mod pods;
mod templates;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};
use berth_core::CoreError;
use berth_core::model::User;

use crate::AppState;
pub use envelope::TapisError;

/// A request body; malformed ones are refused in the Tapis envelope.
pub type Body = crate::common::body::Payload<TapisError>;

pub fn routes() -> Router<AppState> {
    let pods = Router::new()
        .route("/", get(pods::list).post(pods::create))
        .route("/images", get(pods::images))
        .route("/templates", get(templates::list).post(templates::create))
        .route("/templates/tags", get(templates::all_tags))
        .route(
            "/templates/{template_id}",
            get(templates::detail)
                .put(templates::update)
                .delete(templates::remove),
        )
        .route(
            "/templates/{template_id}/tags",
            get(templates::tags).post(templates::add_tag),
        )
        .route("/templates/{template_id}/tags/{tag}", get(templates::tag))
        .route(
            "/templates/{template_id}/permissions",
            get(templates::permissions).post(templates::grant),
        )
        .route(
            "/templates/{template_id}/permissions/{user}",
            delete(templates::revoke),
        )
        .route(
            "/{pod_id}/save_pod_as_template_tag",
            post(templates::save_pod),
        )
        .route(
            "/{pod_id}",
            get(pods::detail).put(pods::update).delete(pods::remove),
        )
        .route("/{pod_id}/start", get(pods::start))
        .route("/{pod_id}/stop", get(pods::stop))
        .route("/{pod_id}/restart", get(pods::restart))
        .route("/{pod_id}/logs", get(pods::logs))
        .route("/{pod_id}/credentials", get(pods::credentials))
        .route("/{pod_id}/derived", get(pods::derived))
        .route(
            "/{pod_id}/permissions",
            get(pods::permissions).post(pods::grant),
        )
        .route("/{pod_id}/permissions/{user}", delete(pods::revoke))
        .route("/{pod_id}/exec", post(files::exec))
        .route("/{pod_id}/upload_to_pod", post(files::upload))
        .route("/{pod_id}/list_files", get(files::list_files))
        .route(
            "/{pod_id}/list_files/{*url_path}",
            get(files::list_files_at),
        )
        .route("/{pod_id}/download_from_pod", get(files::download))
        .route(
            "/{pod_id}/download_from_pod/{*url_path}",
            get(files::download_at),
        )
        .fallback(|| async { TapisError(CoreError::not_found("no such route")) })
        .method_not_allowed_fallback(|| async {
            (
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                envelope::error_body("Method Not Allowed"),
            )
        });
    Router::new()
        .route("/v3/oauth2/tokens", post(pods::tokens))
        .nest("/v3/pods", pods.clone())
        .nest("/pods", pods)
}

/// The caller, from `X-Tapis-Token` (or any other dialect's token header).
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = TapisError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get("x-tapis-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .or_else(|| crate::common::bearer_token(&parts.headers))
            .ok_or_else(|| {
                TapisError(CoreError::Unauthenticated(
                    "no Tapis token: send X-Tapis-Token".into(),
                ))
            })?;
        Ok(Caller(state.berth.authenticate(token).await?))
    }
}
