//! Tapis Pods at `/v3/pods` (and `/pods`), with `/v3/oauth2/tokens` and
//! the browser login for pod endpoints with `tapis_auth`.
//! Every answer is the Tapis envelope `{status, message, result, version, metadata}`.

mod auth;
mod error;
mod files;
mod images;
mod kinds;
pub mod openapi;
mod permissions;
mod pods;
mod snapshots;
mod templates;
mod tokens;
mod views;
mod volumes;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{delete, get, post};
use berth_core::CoreError;

use crate::AppState;
use crate::common::auth::bearer_token;
use crate::common::{self, Credentials, Dialect};
pub use error::TapisError;
use kinds::{Pods, Snapshots, Templates, Volumes};

/// The Tapis Pods service.
#[derive(Debug, Clone, Copy)]
pub struct Tapis;

impl Dialect for Tapis {
    const NO_CREDENTIALS: &'static str = "no Tapis token: send X-Tapis-Token";

    /// `X-Tapis-Token: T`, or any other dialect's token header.
    fn credentials(parts: &Parts) -> Result<Option<Credentials>, CoreError> {
        let token = parts
            .headers
            .get("x-tapis-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .or_else(|| bearer_token(&parts.headers));
        Ok(token.map(|t| Credentials::Token(t.to_string())))
    }

    fn error_response(status: StatusCode, error: &CoreError) -> Response {
        error::response(status, error)
    }
}

/// The caller, from `X-Tapis-Token` (or any other dialect's token header).
pub type Caller = common::Caller<Tapis>;

/// A request body; malformed ones are refused in the Tapis envelope.
pub type Body = common::Payload<Tapis>;

pub fn routes() -> Router<AppState> {
    let pods = Router::new()
        .route("/", get(pods::list_pods).post(pods::create_pod))
        .route("/images", get(images::list_images).post(images::add_image))
        .route("/images/bulk", post(images::add_images))
        .route(
            "/images/{*image_id}",
            get(images::get_image).delete(images::delete_image),
        )
        .route(
            "/volumes",
            get(volumes::list_volumes).post(volumes::create_volume),
        )
        .route(
            "/volumes/{volume_id}",
            get(volumes::get_volume)
                .put(volumes::update_volume)
                .delete(volumes::delete_volume),
        )
        .route(
            "/volumes/{volume_id}/list",
            get(volumes::list_files::<Volumes>),
        )
        .route(
            "/volumes/{volume_id}/contents/{*path}",
            get(volumes::get_contents::<Volumes>),
        )
        .route(
            "/volumes/{volume_id}/upload/{*path}",
            post(volumes::upload_to_volume).layer(DefaultBodyLimit::max(volumes::MAX_UPLOAD_BYTES)),
        )
        .route(
            "/volumes/{volume_id}/permissions",
            get(permissions::get_permissions::<Volumes>)
                .post(permissions::set_permission::<Volumes>),
        )
        .route(
            "/volumes/{volume_id}/permissions/{user}",
            delete(permissions::delete_permission::<Volumes>),
        )
        .route(
            "/snapshots",
            get(snapshots::list_snapshots).post(snapshots::create_snapshot),
        )
        .route(
            "/snapshots/{snapshot_id}",
            get(snapshots::get_snapshot)
                .put(snapshots::update_snapshot)
                .delete(snapshots::delete_snapshot),
        )
        .route(
            "/snapshots/{snapshot_id}/list",
            get(volumes::list_files::<Snapshots>),
        )
        .route(
            "/snapshots/{snapshot_id}/contents/{*path}",
            get(volumes::get_contents::<Snapshots>),
        )
        .route(
            "/snapshots/{snapshot_id}/permissions",
            get(permissions::get_permissions::<Snapshots>)
                .post(permissions::set_permission::<Snapshots>),
        )
        .route(
            "/snapshots/{snapshot_id}/permissions/{user}",
            delete(permissions::delete_permission::<Snapshots>),
        )
        .route(
            "/templates",
            get(templates::list_templates).post(templates::add_template),
        )
        .route("/templates/tags", get(templates::list_templates_and_tags))
        .route(
            "/templates/{template_id}",
            get(templates::get_template)
                .put(templates::update_template)
                .delete(templates::delete_template),
        )
        .route(
            "/templates/{template_id}/tags",
            get(templates::list_template_tags).post(templates::add_template_tag),
        )
        .route(
            "/templates/{template_id}/tags/{tag}",
            get(templates::get_template_tag),
        )
        .route(
            "/templates/{template_id}/permissions",
            get(permissions::get_permissions::<Templates>)
                .post(permissions::set_permission::<Templates>),
        )
        .route(
            "/templates/{template_id}/permissions/{user}",
            delete(permissions::delete_permission::<Templates>),
        )
        .route(
            "/{pod_id}/save_pod_as_template_tag",
            post(templates::save_pod_as_template_tag),
        )
        .route(
            "/{pod_id}",
            get(pods::get_pod)
                .put(pods::update_pod)
                .delete(pods::delete_pod),
        )
        .route(
            "/{pod_id}/auth",
            get(auth::pod_auth).post(auth::pod_auth_login),
        )
        .route("/{pod_id}/auth/callback", get(auth::pod_auth_callback))
        .route("/{pod_id}/start", get(pods::start_pod))
        .route("/{pod_id}/stop", get(pods::stop_pod))
        .route("/{pod_id}/restart", get(pods::restart_pod))
        .route("/{pod_id}/logs", get(pods::get_pod_logs))
        .route("/{pod_id}/credentials", get(pods::get_pod_credentials))
        .route("/{pod_id}/derived", get(pods::get_derived_pod))
        .route(
            "/{pod_id}/permissions",
            get(permissions::get_permissions::<Pods>).post(permissions::set_permission::<Pods>),
        )
        .route(
            "/{pod_id}/permissions/{user}",
            delete(permissions::delete_permission::<Pods>),
        )
        .route("/{pod_id}/exec", post(files::exec_pod_commands))
        .route("/{pod_id}/upload_to_pod", post(files::upload_to_pod))
        .route("/{pod_id}/list_files", get(files::list_files_in_pod))
        .route(
            "/{pod_id}/list_files/{*url_path}",
            get(files::list_files_in_pod_at),
        )
        .route("/{pod_id}/download_from_pod", get(files::download_from_pod))
        .route(
            "/{pod_id}/download_from_pod/{*url_path}",
            get(files::download_from_pod_at),
        )
        .fallback(|| async { TapisError::from(CoreError::not_found("no such route")) })
        .method_not_allowed_fallback(|| async {
            (
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                error::error_body("Method Not Allowed"),
            )
        });
    Router::new()
        .route("/v3/oauth2/tokens", post(tokens::create_token))
        .nest("/v3/pods", pods.clone())
        .nest("/pods", pods)
}
