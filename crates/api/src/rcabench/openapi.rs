//! The OpenAPI description of the RCABench containers v2 routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `rcabench` tag. Every
//! refusal is a [`Notice`] at its status; the sets below name each status once, and
//! each handler lists those it can answer.

use utoipa::{IntoResponses, OpenApi};

use super::views::Notice;
use super::{auth, containers, tasks};

/// A malformed request: a body, field, parameter or path that does not fit.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "The request does not fit: the message says why"
)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct BadRequest(Notice);

/// No credentials, or ones that name nobody.
#[derive(IntoResponses)]
#[response(status = 401, description = "No token, or not a valid one")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Unauthorized(Notice);

/// The caller may see the object but not do this to it.
#[derive(IntoResponses)]
#[response(status = 403, description = "Not allowed to the caller")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Forbidden(Notice);

/// No such object, or one the caller may not see.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such object, or not visible to the caller"
)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct NotFound(Notice);

/// The name is taken, or the object's state does not allow this.
#[derive(IntoResponses)]
#[response(status = 409, description = "In conflict with what exists")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Conflict(Notice);

/// Too many failed logins from this address or for this user.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "Too many failed attempts; try again later"
)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct TooManyAttempts(Notice);

/// The container engine does not answer.
#[derive(IntoResponses)]
#[response(status = 503, description = "The container engine is not answering")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Unavailable(Notice);

#[derive(OpenApi)]
#[openapi(
    tags((name = "rcabench", description = "RCABench containers v2")),
    paths(
        auth::register,
        auth::login,
        containers::list_containers,
        containers::create_container,
        containers::search_containers,
        containers::get_container_by_id,
        containers::update_container,
        containers::delete_container,
        containers::update_container_labels,
        containers::list_container_versions,
        containers::create_container_version,
        containers::get_container_version_by_id,
        containers::update_container_version,
        containers::delete_container_version,
        tasks::build_container_image,
        tasks::list_tasks,
        tasks::get_task_by_id,
        tasks::cancel_task,
    ),
    components(schemas(Notice))
)]
struct Described;

pub fn document() -> utoipa::openapi::OpenApi {
    Described::openapi()
}
