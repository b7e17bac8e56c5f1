//! The OpenAPI description of the Deis Controller v1 routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `deis` tag.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(tags((name = "deis", description = "Deis Controller v1")))]
struct Described;

pub fn document() -> utoipa::openapi::OpenApi {
    Described::openapi()
}
