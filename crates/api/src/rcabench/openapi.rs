//! The OpenAPI description of the RCABench containers v2 routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `rcabench` tag.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(tags((name = "rcabench", description = "RCABench containers v2")))]
struct Described;

pub fn document() -> utoipa::openapi::OpenApi {
    Described::openapi()
}
