//! The NDS Labs job API at the root paths: script jobs run to completion in
//! containers (`/upload`, `/stdout`, `/stop`, `/info`, `/diff`, `/metric`,
//! `/download`, `/list_container`), the images and data sets they can use
//! (`/list_images`, `/list_data`), and data set uploads through the native
//! API (`/v1/datasets`). Answers are bare JSON; errors are `{"error": …}`.

mod data;
mod error;
mod jobs;
mod views;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::get;
use berth_core::CoreError;
use berth_core::model::User;
use uuid::Uuid;

use crate::AppState;
pub use error::NdsError;

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

/// The caller, from `Authorization: Bearer T` or `token T`.
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = NdsError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::common::bearer_token(&parts.headers).ok_or_else(|| {
            NdsError(CoreError::Unauthenticated(
                "authentication required: send Authorization: Bearer <token>".into(),
            ))
        })?;
        Ok(Caller(state.berth.authenticate(token).await?))
    }
}

/// Query-string parameters; a malformed query is a 400 in the NDS shape.
pub struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = NdsError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map(|pairs| Params(pairs.into_iter().collect()))
            .map_err(|e| NdsError(CoreError::invalid(format!("malformed query string: {e}"))))
    }
}

impl Params {
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, CoreError> {
        self.optional(name)
            .ok_or_else(|| CoreError::invalid_field(name, "this parameter is required"))
    }

    pub fn job_id(&self) -> Result<Uuid, CoreError> {
        let raw = self.required("job_id")?;
        Uuid::parse_str(raw)
            .map_err(|_| CoreError::invalid_field("job_id", "must be a job id (a UUID)"))
    }
}
