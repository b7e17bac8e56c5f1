//! The OpenAPI description of the Tutum v1 routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `tutum` tag.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(tags((name = "tutum", description = "Tutum v1")))]
struct Described;

pub fn document() -> utoipa::openapi::OpenApi {
    Described::openapi()
}
