//! Image builds from git: validated and recorded as a pending task by the
//! use case, then run in the background — clone, pack, engine build with the
//! log streamed into the task, and the catalog version recorded — within a
//! deadline. Cancellation is noticed whenever the log is appended to.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::rules::{self, ImageRef};
use super::service::{BuildRequest, BuildSubmission};
use super::source::{self, Checkout, Workdir};
use super::{TASK_KIND_BUILD, Task, TaskState};
use crate::error::{CoreError, CoreResult};
use crate::model::{User, now};
use crate::runtime::BuildOptions;
use crate::service::Berth;

/// A build that runs longer than this is stopped and fails.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(600);
/// Memory of each build step's container unless the request says otherwise.
pub const DEFAULT_BUILD_MEMORY: i64 = 1 << 30;
/// The engine takes the limit as a 32-bit number of bytes.
const MAX_BUILD_MEMORY: i64 = i32::MAX as i64;
const MAX_BUILD_ARGS: usize = 64;
/// Label on built images naming the task that built them.
pub const LABEL_BUILD_TASK: &str = "berth.build.task";

/// Everything a build worker needs, checked up front.
struct Plan {
    task_id: Uuid,
    owner: User,
    checkout: Checkout,
    sub_path: String,
    context_dir: String,
    dockerfile: String,
    image: String,
    parsed: ImageRef,
    options: BuildOptions,
    github_link: String,
}

enum Failure {
    Cancelled,
    Error(String),
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Error(e.to_string())
    }
}

fn memory_limit(text: Option<&str>) -> CoreResult<i64> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_BUILD_MEMORY);
    };
    let bytes = crate::rules::parse_memory(text)?;
    if bytes > MAX_BUILD_MEMORY {
        return Err(CoreError::invalid_field(
            "memory",
            "a build may use at most 2G of memory",
        ));
    }
    Ok(bytes)
}

fn plan(actor: &User, task_id: Uuid, req: &BuildRequest) -> CoreResult<Plan> {
    let name = req.image_name.trim();
    rules::validate_build_image_name(name)?;
    let tag = req
        .tag
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(rules::DEFAULT_TAG);
    if !rules::valid_tag(tag) {
        return Err(CoreError::invalid_field(
            "tag",
            format!("{tag:?} is not an image tag"),
        ));
    }
    let image = format!("{name}:{tag}");
    let parsed = ImageRef::parse(&image)?;
    let url = rules::git_source(&req.repository)?;
    let branch = req.branch.clone().filter(|b| !b.is_empty());
    if let Some(b) = &branch {
        rules::validate_git_ref("github_branch", b)?;
    }
    let commit = req.commit.clone().filter(|c| !c.is_empty());
    if let Some(c) = &commit {
        rules::validate_commit(c)?;
    }
    let sub_path = rules::tree_path("sub_path", req.sub_path.as_deref().unwrap_or(""))?;
    let context_dir = rules::tree_path("context_dir", req.context_dir.as_deref().unwrap_or("."))?;
    let dockerfile = rules::tree_path(
        "dockerfile_path",
        req.dockerfile_path.as_deref().unwrap_or("Dockerfile"),
    )?;
    if dockerfile.is_empty() {
        return Err(CoreError::invalid_field("dockerfile_path", "names no file"));
    }
    let target = req.target.clone().filter(|t| !t.is_empty());
    if let Some(t) = &target {
        rules::validate_stage(t)?;
    }
    if req.build_args.len() > MAX_BUILD_ARGS {
        return Err(CoreError::invalid_field(
            "build_args",
            format!("at most {MAX_BUILD_ARGS} build arguments"),
        ));
    }
    for (key, value) in &req.build_args {
        crate::rules::validate_env_name(key).map_err(|_| {
            CoreError::invalid_field("build_args", format!("{key:?} is not an argument name"))
        })?;
        rules::validate_text("build_args", value, 8192)?;
    }
    let github_link = if url.starts_with("http://") || url.starts_with("https://") {
        url.trim_end_matches(".git").to_string()
    } else {
        String::new()
    };
    Ok(Plan {
        task_id,
        owner: actor.clone(),
        checkout: Checkout {
            url,
            branch,
            commit,
            token: req.token.clone().filter(|t| !t.is_empty()),
        },
        sub_path,
        context_dir,
        dockerfile,
        options: BuildOptions {
            tag: image.clone(),
            dockerfile: String::new(),
            target,
            build_args: req.build_args.clone(),
            no_cache: req.no_cache,
            memory_bytes: Some(memory_limit(req.memory.as_deref())?),
            labels: BTreeMap::from([(LABEL_BUILD_TASK.to_string(), task_id.to_string())]),
        },
        image,
        parsed,
        github_link,
    })
}

