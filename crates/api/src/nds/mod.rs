//! The NDS Labs job API at the root paths: script jobs run to completion in
//! containers (`/upload`, `/stdout`, `/stop`, `/info`, `/diff`, `/metric`,
//! `/download`, `/list_container`), the images and data sets they can use
//! (`/list_images`, `/list_data`), and data set uploads through the native
//! API (`/v1/datasets`). Answers are bare JSON; errors are `{"error": …}`.

mod data;
mod error;
mod jobs;
pub mod openapi;
mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use berth_core::CoreError;

use crate::AppState;
use crate::common::{self, Dialect};
pub use error::NdsError;

/// The NDS Labs job API.
#[derive(Debug, Clone, Copy)]
pub struct Nds;

impl Dialect for Nds {
    const NO_CREDENTIALS: &'static str =
        "authentication required: send Authorization: Bearer <token>";

    fn error_response(status: StatusCode, error: &CoreError) -> Response {
        error::response(status, error)
    }
}

/// The caller, from `Authorization: Bearer T` or `token T`.
pub type Caller = common::Caller<Nds>;

/// A request body; malformed ones are refused in the NDS shape.
pub type Body = common::Payload<Nds>;

/// Query-string parameters; a malformed query is a 400 in the NDS shape.
pub type Params = common::Params<Nds>;

/// Uploads larger than this are refused; data sets are held in memory while unpacked.
const MAX_DATASET_BYTES: usize = 256 << 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/upload",
            get(jobs::status).post(jobs::submit).delete(jobs::delete),
        )
        .route("/stdout", get(jobs::stdout))
        .route("/stop", get(jobs::stop))
        .route("/info", get(jobs::info))
        .route("/diff", get(jobs::diff))
        .route("/metric", get(jobs::metric))
        .route("/download", get(jobs::download))
        .route("/list_container", get(jobs::list_container))
        .route("/list_images", get(data::list_images))
        .route("/list_data", get(data::list_data))
        .route(
            "/v1/datasets",
            get(data::list_data)
                .post(data::upload_dataset)
                .layer(DefaultBodyLimit::max(MAX_DATASET_BYTES)),
        )
        .route(
            "/v1/datasets/{name}",
            get(data::download_dataset).delete(data::remove_dataset),
        )
}
