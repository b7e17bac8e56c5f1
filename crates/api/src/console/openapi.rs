//! The OpenAPI description of the web console's routes under `/ui`: its
//! page and assets, and the JSON API the page calls. The `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `console` tag.
//! Every refusal is `{"error": …}` ([`ErrorBody`]) at its status; the sets
//! below name each status once, and each handler lists those it can answer.
//! The credentials are the session cookie (`consoleSession`); every `POST`
//! but the login also sends the session's CSRF token ([`CsrfToken`]).

use utoipa::{IntoParams, IntoResponses, OpenApi, ToSchema};

use super::error::ErrorBody;
use super::{apps, assets, events, session, views, workloads};

/// A malformed request: a body, field or parameter that does not fit.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "The request does not fit: the error says why"
)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct BadRequest(ErrorBody);

/// No session, or one that has ended; or (login) a wrong name or password.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "Not logged in, or a wrong name or password"
)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Unauthorized(ErrorBody);

/// A missing or wrong CSRF token, a login from another origin, or not
/// allowed to the caller.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "A missing or wrong CSRF token, a cross-origin login, or not allowed"
)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Forbidden(ErrorBody);

/// No such thing, or not the caller's to see.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such thing, or not the caller's")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct NotFound(ErrorBody);

/// The name is taken, or the state of what it acts on does not allow it.
#[derive(IntoResponses)]
#[response(status = 409, description = "In conflict with what exists")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Conflict(ErrorBody);

/// Too many failed logins.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "Too many failed logins: wait and try again"
)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct TooManyAttempts(ErrorBody);

/// The container engine does not answer.
#[derive(IntoResponses)]
#[response(status = 503, description = "The container engine is not answering")]
#[expect(dead_code, reason = "only describes the answer")]
pub struct Unavailable(ErrorBody);

/// A file's bytes, as a download sends them.
#[derive(ToSchema)]
#[schema(as = console::File, value_type = String, format = Binary)]
#[expect(dead_code, reason = "only describes the answer")]
pub struct File(Vec<u8>);

/// The CSRF token a state-changing request of a session sends.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "only describes the parameter")]
pub struct CsrfToken {
    /// The `csrf` of the login answer or of `GET /ui/api/session`; with a
    /// session cookie, a request without it, or with another session's, is
    /// refused (403) before it runs.
    #[param(rename = "X-CSRF-Token")]
    x_csrf_token: String,
}

#[derive(OpenApi)]
#[openapi(
    tags((name = "console", description = "The web console at `/ui`: its page, script and \
        style, and the JSON API the page calls under `/ui/api`. Credentials: the session \
        cookie `berth_session` that `POST /ui/api/login` sets; every other `POST` also \
        sends the session's CSRF token as `X-CSRF-Token`. Lists that page are \
        `{items, page, size, total}`; errors are `{\"error\": …}`.")),
    paths(
        assets::page,
        assets::script,
        assets::style,
        session::login,
        session::logout,
        session::current,
        events::follow,
        apps::list,
        apps::create,
        apps::detail,
        apps::instances,
        apps::releases,
        apps::config,
        apps::set_config,
        apps::domains,
        apps::perms,
        apps::logs,
        apps::deploy,
        apps::scale,
        apps::rollback,
        apps::restart,
        workloads::pods,
        workloads::start_pod,
        workloads::stop_pod,
        workloads::download_file,
        workloads::upload_file,
        workloads::jobs,
        workloads::submit_job,
        workloads::stop_job,
        workloads::images,
        workloads::users,
        workloads::nodes,
    ),
    components(schemas(
        ErrorBody,
        File,
        session::LoginForm,
        session::Session,
        apps::NewApp,
        apps::ConfigChange,
        apps::ConfigSet,
        apps::Sharing,
        apps::Deploy,
        apps::Scale,
        apps::Rollback,
        apps::Restart,
        workloads::Upload,
        workloads::Uploaded,
        workloads::NewJob,
        workloads::Submitted,
        workloads::JobStopped,
        views::UserView,
        views::AppView,
        views::ListedAppView,
        views::InstanceView,
        views::ReleaseView,
        views::ConfigView,
        views::DomainView,
        views::LogLineView,
        crate::common::events::ChangeView,
        views::JobView,
        views::ImageRepoView,
        views::NodeView,
    ))
)]
struct Described;

pub fn document() -> utoipa::openapi::OpenApi {
    Described::openapi()
}
