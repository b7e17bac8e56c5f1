//! Image builds from git: the request, the rules it must meet (image name,
//! git source and refs, build stage, paths inside the checkout), its
//! validation into a plan recorded as a pending task, then the background
//! run — clone, pack, engine build with the log streamed into the task, and
//! the catalog version recorded — within a deadline. Cancellation is noticed
//! whenever the log is appended to.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::source::{self, Checkout, Workdir};
use super::validate::validate_text;
use super::{BuildArgs, TASK_KIND_BUILD, Task, TaskFilter, TaskState};
use super::{dockerfile, reach};
use crate::archive::{LeavesTree, normal_parts};
use crate::error::{CoreError, CoreResult};
use crate::image::{self, ImageRef};
use crate::model::{User, now};
use crate::quota::Resource;
use crate::runtime::BuildOptions;
use crate::service::{Berth, QuotaHold};

/// A build that runs longer than this is stopped and fails.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(600);
/// Memory of each build step's container unless the request says otherwise.
pub const DEFAULT_BUILD_MEMORY: i64 = 1 << 30;
/// CPU time of each build step's container, in CPUs.
pub const DEFAULT_BUILD_CPUS: f64 = 1.0;
/// The engine takes the limit as a 32-bit number of bytes.
const MAX_BUILD_MEMORY: i64 = i32::MAX as i64;
const MAX_BUILD_ARGS: usize = 64;
/// Label on built images naming the task that built them.
pub const LABEL_BUILD_TASK: &str = "berth.build.task";

/// An image build from a git repository, as a client asks for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildRequest {
    pub image_name: String,
    pub tag: Option<String>,
    /// A git URL (http, https, git, file), an absolute local path, or
    /// `owner/name` on GitHub.
    pub repository: String,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub token: Option<String>,
    pub sub_path: Option<String>,
    pub context_dir: Option<String>,
    pub dockerfile_path: Option<String>,
    pub target: Option<String>,
    pub build_args: BuildArgs,
    pub no_cache: bool,
    /// Memory limit of each build step, as bytes or "512M".
    pub memory: Option<String>,
}

/// What a build submission hands back at once.
#[derive(Debug, Clone)]
pub struct BuildSubmission {
    pub task: Task,
    /// The `name:tag` the image will have.
    pub image: String,
}

/// A relative path inside a source tree: no absolute paths, no `..`.
/// Returns it normalised (`.` and empty components dropped; "" is the root).
pub fn tree_path(field: &str, path: &str) -> CoreResult<String> {
    let bad = |why: &str| CoreError::invalid_field(field, format!("{path:?}: {why}"));
    if path.len() > 1024 || path.contains('\0') || path.contains('\\') {
        return Err(bad("not a plain relative path"));
    }
    if path.starts_with('/') {
        return Err(bad("must be relative to the repository"));
    }
    let parts = normal_parts(path).map_err(|LeavesTree| bad("must stay inside the repository"))?;
    Ok(parts.join("/"))
}

/// An image name to build (`repo` or `namespace/repo`, maybe with a
/// registry), checked by the same grammar as references and without tag.
pub fn validate_build_image_name(name: &str) -> CoreResult<ImageRef> {
    if name.contains('@')
        || name
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
    {
        return Err(CoreError::invalid_field(
            "image_name",
            "give the tag in `tag`, not in the image name",
        ));
    }
    ImageRef::parse(name).map_err(|e| match e {
        CoreError::Invalid { message, .. } => CoreError::invalid_field("image_name", message),
        other => other,
    })
}