/// The request as the task shows it: everything but the token, whose use
/// is noted so that a restart knows the build cannot run again unattended.
fn payload(req: &BuildRequest, image: &str) -> Value {
    json!({
        "with_token": req.token.as_deref().is_some_and(|t| !t.is_empty()),
        "image": image,
        "image_name": req.image_name,
        "tag": req.tag,
        "github_repository": req.repository,
        "github_branch": req.branch,
        "github_commit": req.commit,
        "sub_path": req.sub_path,
        "build_options": {
            "context_dir": req.context_dir,
            "dockerfile_path": req.dockerfile_path,
            "target": req.target,
            "build_args": req.build_args,
            "force_rebuild": req.no_cache,
            "memory": req.memory,
        },
    })
}

/// The request a task's payload records, or `None` if it cannot be run
/// again from the payload alone (it needed a token, or is unreadable).
fn request_from_payload(payload: &Value) -> Option<BuildRequest> {
    if payload["with_token"].as_bool() != Some(false) {
        return None;
    }
    let text = |v: &Value| v.as_str().map(str::to_string);
    let options = &payload["build_options"];
    Some(BuildRequest {
        image_name: text(&payload["image_name"])?,
        tag: text(&payload["tag"]),
        repository: text(&payload["github_repository"])?,
        branch: text(&payload["github_branch"]),
        commit: text(&payload["github_commit"]),
        token: None,
        sub_path: text(&payload["sub_path"]),
        context_dir: text(&options["context_dir"]),
        dockerfile_path: text(&options["dockerfile_path"]),
        target: text(&options["target"]),
        build_args: serde_json::from_value(options["build_args"].clone()).ok()?,
        no_cache: options["force_rebuild"].as_bool().unwrap_or(false),
        memory: text(&options["memory"]),
    })
}

/// Runs again, from the start, the builds a killed server left pending or
/// running; one that needed a token (not kept) fails and says so.
pub(super) async fn resume_interrupted(berth: &Arc<Berth>) -> CoreResult<()> {
    let tasks = berth
        .store
        .requeue_interrupted_tasks("interrupted by a server restart; starting again\n")
        .await?;
    if tasks.is_empty() {
        return Ok(());
    }
    let users = berth.store.list_users().await?;
    for task in tasks {
        // Whatever the killed run left in its directory is stale.
        Workdir::discard(&workdir_name(task.id));
        let owner = users.iter().find(|u| u.id == task.owner_id);
        let resumed = match (owner, request_from_payload(&task.payload)) {
            (Some(owner), Some(req)) => plan(owner, task.id, &req).map_err(|e| e.to_string()),
            (None, _) => Err("its owner no longer exists".to_string()),
            (_, None) => Err(
                "interrupted by a server restart; the build used an access token, which is \
                 not kept: submit it again"
                    .to_string(),
            ),
        };
        match resumed {
            Ok(plan) => {
                tracing::info!(task = %task.id, "interrupted build started again");
                tokio::spawn(run(berth.clone(), plan));
            }
            Err(message) => {
                tracing::warn!(task = %task.id, %message, "interrupted build cannot run again");
                berth
                    .store
                    .finish_task(
                        task.id,
                        TaskState::Error,
                        &json!({ "error": message }),
                        &format!("error: {message}\n"),
                    )
                    .await?;
            }
        }
    }
    Ok(())
}

fn workdir_name(task_id: Uuid) -> String {
    format!("berth-build-{task_id}")
}

pub(super) async fn submit(
    berth: &Arc<Berth>,
    actor: &User,
    req: BuildRequest,
) -> CoreResult<BuildSubmission> {
    let task_id = Uuid::new_v4();
    let plan = plan(actor, task_id, &req)?;
    // A build must not replace an image others rely on (busybox:latest…):
    // an existing tag may only be rebuilt through a catalog version that
    // records it, by someone who may change that version — administrators
    // included, so base images are out of reach of every build.
    let exists = berth
        .runtime
        .image_exists(&plan.image)
        .await
        .map_err(|e| CoreError::Unavailable(e.to_string()))?;
    if exists && !berth.records_image(actor, &plan.image).await? {
        return Err(CoreError::Conflict(format!(
            "image {} already exists and none of your containers records it",
            plan.image
        )));
    }
    let t = now();
    let task = Task {
        id: task_id,
        kind: TASK_KIND_BUILD.into(),
        owner_id: actor.id,
        group_id: Uuid::new_v4(),
        trace_id: Uuid::new_v4(),
        state: TaskState::Pending,
        payload: payload(&req, &plan.image),
        log: String::new(),
        result: None,
        created: t,
        updated: t,
    };
    berth.store.insert_task(&task).await?;
    let image = plan.image.clone();
    tokio::spawn(run(berth.clone(), plan));
    Ok(BuildSubmission { task, image })
}

