//! The OpenAPI description of the NDS Labs jobs routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `nds` tag. Every
//! refusal is `{"error": …}` ([`ErrorBody`]) at its status; the sets below name
//! each status once, and each handler lists those it can answer.

use utoipa::openapi::path::Operation;
use utoipa::{IntoResponses, OpenApi, ToSchema};

use super::views::ErrorBody;
use super::{data, jobs};

/// A malformed request: a body, field or parameter that does not fit.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "The request does not fit: the error says why"
)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct BadRequest(ErrorBody);

/// No credentials, or ones that name nobody.
#[derive(IntoResponses)]
#[response(status = 401, description = "No token, or not a valid one")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Unauthorized(ErrorBody);

/// Not allowed to the caller (another's data set, a path outside the job).
#[derive(IntoResponses)]
#[response(status = 403, description = "Not allowed to the caller")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Forbidden(ErrorBody);

/// No such job, container, data set or file, or not the caller's.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such thing, or not the caller's")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct NotFound(ErrorBody);

/// The name is taken, or the job's state does not allow this.
#[derive(IntoResponses)]
#[response(status = 409, description = "In conflict with what exists")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Conflict(ErrorBody);

/// The container engine does not answer.
#[derive(IntoResponses)]
#[response(status = 503, description = "The container engine is not answering")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Unavailable(ErrorBody);

/// A file's bytes, as a download sends them.
#[derive(ToSchema)]
#[schema(as = nds::File, value_type = String, format = Binary)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct File(Vec<u8>);

#[derive(OpenApi)]
#[openapi(
    tags((name = "nds", description = "NDS Labs jobs")),
    paths(
        jobs::submit,
        jobs::status,
        jobs::delete,
        jobs::stdout,
        jobs::stop,
        jobs::info,
        jobs::diff,
        jobs::metric,
        jobs::download,
        jobs::list_container,
        data::list_images,
        data::list_data,
        data::upload_dataset,
        data::download_dataset,
        data::remove_dataset,
    ),
    components(schemas(ErrorBody))
)]
struct Described;

/// `GET /v1/datasets` is `GET /list_data` mounted a second time.
const LIST_DATA: &str = "/list_data";
const DATASETS: &str = "/v1/datasets";

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Described::openapi();
    let list: Option<Operation> = doc
        .paths
        .paths
        .get(LIST_DATA)
        .and_then(|item| item.get.clone());
    if let (Some(mut list), Some(datasets)) = (list, doc.paths.paths.get_mut(DATASETS)) {
        list.operation_id = Some("nds_datasets_list".into());
        datasets.get = Some(list);
    }
    doc
}