/// Where `git clone` may fetch from: https, http and git URLs, or
/// `owner/name` meaning that repository on GitHub; when the operator allows
/// local sources, also `file://` URLs and absolute paths on this host.
/// Other transports (ssh, `ext::`, which runs commands) are refused.
pub fn git_source(raw: &str, allow_local: bool) -> CoreResult<String> {
    let bad = |why: &str| CoreError::invalid_field("github_repository", format!("{raw:?}: {why}"));
    let text = raw.trim();
    if text.is_empty() || text.len() > 2048 {
        return Err(bad("a repository is required"));
    }
    if text.starts_with('-') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("not a repository URL or path"));
    }
    if text.contains("::") {
        return Err(bad("remote helpers are not allowed"));
    }
    let local_refused = "repositories on this host are not allowed; use a remote https URL";
    if let Some((scheme, rest)) = text.split_once("://") {
        return match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" | "git" if !rest.is_empty() => {
                if reach::url_host(text).is_none() {
                    return Err(bad("the URL names no host"));
                }
                Ok(text.to_string())
            }
            "file" if !rest.is_empty() && allow_local => Ok(text.to_string()),
            "file" => Err(bad(local_refused)),
            _ => Err(bad("use an https, http or git URL")),
        };
    }
    if text.starts_with('/') {
        return if allow_local {
            Ok(text.to_string())
        } else {
            Err(bad(local_refused))
        };
    }
    let is_github_name = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    match text.split_once('/') {
        Some((owner, name)) if is_github_name(owner) && is_github_name(name) => {
            let name = name.strip_suffix(".git").unwrap_or(name);
            Ok(format!("https://github.com/{owner}/{name}.git"))
        }
        _ => Err(bad("use a URL or owner/name")),
    }
}

/// Checks that a remote source's host resolves to public addresses only
/// (unless local sources are allowed); for http(s), returns the `host:port:
/// address` git should connect to, so that a second resolution cannot
/// lead it elsewhere.
async fn source_address(url: &str, allow_local: bool) -> CoreResult<Option<String>> {
    if allow_local {
        return Ok(None);
    }
    let Some((host, port)) = reach::url_host(url) else {
        return Err(CoreError::invalid_field(
            "github_repository",
            "the URL names no host",
        ));
    };
    let scheme = url
        .split_once("://")
        .map_or("", |(s, _)| s)
        .to_ascii_lowercase();
    let port = port.unwrap_or(match scheme.as_str() {
        "http" => 80,
        "git" => 9418,
        _ => 443,
    });
    let addresses = reach::public_addresses("github_repository", &host, port).await?;
    if scheme != "http" && scheme != "https" {
        return Ok(None);
    }
    Ok(addresses.first().map(|ip| match ip {
        std::net::IpAddr::V4(v4) => format!("{host}:{port}:{v4}"),
        std::net::IpAddr::V6(v6) => format!("{host}:{port}:[{v6}]"),
    }))
}

/// A branch or tag name git would accept, and that cannot pass for an option.
pub fn validate_git_ref(field: &str, name: &str) -> CoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with(".lock")
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"~^:?*[\\".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            field,
            format!("{name:?} is not a branch name"),
        ))
    }
}

/// A commit id: 4 to 64 hexadecimal digits.
pub fn validate_commit(commit: &str) -> CoreResult<()> {
    if (4..=64).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            "github_commit",
            format!("{commit:?} is not a commit id (hexadecimal)"),
        ))
    }
}

/// A Dockerfile build stage name.
pub fn validate_stage(target: &str) -> CoreResult<()> {
    let ok = !target.is_empty()
        && target.len() <= 128
        && target.starts_with(|c: char| c.is_ascii_alphabetic())
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            "target",
            format!("{target:?} is not a build stage name"),
        ))
    }
}

/// The Dockerfile's path relative to the build context, when it lies inside it.
pub fn path_within(context_dir: &str, path: &str) -> Option<String> {
    if context_dir.is_empty() {
        return Some(path.to_string());
    }
    path.strip_prefix(context_dir)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|rest| !rest.is_empty())
        .map(str::to_string)
}

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

