//! The OpenAPI description of the Tutum v1 routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `tutum` tag,
//! and the refusals every operation shares, described once here.

use utoipa::openapi::{RefOr, Required};
use utoipa::{IntoResponses, OpenApi};

use super::error::ErrorBody;
use super::{applications, auth, containers, images, views};

#[derive(OpenApi)]
#[openapi(
    tags((name = "tutum", description = "Tutum v1: applications and their containers, \
        under `/api/v1`. Credentials: `ApiKey <user>:<key>`, Basic with a user name and \
        a key or password, or a Berth token as `Bearer`. Lists are \
        `{meta, objects}` pages (`offset`, `limit`); errors are `{\"error\": …}`.")),
    paths(
        auth::api_key,
        auth::register,
        applications::list,
        applications::create,
        applications::detail,
        applications::update,
        applications::terminate,
        applications::start,
        applications::stop,
        applications::redeploy,
        applications::logs,
        images::detail,
        containers::list,
        containers::detail,
        containers::terminate,
        containers::start,
        containers::stop,
        containers::logs,
    ),
    components(schemas(
        ErrorBody,
        auth::RegisterRefusal,
        auth::RegisterFailure,
        auth::Registration,
        applications::NewApplication,
        applications::ApplicationChange,
        applications::Redeploy,
        views::Application,
        views::ApplicationList,
        views::ApplicationPort,
        views::Container,
        views::ContainerList,
        views::ContainerPort,
        views::EnvVar,
        views::ListMeta,
        views::ApiKey,
        views::ApiKeyList,
        views::Registered,
        views::Logs,
        views::Image,
        views::ImageTag,
        views::ImageOrTag,
    ))
)]
struct Described;

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Described::openapi();
    // A change and a redeploy may come with no body at all (the CLI sends
    // none to scale to 0); utoipa marks every typed body required.
    for path in [
        "/api/v1/application/{uuid}",
        "/api/v1/application/{uuid}/redeploy",
    ] {
        let item = doc.paths.paths.get_mut(path);
        for operation in item.into_iter().flat_map(|i| [&mut i.patch, &mut i.post]) {
            if let Some(RefOr::T(body)) = operation.as_mut().and_then(|o| o.request_body.as_mut()) {
                body.required = Some(Required::False);
            }
        }
    }
    doc
}

// The types below only describe answers (the handlers give [`ErrorBody`]
// through `TutumError`), so nothing constructs them.

/// The refusals of an operation that needs a caller: no or bad
/// credentials, too many password attempts, a client that takes no JSON.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub(super) enum CallerRefusals {
    /// No credentials, or ones that are not valid.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The client accepts no `application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
    /// Too many failed password attempts; try again later.
    #[response(status = 429)]
    TooManyAttempts(ErrorBody),
}

/// The container engine did not answer.
#[allow(dead_code)]
#[derive(IntoResponses)]
#[response(status = 503)]
pub(super) struct EngineDown(ErrorBody);
