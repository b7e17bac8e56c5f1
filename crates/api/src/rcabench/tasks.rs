//! Image builds and the tasks that run them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use berth_core::CoreError;
use berth_core::catalog::{BuildRequest, TaskListQuery, TaskState};
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::{RcaResult, reply};
use super::fields::{self, Query, object, only, opt_bool, opt_str};
use super::{Body, Caller, Params, PathParams, views};
use crate::AppState;

const DEFAULT_PAGE_SIZE: i64 = 20;

/// `POST /api/v2/containers/build` → 200 `{group_id, trace_id, task_id}` at
/// once; the build runs in the background.
pub async fn submit_build(
    State(s): State<AppState>,
    Caller(user): Caller,
    body: Body,
) -> RcaResult<Response> {
    let o = object(&body.0, "body")?;
    only(
        o,
        &[
            "image_name",
            "tag",
            "github_repository",
            "github_branch",
            "github_commit",
            "github_token",
            "sub_path",
            "build_options",
        ],
    )?;
    let empty = serde_json::Map::new();
    let options = match o.get("build_options") {
        None | Some(Value::Null) => &empty,
        Some(v) => object(v, "build_options")?,
    };
    only(
        options,
        &[
            "context_dir",
            "dockerfile_path",
            "target",
            "build_args",
            "force_rebuild",
            "memory",
        ],
    )?;
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
        image_name: fields::req_str(o, "image_name")?,
        tag: opt_str(o, "tag")?,
        repository: fields::req_str(o, "github_repository")?,
        branch: opt_str(o, "github_branch")?,
        commit: opt_str(o, "github_commit")?,
        token: opt_str(o, "github_token")?,
        sub_path: opt_str(o, "sub_path")?,
        context_dir: opt_str(options, "context_dir")?,
        dockerfile_path: opt_str(options, "dockerfile_path")?,
        target: opt_str(options, "target")?,
        build_args: fields::build_args(options)?,
        no_cache: opt_bool(options, "force_rebuild")?.unwrap_or(false),
        memory,
    };
    let submitted = s.berth.submit_build(&user, request).await?;
    let t = &submitted.task;
    Ok(reply(
        StatusCode::OK,
        "Container build task submitted successfully",
        json!({
            "group_id": t.group_id.to_string(),
            "trace_id": t.trace_id.to_string(),
            "task_id": t.id.to_string(),
            "image": submitted.image,
        }),
    ))
}

fn task_id(path: &PathParams) -> Result<Uuid, CoreError> {
    Uuid::parse_str(path.text("task_id"))
        .map_err(|_| CoreError::invalid_field("task_id", "Invalid task_id"))
}

/// `GET /api/v2/tasks/{task_id}`: state, payload, result and log lines.
pub async fn detail(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = task_id(&path)?;
    let task = s.berth.task(&user, id).await?;
    Ok(reply(
        StatusCode::OK,
        "Task retrieved successfully",
        views::task_detail(&task),
    ))
}

/// `POST /api/v2/tasks/{task_id}/cancel`.
pub async fn cancel(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = task_id(&path)?;
    let task = s.berth.cancel_task(&user, id).await?;
    Ok(reply(
        StatusCode::OK,
        "Task cancelled",
        views::task_detail(&task),
    ))
}

fn uuid_param(q: &Query, name: &str) -> Result<Option<Uuid>, CoreError> {
    q.text(name)
        .map(|v| Uuid::parse_str(v).map_err(|_| CoreError::invalid_field(name, "must be a uuid")))
        .transpose()
}

/// `GET /api/v2/tasks?page&size&state&group_id&trace_id`, newest first.
pub async fn list(
    State(s): State<AppState>,
    Caller(user): Caller,
    Params(params): Params,
) -> RcaResult<Response> {
    let q = Query(&params);
    let state = match q.text("state") {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .and_then(TaskState::from_code)
                .or_else(|| TaskState::parse(raw))
                .ok_or_else(|| CoreError::invalid_field("state", "not a task state"))?,
        ),
    };
    let query = TaskListQuery {
        page: q.int("page")?.unwrap_or(1),
        size: q.int("size")?.unwrap_or(DEFAULT_PAGE_SIZE),
        state,
        group_id: uuid_param(&q, "group_id")?,
        trace_id: uuid_param(&q, "trace_id")?,
        kind: None,
    };
    let page = s.berth.tasks(&user, &query).await?;
    Ok(reply(
        StatusCode::OK,
        "Tasks retrieved successfully",
        json!({
            "items": page.items.iter().map(views::task).collect::<Vec<_>>(),
            "pagination": views::pagination(query.page, query.size, page.total),
        }),
    ))
}
