//! Image builds and the tasks that run them.

use axum::extract::State;
use axum::response::Response;
use berth_core::CoreError;
use berth_core::catalog::{BuildArgs, BuildRequest, TaskListQuery, TaskState};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::RcaResult;
use super::openapi::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unavailable};
use super::views::{self, BuildSubmitted, Envelope, Page, TaskDetail, TaskView, ok};
use super::{Body, Caller, Params, PathParams, page_and_size};
use crate::AppState;
use crate::common::body::{Fields, must_be, scalar_text};

/// How to build; no other field is accepted.
#[derive(ToSchema)]
#[schema(as = rcabench::BuildOptions)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct BuildOptions {
    /// The build context, relative to the repository (or `sub_path`).
    context_dir: Option<String>,
    dockerfile_path: Option<String>,
    /// A stage of a multi-stage Dockerfile.
    target: Option<String>,
    /// Build arguments: strings, numbers or booleans.
    #[schema(value_type = Option<HashMap<String, String>>)]
    build_args: Option<Value>,
    /// Build without the cache.
    force_rebuild: Option<bool>,
    /// A memory limit: bytes, or a size like `512M`.
    #[schema(value_type = Option<String>)]
    memory: Option<Value>,
}

/// An image build from a git repository; no other field is accepted.
#[derive(ToSchema)]
#[schema(as = rcabench::BuildRequest)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct BuildInput {
    image_name: String,
    tag: Option<String>,
    /// `owner/name` on GitHub, or a git URL.
    github_repository: String,
    github_branch: Option<String>,
    github_commit: Option<String>,
    github_token: Option<String>,
    /// A directory of the repository to build from.
    sub_path: Option<String>,
    build_options: Option<BuildOptions>,
}

/// The query of `GET /api/v2/tasks`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "describes the parameters the handler reads one by one"
)]
pub struct TaskQuery {
    /// From 1.
    page: Option<i64>,
    /// 5, 10, 20 (the default), 50 or 100.
    size: Option<i64>,
    /// A state by name (`pending`, `running`, `completed`, `error`,
    /// `cancelled`) or by code.
    state: Option<String>,
    /// A uuid.
    group_id: Option<String>,
    /// A uuid.
    trace_id: Option<String>,
}

/// Build an image from a git repository: answers at once with the task;
/// the build runs in the background.
#[utoipa::path(post, path = "/api/v2/containers/build", tag = "rcabench",
    operation_id = "rcabench_containers_build",
    request_body = BuildInput,
    responses(
        (status = 200, description = "The build task", body = Envelope<BuildSubmitted>),
        BadRequest, Unauthorized, Forbidden, Conflict, Unavailable,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn build_container_image(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> RcaResult<Response> {
    let o = body.fields_named("body")?;
    o.only(&[
        "image_name",
        "tag",
        "github_repository",
        "github_branch",
        "github_commit",
        "github_token",
        "sub_path",
        "build_options",
    ])?;
    let empty = Value::Object(serde_json::Map::new());
    let options = match o.get("build_options") {
        None | Some(Value::Null) => o.nested(&empty, "build_options")?,
        Some(v) => o.nested(v, "build_options")?,
    };
    options.only(&[
        "context_dir",
        "dockerfile_path",
        "target",
        "build_args",
        "force_rebuild",
        "memory",
    ])?;
    let memory = match options.get("memory") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(m)) => Some(m.clone()),
        Some(_) => {
            return Err(
                CoreError::invalid_field("memory", "must be bytes or a size like 512M").into(),
            );
        }
    };
    let request = BuildRequest {
        image_name: o.string("image_name")?,
        tag: o.opt_string("tag")?,
        repository: o.string("github_repository")?,
        branch: o.opt_string("github_branch")?,
        commit: o.opt_string("github_commit")?,
        token: o.opt_string("github_token")?,
        sub_path: o.opt_string("sub_path")?,
        context_dir: options.opt_string("context_dir")?,
        dockerfile_path: options.opt_string("dockerfile_path")?,
        target: options.opt_string("target")?,
        build_args: build_args(&options)?,
        no_cache: options.opt_bool("force_rebuild")?.unwrap_or(false),
        memory,
    };
    let submitted = s.berth.submit_build(&user, request).await?;
    let t = &submitted.task;
    Ok(ok(
        "Container build task submitted successfully",
        BuildSubmitted {
            group_id: t.group_id.to_string(),
            image: submitted.image,
            task_id: t.id.to_string(),
            trace_id: t.trace_id.to_string(),
        },
    ))
}

fn build_args(options: &Fields) -> Result<BuildArgs, CoreError> {
    match options.get("build_args") {
        None | Some(Value::Null) => Ok(BuildArgs::new()),
        Some(Value::Object(args)) => args
            .iter()
            .map(|(k, v)| Ok((k.clone(), scalar_text("build_args", v)?)))
            .collect(),
        Some(_) => Err(must_be("build_args", "an object")),
    }
}

fn task_id(path: &PathParams) -> Result<Uuid, CoreError> {
    Uuid::parse_str(path.text("task_id"))
        .map_err(|_| CoreError::invalid_field("task_id", "Invalid task_id"))
}

/// One task: state, payload, result and log lines.
#[utoipa::path(get, path = "/api/v2/tasks/{task_id}", tag = "rcabench",
    operation_id = "rcabench_tasks_get",
    params(("task_id" = String, Path, pattern = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$", description = "The task's id, a uuid")),
    responses(
        (status = 200, description = "The task", body = Envelope<TaskDetail>),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn get_task_by_id(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = task_id(&path)?;
    let task = s.berth.task(&user, id).await?;
    Ok(ok("Task retrieved successfully", views::task_detail(&task)))
}

/// Cancel a task.
#[utoipa::path(post, path = "/api/v2/tasks/{task_id}/cancel", tag = "rcabench",
    operation_id = "rcabench_tasks_cancel",
    params(("task_id" = String, Path, pattern = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$", description = "The task's id, a uuid")),
    responses(
        (status = 200, description = "The task, cancelled", body = Envelope<TaskDetail>),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn cancel_task(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = task_id(&path)?;
    let task = s.berth.cancel_task(&user, id).await?;
    Ok(ok("Task cancelled", views::task_detail(&task)))
}

fn uuid_param(params: &Params, name: &str) -> Result<Option<Uuid>, CoreError> {
    params
        .text(name)
        .map(|v| Uuid::parse_str(v).map_err(|_| CoreError::invalid_field(name, "must be a uuid")))
        .transpose()
}

/// The caller's tasks, newest first.
#[utoipa::path(get, path = "/api/v2/tasks", tag = "rcabench",
    operation_id = "rcabench_tasks_list",
    params(TaskQuery),
    responses(
        (status = 200, description = "A page of tasks", body = Envelope<Page<TaskView>>),
        BadRequest, Unauthorized,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn list_tasks(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> RcaResult<Response> {
    let state = match params.text("state") {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .and_then(TaskState::from_code)
                .or_else(|| TaskState::parse(raw))
                .ok_or_else(|| CoreError::invalid_field("state", "not a task state"))?,
        ),
    };
    let (page, size) = page_and_size(&params)?;
    let query = TaskListQuery {
        page,
        size,
        state,
        group_id: uuid_param(&params, "group_id")?,
        trace_id: uuid_param(&params, "trace_id")?,
        kind: None,
    };
    let page = s.berth.tasks(&user, &query).await?;
    Ok(ok(
        "Tasks retrieved successfully",
        views::paged(
            page.items.iter().map(views::task).collect(),
            query.page,
            query.size,
            page.total,
        ),
    ))
}