async fn run(berth: Arc<Berth>, plan: Plan) {
    let id = plan.task_id;
    match berth.store.start_task(id).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::error!(task = %id, error = %e, "cannot start a build task");
            return;
        }
    }
    tracing::info!(task = %id, image = %plan.image, "build started");
    let outcome = tokio::time::timeout(BUILD_TIMEOUT, execute(&berth, &plan)).await;
    let (state, result, tail) = match outcome {
        Ok(Ok(result)) => (
            TaskState::Completed,
            result,
            "build completed\n".to_string(),
        ),
        Ok(Err(Failure::Cancelled)) => return,
        Ok(Err(Failure::Error(message))) => (
            TaskState::Error,
            json!({ "error": message }),
            format!("error: {message}\n"),
        ),
        Err(_) => {
            let message = format!("the build took longer than {} s", BUILD_TIMEOUT.as_secs());
            (
                TaskState::Error,
                json!({ "error": message }),
                format!("error: {message}\n"),
            )
        }
    };
    tracing::info!(task = %id, state = state.as_str(), "build ended");
    if let Err(e) = berth.store.finish_task(id, state, &result, &tail).await {
        tracing::error!(task = %id, error = %e, "cannot record a build's end");
    }
}

async fn log(berth: &Berth, id: Uuid, text: &str) -> Result<(), Failure> {
    match berth.store.append_task_log(id, text).await {
        Ok(TaskState::Cancelled) => Err(Failure::Cancelled),
        Ok(_) => Ok(()),
        Err(e) => Err(Failure::Error(e.to_string())),
    }
}

async fn execute(berth: &Berth, plan: &Plan) -> Result<Value, Failure> {
    let id = plan.task_id;
    let work = Workdir::create(&workdir_name(id))?;
    let checkout_dir = work.path().join("src");
    log(berth, id, &format!("cloning {}\n", plan.checkout.url)).await?;
    let git_output = source::clone(&plan.checkout, &checkout_dir, BUILD_TIMEOUT).await?;
    if !git_output.trim().is_empty() {
        log(berth, id, &format!("{}\n", git_output.trim_end())).await?;
    }
    let (dir, sub, ctx, file) = (
        checkout_dir.clone(),
        plan.sub_path.clone(),
        plan.context_dir.clone(),
        plan.dockerfile.clone(),
    );
    let (context, dockerfile) =
        tokio::task::spawn_blocking(move || source::pack_context(&dir, &sub, &ctx, &file))
            .await
            .map_err(|e| Failure::Error(format!("packing the context failed: {e}")))??;
    log(
        berth,
        id,
        &format!(
            "sending {} bytes of build context to the engine, Dockerfile {dockerfile}\n",
            context.len()
        ),
    )
    .await?;

    let options = BuildOptions {
        dockerfile,
        ..plan.options.clone()
    };
    let (lines_tx, mut lines) = mpsc::channel::<String>(256);
    let build = berth.runtime.build_image(context, options, lines_tx);
    tokio::pin!(build);
    let built = loop {
        tokio::select! {
            result = &mut build => break result,
            Some(first) = lines.recv() => {
                // Batch what is already waiting: one store write per burst.
                let mut text = first;
                while let Ok(more) = lines.try_recv() {
                    text.push_str(&more);
                }
                log(berth, id, &text).await?;
            }
        }
    };
    let mut rest = String::new();
    while let Ok(more) = lines.try_recv() {
        rest.push_str(&more);
    }
    if !rest.is_empty() {
        log(berth, id, &rest).await?;
    }
    let image_id = built.map_err(|e| Failure::Error(e.to_string()))?;
    drop(work);

    let version = berth
        .record_built_image(&plan.owner, &plan.image, &plan.parsed, &plan.github_link)
        .await?;
    log(
        berth,
        id,
        &format!(
            "built {} ({image_id}); container {} version {}\n",
            plan.image, version.repo_id, version.name
        ),
    )
    .await?;
    Ok(json!({
        "image": plan.image,
        "image_id": image_id,
        "container_id": version.repo_id,
        "version_id": version.id,
        "version": version.name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> BuildRequest {
        BuildRequest {
            image_name: "team/algo".into(),
            tag: Some("v2".into()),
            repository: "/srv/git/algo".into(),
            branch: Some("main".into()),
            commit: None,
            token: None,
            sub_path: Some("svc".into()),
            context_dir: Some(".".into()),
            dockerfile_path: Some("Dockerfile".into()),
            target: None,
            build_args: BTreeMap::from([("MODE".into(), "fast".into())]),
            no_cache: true,
            memory: Some("512M".into()),
        }
    }

    #[test]
    fn a_payload_gives_back_the_request_it_records() {
        let req = request();
        let payload = payload(&req, "team/algo:v2");
        assert_eq!(request_from_payload(&payload), Some(req));
    }

    #[test]
    fn a_request_with_a_token_cannot_be_rebuilt_from_its_payload() {
        let req = BuildRequest {
            token: Some("secret".into()),
            ..request()
        };
        let payload = payload(&req, "team/algo:v2");
        assert!(!payload.to_string().contains("secret"));
        assert_eq!(request_from_payload(&payload), None);
        // Payloads written before the token was noted are not trusted either.
        let mut old = payload.clone();
        old.as_object_mut().map(|o| o.remove("with_token"));
        assert_eq!(request_from_payload(&old), None);
    }
}
