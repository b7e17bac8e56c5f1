//! The OpenAPI description of the NDS Labs jobs routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `nds` tag.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(tags((name = "nds", description = "NDS Labs jobs")))]
struct Described;

pub fn document() -> utoipa::openapi::OpenApi {
    Described::openapi()
}
