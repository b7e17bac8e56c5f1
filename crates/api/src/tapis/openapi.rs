//! The OpenAPI description of the Tapis Pods routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `tapis` tag.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(tags((name = "tapis", description = "Tapis Pods")))]
struct Described;

pub fn document() -> utoipa::openapi::OpenApi {
    Described::openapi()
}
