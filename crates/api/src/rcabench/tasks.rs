//! Image builds and the tasks that run them.

use axum::extract::State;
use axum::response::Response;
use berth_core::CoreError;
use berth_core::catalog::{BuildArgs, BuildRequest, TaskListQuery, TaskState};
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::RcaResult;
use super::views::{self, ok};
use super::{Body, Caller, Params, PathParams, page_and_size};
use crate::AppState;
use crate::common::body::{Fields, must_be, scalar_text};

/// `POST /api/v2/containers/build` → 200 `{group_id, trace_id, task_id}` at
/// once; the build runs in the background.
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
        json!({
            "group_id": t.group_id.to_string(),
            "trace_id": t.trace_id.to_string(),
            "task_id": t.id.to_string(),
            "image": submitted.image,
        }),
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

/// `GET /api/v2/tasks/{task_id}`: state, payload, result and log lines.
pub async fn get_task_by_id(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = task_id(&path)?;
    let task = s.berth.task(&user, id).await?;
    Ok(ok("Task retrieved successfully", views::task_detail(&task)))
}

/// `POST /api/v2/tasks/{task_id}/cancel`.
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

/// `GET /api/v2/tasks?page&size&state&group_id&trace_id`, newest first.
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