fn plan(actor: &User, task_id: Uuid, req: &BuildRequest, allow_local: bool) -> CoreResult<Plan> {
    let name = req.image_name.trim();
    validate_build_image_name(name)?;
    let tag = req
        .tag
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(image::DEFAULT_TAG);
    if !image::valid_tag(tag) {
        return Err(CoreError::invalid_field(
            "tag",
            format!("{tag:?} is not an image tag"),
        ));
    }
    let image = format!("{name}:{tag}");
    let parsed = ImageRef::parse(&image)?;
    let url = git_source(&req.repository, allow_local)?;
    let branch = req.branch.clone().filter(|b| !b.is_empty());
    if let Some(b) = &branch {
        validate_git_ref("github_branch", b)?;
    }
    let commit = req.commit.clone().filter(|c| !c.is_empty());
    if let Some(c) = &commit {
        validate_commit(c)?;
    }
    let sub_path = tree_path("sub_path", req.sub_path.as_deref().unwrap_or(""))?;
    let context_dir = tree_path("context_dir", req.context_dir.as_deref().unwrap_or("."))?;
    let dockerfile = tree_path(
        "dockerfile_path",
        req.dockerfile_path.as_deref().unwrap_or("Dockerfile"),
    )?;
    if dockerfile.is_empty() {
        return Err(CoreError::invalid_field("dockerfile_path", "names no file"));
    }
    let target = req.target.clone().filter(|t| !t.is_empty());
    if let Some(t) = &target {
        validate_stage(t)?;
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
        validate_text("build_args", value, 8192)?;
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
            allow_local,
            resolve: None,
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
            cpus: Some(DEFAULT_BUILD_CPUS),
            no_network: false,
            // The server's default share.
            cpu_shares: None,
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
    let allow_local = berth.settings.build_allow_local_sources;
    for task in tasks {
        // Whatever the killed run left in its directory is stale.
        Workdir::discard(&workdir_name(task.id));
        let owner = users.iter().find(|u| u.id == task.owner_id);
        let resumed = match (owner, request_from_payload(&task.payload)) {
            (Some(owner), Some(req)) => {
                plan(owner, task.id, &req, allow_local).map_err(|e| e.to_string())
            }
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
    let allow_local = berth.settings.build_allow_local_sources;
    let plan = plan(actor, task_id, &req, allow_local)?;
    source_address(&plan.checkout.url, allow_local).await?;
    // A build must not replace an image others rely on (busybox:latest,
    // another user's build): refused here, before any task exists.
    berth
        .claim_build_target(actor, &plan.image, &plan.parsed)
        .await?;
    // Held until the task's row is written: the row is what the next check counts.
    let quota = hold_builds_quota(berth, actor).await?;
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
    drop(quota);
    let image = plan.image.clone();
    tokio::spawn(run(berth.clone(), plan));
    Ok(BuildSubmission { task, image })
}

/// Checks the builds quota (pending and running builds of the actor's)
/// under the actor's quota lock, which the caller holds until the new
/// task's row is written.
async fn hold_builds_quota(berth: &Berth, actor: &User) -> CoreResult<QuotaHold> {
    let quotas = berth.settings.quotas;
    if quotas.builds == 0 {
        return Ok(None);
    }
    let hold = berth.quota_locks.lock(actor.id).await;
    let mut used = 0;
    for state in [TaskState::Pending, TaskState::Running] {
        let filter = TaskFilter {
            owner_id: Some(actor.id),
            state: Some(state),
            kind: Some(TASK_KIND_BUILD.into()),
            ..TaskFilter::default()
        };
        used += berth.store.list_tasks(&filter, 0, 1).await?.total;
    }
    quotas.check(Resource::Builds, u64::try_from(used).unwrap_or(0), 1)?;
    Ok(Some(hold))
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
    // Resolved again: the host's addresses may have changed since submission.
    let checkout = Checkout {
        resolve: source_address(&plan.checkout.url, plan.checkout.allow_local).await?,
        ..plan.checkout.clone()
    };
    let git_output = source::clone(&checkout, &checkout_dir, BUILD_TIMEOUT).await?;
    if !git_output.trim().is_empty() {
        log(berth, id, &format!("{}\n", git_output.trim_end())).await?;
    }
    let (dir, sub, ctx, file) = (
        checkout_dir.clone(),
        plan.sub_path.clone(),
        plan.context_dir.clone(),
        plan.dockerfile.clone(),
    );
    let (context, dockerfile, text) =
        tokio::task::spawn_blocking(move || source::pack_context(&dir, &sub, &ctx, &file))
            .await
            .map_err(|e| Failure::Error(format!("packing the context failed: {e}")))??;
    let needs = dockerfile::review(&text).await?;
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
        no_network: !needs.run_steps,
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

    #[test]
    fn git_sources() {
        let git_source = |raw: &str| super::git_source(raw, true);
        assert_eq!(git_source("/tmp/repo").unwrap(), "/tmp/repo");
        assert_eq!(git_source("file:///tmp/repo").unwrap(), "file:///tmp/repo");
        assert_eq!(
            git_source("https://example.com/a/b.git").unwrap(),
            "https://example.com/a/b.git"
        );
        assert_eq!(
            git_source("owner/name").unwrap(),
            "https://github.com/owner/name.git"
        );
        assert_eq!(
            git_source("owner/name.git").unwrap(),
            "https://github.com/owner/name.git"
        );
        for bad in [
            "",
            "-uhelp",
            "ext::sh -c touch% /tmp/x",
            "ssh://host/repo",
            "git@github.com:a/b",
            "relative/dir/x",
            "../up",
            "a b/c",
            "ftp://x/y",
            "https://",
        ] {
            assert!(git_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_sources_need_the_operator_setting() {
        for local in ["/tmp/repo", "file:///tmp/repo", "FILE:///tmp/repo"] {
            assert!(git_source(local, false).is_err(), "{local}");
            assert!(git_source(local, true).is_ok(), "{local}");
        }
        assert!(git_source("https://example.com/a/b.git", false).is_ok());
        assert!(git_source("git://example.com/a/b.git", false).is_ok());
    }

    #[tokio::test]
    async fn sources_on_local_addresses_are_refused_unless_allowed() {
        for url in [
            "https://127.0.0.1/a.git",
            "http://localhost:8080/a.git",
            "git://[::1]/a.git",
            "https://169.254.169.254/latest",
            "http://10.0.0.1/a.git",
        ] {
            assert!(source_address(url, false).await.is_err(), "{url}");
            assert_eq!(source_address(url, true).await, Ok(None), "{url}");
        }
        assert_eq!(
            source_address("https://8.8.8.8/a.git", false).await,
            Ok(Some("8.8.8.8:443:8.8.8.8".into()))
        );
    }

    #[test]
    fn git_refs_commits_and_stages() {
        assert!(validate_git_ref("b", "main").is_ok());
        assert!(validate_git_ref("b", "release/1.2").is_ok());
        for bad in ["", "-f", "a..b", "a b", "x.lock", "a:b", "/x", "x/"] {
            assert!(validate_git_ref("b", bad).is_err(), "{bad}");
        }
        assert!(validate_commit("abc1234").is_ok());
        assert!(validate_commit("xyz").is_err());
        assert!(validate_commit("--help").is_err());
        assert!(validate_stage("builder").is_ok());
        assert!(validate_stage("-x").is_err());
    }

    #[test]
    fn dockerfile_within_context() {
        assert_eq!(path_within("", "Dockerfile").as_deref(), Some("Dockerfile"));
        assert_eq!(
            path_within("app", "app/Dockerfile").as_deref(),
            Some("Dockerfile")
        );
        assert_eq!(path_within("app", "Dockerfile"), None);
        assert_eq!(path_within("app", "apple/Dockerfile"), None);
    }

    #[test]
    fn build_image_names_have_no_tag() {
        assert!(validate_build_image_name("berth/hello").is_ok());
        assert!(validate_build_image_name("localhost:5000/hello").is_ok());
        assert!(validate_build_image_name("hello:1.0").is_err());
        assert!(validate_build_image_name("Hello").is_err());
    }

    #[test]
    fn tree_path_errors_say_why() {
        let bad = |path: &str, why: &str| CoreError::invalid_field("p", format!("{path:?}: {why}"));
        let relative = "must be relative to the repository";
        assert_eq!(tree_path("p", "/etc"), Err(bad("/etc", relative)));
        assert_eq!(tree_path("p", "/../x"), Err(bad("/../x", relative)));
        assert_eq!(
            tree_path("p", "a/../x"),
            Err(bad("a/../x", "must stay inside the repository"))
        );
        let plain = "not a plain relative path";
        assert_eq!(tree_path("p", "a\\b"), Err(bad("a\\b", plain)));
        assert_eq!(tree_path("p", "a\0b"), Err(bad("a\0b", plain)));
        assert!(tree_path("p", &"a".repeat(1024)).is_ok());
        let long = "a".repeat(1025);
        assert_eq!(tree_path("p", &long), Err(bad(&long, plain)));
        assert_eq!(tree_path("p", " a ").unwrap(), " a ");
    }

    #[test]
    fn tree_paths_stay_inside() {
        assert_eq!(tree_path("p", ".").unwrap(), "");
        assert_eq!(tree_path("p", "").unwrap(), "");
        assert_eq!(tree_path("p", "./a//b/./").unwrap(), "a/b");
        assert!(tree_path("p", "../x").is_err());
        assert!(tree_path("p", "a/../../x").is_err());
        assert!(tree_path("p", "/etc").is_err());
        assert!(tree_path("p", "a\\b").is_err());
    }

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
