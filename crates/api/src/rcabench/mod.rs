//! RCABench containers API v2 at `/api/v2`: the image catalog (containers
//! and their versions), search, image builds from git and the tasks that
//! run them. Every answer is `{code, message, data, timestamp}`; ids are
//! numbers, and `type`/`status` go in as numbers and come out as names.

mod auth;
mod containers;
mod error;
pub mod openapi;
mod tasks;
mod views;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, patch, post};
use berth_core::CoreError;

use crate::AppState;
use crate::common::{self, Dialect, FieldRules};
pub use error::RcaError;

/// RCABench's containers API v2.
#[derive(Debug, Clone, Copy)]
pub struct RcaBench;

impl Dialect for RcaBench {
    const NO_CREDENTIALS: &'static str =
        "Authentication required: send Authorization: Bearer <token>";

    /// RCABench's own wording, and strict types: an integer must be a number.
    const FIELDS: FieldRules = FieldRules {
        required: "is required",
        blank_when_whitespace: true,
        integers_from_text: false,
    };

    fn error_response(status: StatusCode, error: &CoreError) -> Response {
        error::response(status, error)
    }
}

/// The caller, from `Authorization: Bearer <token>` (any Berth token).
pub type Caller = common::Caller<RcaBench>;

/// A request body; malformed ones are refused in RCABench's envelope.
pub type Body = common::Payload<RcaBench>;

/// Query parameters; a malformed query string is a 400 in the envelope.
pub type Params = common::Params<RcaBench>;

/// Lists and searches count pages from 1, of this many items unless asked.
const DEFAULT_PAGE_SIZE: i64 = 20;

/// `page` and `size` from the query string, page 1 of the default size when absent.
fn page_and_size(params: &Params) -> Result<(i64, i64), CoreError> {
    Ok((
        params.int("page")?.unwrap_or(1),
        params.int("size")?.unwrap_or(DEFAULT_PAGE_SIZE),
    ))
}

/// Path parameters by name; a malformed path is a 400 in the envelope.
pub type PathParams = common::PathParams<RcaBench>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route(
            "/containers",
            get(containers::list_containers).post(containers::create_container),
        )
        .route("/containers/search", post(containers::search_containers))
        .route("/containers/build", post(tasks::build_container_image))
        .route(
            "/containers/{container_id}",
            get(containers::get_container_by_id)
                .patch(containers::update_container)
                .delete(containers::delete_container),
        )
        .route(
            "/containers/{container_id}/labels",
            patch(containers::update_container_labels),
        )
        .route(
            "/containers/{container_id}/versions",
            get(containers::list_container_versions).post(containers::create_container_version),
        )
        .route(
            "/containers/{container_id}/versions/{version_id}",
            get(containers::get_container_version_by_id)
                .patch(containers::update_container_version)
                .delete(containers::delete_container_version),
        )
        .route("/tasks", get(tasks::list_tasks))
        .route("/tasks/{task_id}", get(tasks::get_task_by_id))
        .route("/tasks/{task_id}/cancel", post(tasks::cancel_task))
        .fallback(|| async { RcaError::from(CoreError::not_found("Not found")) })
        .method_not_allowed_fallback(error::method_not_allowed)
}
