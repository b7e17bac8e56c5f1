//! Script jobs (the NDS Labs job API): a shell script run to completion in a
//! container of its own, kept after it finishes for its output, filesystem
//! changes and result files, plus the data sets such jobs read.
//!
//! The engine is the truth for a job's state: every read observes the
//! container and records what it saw, so a job that kept running while the
//! server was down reads right afterwards.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::rules::valid_tag;
use crate::catalog::{CatalogStatus, ImageRef, RepoListQuery};
use crate::error::{CoreError, CoreResult};
use crate::model::{Job, JobState, Timestamp, User, now};
use crate::runtime::{
    BindMount, ContainerInfo, ContainerSpec, ContainerStats, EngineState, FsChange, LABEL_JOB,
    RuntimeError,
};
use crate::service::Berth;

/// `Job::kind` of script jobs.
pub const SCRIPT_JOB_KIND: &str = "script";
pub const DEFAULT_SCRIPT_NAME: &str = "script.sh";
pub const DEFAULT_IMAGE_NAME: &str = "busybox";
pub const DEFAULT_IMAGE_TAG: &str = "latest";
/// The script's directory and the job's working directory.
pub const JOB_DIR: &str = "/job";
/// Where a job's data set is mounted, read-only.
pub const DATA_MOUNT: &str = "/data";
/// Under the data dir; shared data sets are its folders, users' own are
/// under `users/<username>/`.
const DATASETS_DIR: &str = "datasets";
const USERS_DIR: &str = "users";
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_SCRIPT_BYTES: usize = 1 << 20;
const MAX_PATH_LEN: usize = 4096;

/// A script job: the core job row plus what running it in a container adds.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptJob {
    pub job: Job,
    pub script_name: String,
    pub dataset: Option<String>,
    pub container_id: Option<String>,
    /// The engine node that runs it.
    pub node: Option<String>,
    pub started: Option<Timestamp>,
    /// The last resource sample taken while it ran.
    pub metrics: Option<MetricsSample>,
}

/// Resource use of a job's container, as sampled at `sampled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSample {
    pub sampled: Timestamp,
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
}

impl MetricsSample {
    fn new(stats: ContainerStats, sampled: Timestamp) -> Self {
        MetricsSample {
            sampled,
            cpu_percent: stats.cpu_percent,
            memory_usage: stats.memory_usage,
            memory_limit: stats.memory_limit,
            net_rx: stats.net_rx,
            net_tx: stats.net_tx,
            block_read: stats.block_read,
            block_write: stats.block_write,
        }
    }
}

/// What an observation of a job's container found, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct JobObservation {
    pub state: JobState,
    pub exit_code: Option<i64>,
    pub node: Option<String>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
}

// ------------------------------------------------------------------- rules

/// Whether the reconciler keeps a finished job's container: script jobs
/// keep theirs (for output, diff and files) until the job is deleted.
pub fn keeps_container(job: &Job) -> bool {
    job.kind == SCRIPT_JOB_KIND
}

fn is_final(state: JobState) -> bool {
    matches!(
        state,
        JobState::Completed | JobState::Failed | JobState::Cancelled
    )
}

/// A job's state given what was recorded and what the engine shows of its
/// container (`None`: the container is gone).
pub fn observed_state(recorded: JobState, engine: Option<(EngineState, Option<i64>)>) -> JobState {
    // A stop the user asked for stays a stop, whatever the exit code.
    if recorded == JobState::Cancelled {
        return recorded;
    }
    match engine {
        None if is_final(recorded) => recorded,
        None => JobState::Failed,
        // Created but not started: submission is under way, or was cut off
        // (then the record already says so).
        Some((EngineState::Created | EngineState::Removing, _)) => recorded,
        Some((EngineState::Running | EngineState::Paused | EngineState::Restarting, _)) => {
            JobState::Running
        }
        Some((EngineState::Exited | EngineState::Dead, Some(0))) => JobState::Completed,
        Some((EngineState::Exited | EngineState::Dead, _)) => JobState::Failed,
    }
}

/// A plain file name: no directories, no `.`/`..`, nothing a shell would
/// read as an option, no control characters.
pub fn validate_file_name(field: &str, name: &str) -> CoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with('-')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            field,
            format!("{name:?} is not a plain file name"),
        ))
    }
}

/// `name:tag` from the two request fields, each defaulted and validated.
pub fn image_reference(name: Option<&str>, tag: Option<&str>) -> CoreResult<String> {
    let name = name.filter(|n| !n.is_empty()).unwrap_or(DEFAULT_IMAGE_NAME);
    let tag = tag.filter(|t| !t.is_empty()).unwrap_or(DEFAULT_IMAGE_TAG);
    if !valid_tag(tag) {
        return Err(CoreError::invalid_field(
            "image_tag",
            format!("{tag:?} is not an image tag"),
        ));
    }
    let reference = format!("{name}:{tag}");
    ImageRef::parse(&reference).map_err(|_| {
        CoreError::invalid_field(
            "image_name",
            format!("{name:?} is not an image name (give the tag in image_tag)"),
        )
    })?;
    Ok(reference)
}

/// Splits `repo:tag` at the tag's colon (a registry port is not a tag).
pub fn split_image_reference(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, DEFAULT_IMAGE_TAG),
    }
}

/// Data set names are folder names: a letter or digit, then letters,
/// digits, `.`, `_` and `-`.
pub fn validate_dataset_name(name: &str) -> CoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && name != USERS_DIR;
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            "name",
            format!(
                "{name:?} is not a data set name: a letter or digit, then letters, digits, '.', '_' or '-'"
            ),
        ))
    }
}

/// The absolute path in a job's container that a download asks for:
/// relative paths are under `/job`, `.` and empty parts drop out, and `..`
/// is refused rather than resolved.
pub fn download_path(raw: Option<&str>) -> CoreResult<String> {
    let raw = raw
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(JOB_DIR);
    if raw.len() > MAX_PATH_LEN || raw.contains('\0') {
        return Err(CoreError::invalid_field("path", "not a usable path"));
    }
    let joined = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("{JOB_DIR}/{raw}")
    };
    let mut parts = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(CoreError::invalid_field(
                    "path",
                    "'..' is not allowed in a download path",
                ));
            }
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// A tar holding the job directory and the script in it, to unpack at `/`.
pub fn script_archive(script_name: &str, script: &[u8]) -> CoreResult<Vec<u8>> {
    let tar_err = |e: std::io::Error| CoreError::Internal(format!("script archive: {e}"));
    let mut builder = tar::Builder::new(Vec::new());
    let mtime = now().unix_timestamp().max(0) as u64;
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    dir.set_mtime(mtime);
    builder
        .append_data(&mut dir, "job/", std::io::empty())
        .map_err(tar_err)?;
    let mut file = tar::Header::new_gnu();
    file.set_entry_type(tar::EntryType::Regular);
    file.set_mode(0o755);
    file.set_size(script.len() as u64);
    file.set_mtime(mtime);
    builder
        .append_data(&mut file, format!("job/{script_name}"), script)
        .map_err(tar_err)?;
    builder.into_inner().map_err(tar_err)
}

/// A download: one file's bytes, or a directory as the engine's tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    File { name: String, bytes: Vec<u8> },
    Directory { name: String, tar: Vec<u8> },
}

/// Reads what the engine archived for a path: its first entry says what
/// the path is. Links are refused, since their target is not what was asked.
pub fn read_download(tar_bytes: Vec<u8>) -> CoreResult<Download> {
    let bad = |e: std::io::Error| CoreError::Internal(format!("unreadable archive: {e}"));
    let (name, kind, file_bytes) = {
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let mut entries = archive.entries().map_err(bad)?;
        let mut entry = entries
            .next()
            .ok_or_else(|| CoreError::not_found("the path is empty"))?
            .map_err(bad)?;
        let name = entry
            .path()
            .map_err(bad)?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "root".into());
        let kind = entry.header().entry_type();
        let mut bytes = Vec::new();
        if kind.is_file() {
            entry.read_to_end(&mut bytes).map_err(bad)?;
        }
        (name, kind, bytes)
    };
    match kind {
        k if k.is_file() => Ok(Download::File {
            name,
            bytes: file_bytes,
        }),
        tar::EntryType::Directory => Ok(Download::Directory {
            name,
            tar: tar_bytes,
        }),
        tar::EntryType::Symlink | tar::EntryType::Link => Err(CoreError::Forbidden(format!(
            "{name} is a link; download what it points to by its own path"
        ))),
        _ => Err(CoreError::Forbidden(format!(
            "{name} is not a regular file or a directory"
        ))),
    }
}

/// Unpacks an uploaded tar into `dest`, which must exist and be empty.
/// Only plain files and directories with relative, `..`-free paths are
/// accepted; anything else refuses the whole archive. Returns (files, bytes).
pub fn unpack_dataset(tar_bytes: &[u8], dest: &Path) -> CoreResult<(u64, u64)> {
    let invalid = |m: String| CoreError::invalid_field("file", m);
    let io = |e: std::io::Error| CoreError::Internal(format!("unpacking the data set: {e}"));
    let mut archive = tar::Archive::new(tar_bytes);
    let entries = archive
        .entries()
        .map_err(|e| invalid(format!("not a tar archive: {e}")))?;
    let (mut files, mut bytes) = (0u64, 0u64);
    for entry in entries {
        let mut entry = entry.map_err(|e| invalid(format!("not a tar archive: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| invalid(format!("bad entry name: {e}")))?
            .into_owned();
        let mut relative = PathBuf::new();
        for component in path.components() {
            match component {
                Component::Normal(part) => relative.push(part),
                Component::CurDir => {}
                _ => {
                    return Err(invalid(format!(
                        "{} leaves the data set (absolute or '..' paths are refused)",
                        path.display()
                    )));
                }
            }
        }
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => continue,
            tar::EntryType::Directory => {
                std::fs::create_dir_all(dest.join(&relative)).map_err(io)?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if relative.as_os_str().is_empty() {
                    return Err(invalid("a file entry has no name".into()));
                }
                let target = dest.join(&relative);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                    .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
                bytes += std::io::copy(&mut entry, &mut out).map_err(io)?;
                files += 1;
            }
            _ => {
                return Err(invalid(format!(
                    "{} is not a plain file or directory (links and devices are refused)",
                    path.display()
                )));
            }
        }
    }
    Ok((files, bytes))
}

// --------------------------------------------------------------- use cases

/// What a request to run a script asks for.
#[derive(Debug, Clone, Default)]
pub struct NewScriptJob {
    pub script: Vec<u8>,
    pub script_name: Option<String>,
    pub image_name: Option<String>,
    pub image_tag: Option<String>,
    pub dataset: Option<String>,
}

/// A job as last observed, with its container as the engine showed it
/// (`None` when it has none or it is gone).
#[derive(Debug, Clone)]
pub struct ObservedJob {
    pub job: ScriptJob,
    pub container: Option<ContainerInfo>,
}

/// How a stop request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    Stopped,
    AlreadyFinished(JobState),
    /// The job has no container any more.
    Gone,
    /// The engine refused; its reason.
    Refused(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    /// Placed by an administrator for everyone, rather than uploaded by the caller.
    pub shared: bool,
}

/// An uploaded data set: one file, or a tar to unpack.
#[derive(Debug, Clone)]
pub struct DatasetUpload {
    pub file_name: String,
    pub content: Vec<u8>,
    pub unpack: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSummary {
    pub name: String,
    pub files: u64,
    pub bytes: u64,
}

fn engine_error(e: RuntimeError) -> CoreError {
    match e {
        RuntimeError::NotFound(what) => CoreError::not_found(format!("{what} not found")),
        other => CoreError::Unavailable(other.to_string()),
    }
}

fn job_not_found(what: &str) -> CoreError {
    CoreError::not_found(format!("job {what} not found"))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> CoreResult<T> + Send + 'static,
) -> CoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CoreError::Internal(format!("file task failed: {e}")))?
}

impl Berth {
    fn may_see(actor: &User, job: &ScriptJob) -> bool {
        actor.is_admin || job.job.owner_id == actor.id
    }

    /// Creates the job's container with the script in it and starts it.
    pub async fn submit_script_job(
        &self,
        actor: &User,
        request: NewScriptJob,
    ) -> CoreResult<ScriptJob> {
        if request.script.is_empty() {
            return Err(CoreError::invalid_field(
                "script",
                "give the script as 'script' (text) or 'file' (an uploaded file)",
            ));
        }
        if request.script.len() > MAX_SCRIPT_BYTES {
            return Err(CoreError::invalid_field(
                "script",
                "the script is too large",
            ));
        }
        let script_name = request
            .script_name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_SCRIPT_NAME.into());
        validate_file_name("scriptname", &script_name)?;
        let image = image_reference(request.image_name.as_deref(), request.image_tag.as_deref())?;
        let dataset = request.dataset.filter(|d| !d.is_empty());
        let mount = match &dataset {
            Some(name) => Some(self.dataset_dir(actor, name).await?),
            None => None,
        };
        self.require_image(&image).await?;
        self.purge_expired_script_jobs().await;

        let job = ScriptJob {
            job: Job {
                uuid: Uuid::new_v4(),
                owner_id: actor.id,
                app_id: None,
                kind: SCRIPT_JOB_KIND.into(),
                image: image.clone(),
                command: format!("/bin/sh {script_name}"),
                state: JobState::Pending,
                exit_code: None,
                output: String::new(),
                created: now(),
                finished: None,
            },
            script_name: script_name.clone(),
            dataset,
            container_id: None,
            node: None,
            started: None,
            metrics: None,
        };
        // The row comes first: a container whose job row is missing is an
        // orphan the reconciler removes.
        self.store.insert_script_job(&job).await?;
        let spec = ContainerSpec {
            name: format!("berth_job_{}", job.job.uuid.simple()),
            image: image.clone(),
            entrypoint: Some(Vec::new()),
            cmd: Some(vec!["/bin/sh".into(), script_name.clone()]),
            working_dir: Some(JOB_DIR.into()),
            labels: BTreeMap::from([(LABEL_JOB.to_string(), job.job.uuid.to_string())]),
            mounts: mount
                .map(|source| BindMount {
                    source: source.to_string_lossy().into_owned(),
                    target: DATA_MOUNT.into(),
                    read_only: true,
                })
                .into_iter()
                .collect(),
            ..ContainerSpec::default()
        };
        let archive = script_archive(&script_name, &request.script)?;
        if let Err(e) = self.start_job_container(&job, &spec, archive).await {
            let _ = self.store.delete_script_job(job.job.uuid).await;
            return Err(match e {
                RuntimeError::ImageNotFound(i) => CoreError::invalid_field(
                    "image_name",
                    format!("image {i} not found on the engine"),
                ),
                other => CoreError::Unavailable(other.to_string()),
            });
        }
        tracing::info!(job = %job.job.uuid, by = %actor.username, %image, "script job started");
        self.note_image_used(&image).await;
        Ok(self.observe(job).await?.job)
    }

    /// Create, copy the script in, record the container, start; a failure
    /// removes the container again.
    async fn start_job_container(
        &self,
        job: &ScriptJob,
        spec: &ContainerSpec,
        archive: Vec<u8>,
    ) -> Result<(), RuntimeError> {
        let id = self.runtime.create(spec).await?;
        let started = async {
            self.runtime.put_archive(&id, "/", archive).await?;
            self.store
                .set_job_container(job.job.uuid, &id)
                .await
                .map_err(|e| RuntimeError::Engine(e.to_string()))?;
            self.runtime.start(&id).await
        }
        .await;
        if started.is_err() {
            let _ = self.runtime.remove(&id).await;
        }
        started
    }

    /// Reads the job's container and records what changed.
    async fn observe(&self, job: ScriptJob) -> CoreResult<ObservedJob> {
        let container = match &job.container_id {
            None => None,
            Some(id) => match self.runtime.inspect(id).await {
                Ok(c) => Some(c),
                Err(RuntimeError::NotFound(_)) => None,
                Err(e) => return Err(CoreError::Unavailable(e.to_string())),
            },
        };
        self.settle(job, container).await
    }

    /// Records the state `container` shows (inspected: with its times).
    async fn settle(
        &self,
        mut job: ScriptJob,
        container: Option<ContainerInfo>,
    ) -> CoreResult<ObservedJob> {
        // No container recorded yet: submission is under way (or was cut
        // off, and the restart marked it failed).
        if job.container_id.is_none() {
            return Ok(ObservedJob { job, container });
        }
        let engine = container.as_ref().map(|c| (c.state, c.exit_code));
        let state = observed_state(job.job.state, engine);
        let finished = is_final(state);
        let obs = JobObservation {
            state,
            exit_code: match &container {
                Some(c) if finished => c.exit_code,
                Some(_) => None,
                None => job.job.exit_code,
            },
            node: container
                .as_ref()
                .and_then(|c| c.node.clone())
                .or(job.node.clone()),
            started: container
                .as_ref()
                .and_then(|c| c.started_at)
                .or(job.started),
            finished: if finished {
                container
                    .as_ref()
                    .and_then(|c| c.finished_at)
                    .or(job.job.finished)
                    .or_else(|| Some(now()))
            } else {
                None
            },
        };
        let recorded = JobObservation {
            state: job.job.state,
            exit_code: job.job.exit_code,
            node: job.node.clone(),
            started: job.started,
            finished: job.job.finished,
        };
        if obs != recorded {
            self.store
                .record_job_observation(job.job.uuid, &obs)
                .await?;
            job.job.state = obs.state;
            job.job.exit_code = obs.exit_code;
            job.node = obs.node;
            job.started = obs.started;
            job.job.finished = obs.finished;
        }
        Ok(ObservedJob { job, container })
    }

    /// A job the actor may see, by its id, as the engine shows it now.
    pub async fn script_job(&self, actor: &User, uuid: Uuid) -> CoreResult<ObservedJob> {
        let job = self
            .store
            .get_script_job(uuid)
            .await?
            .filter(|j| Self::may_see(actor, j))
            .ok_or_else(|| job_not_found(&uuid.to_string()))?;
        self.observe(job).await
    }

    /// A job the actor may see, by its container's id (or a prefix of at
    /// least 12 characters, as the engine shows them).
    pub async fn script_job_by_container(
        &self,
        actor: &User,
        container_id: &str,
    ) -> CoreResult<ObservedJob> {
        let id = container_id.trim().to_ascii_lowercase();
        if id.len() < 12 || id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(CoreError::invalid_field(
                "cont_id",
                "must be a container id (12 to 64 hex digits)",
            ));
        }
        let mut found: Vec<ScriptJob> = self
            .store
            .script_jobs_by_container(&id)
            .await?
            .into_iter()
            .filter(|j| Self::may_see(actor, j))
            .collect();
        if found.len() != 1 {
            return Err(CoreError::not_found(format!(
                "container {container_id} not found"
            )));
        }
        self.observe(found.remove(0)).await
    }

    /// The actor's own jobs, oldest first, observed with one engine listing.
    pub async fn script_jobs(&self, actor: &User) -> CoreResult<Vec<ObservedJob>> {
        self.purge_expired_script_jobs().await;
        let jobs = self.store.list_script_jobs(actor.id).await?;
        let containers: HashMap<String, ContainerInfo> = self
            .runtime
            .list(&[(LABEL_JOB, None)])
            .await
            .map_err(|e| CoreError::Unavailable(e.to_string()))?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            let listed = job.container_id.as_ref().and_then(|id| containers.get(id));
            let unchanged = observed_state(job.job.state, listed.map(|c| (c.state, c.exit_code)))
                == job.job.state;
            if unchanged {
                out.push(ObservedJob {
                    container: listed.cloned(),
                    job,
                });
            } else {
                // A listing carries no times: inspect the ones that changed.
                out.push(self.observe(job).await?);
            }
        }
        Ok(out)
    }

    /// stdout and stderr of the job so far, as the engine interleaved them.
    pub async fn script_job_output(&self, actor: &User, container_id: &str) -> CoreResult<String> {
        use futures::StreamExt;
        let observed = self.script_job_by_container(actor, container_id).await?;
        let container = container_of(&observed)?;
        let mut lines = self
            .runtime
            .logs(&container.id, None, false)
            .await
            .map_err(engine_error)?;
        let mut output = String::new();
        while let Some(line) = lines.next().await {
            output.push_str(&line.map_err(engine_error)?.text);
            output.push('\n');
        }
        Ok(output)
    }

    pub async fn stop_script_job(
        &self,
        actor: &User,
        container_id: &str,
    ) -> CoreResult<StopOutcome> {
        let observed = self.script_job_by_container(actor, container_id).await?;
        let Some(container) = &observed.container else {
            return Ok(StopOutcome::Gone);
        };
        if is_final(observed.job.job.state) {
            return Ok(StopOutcome::AlreadyFinished(observed.job.job.state));
        }
        if let Err(e) = self.runtime.stop(&container.id, STOP_TIMEOUT).await {
            return Ok(StopOutcome::Refused(e.to_string()));
        }
        let after = self.runtime.inspect(&container.id).await.ok();
        let obs = JobObservation {
            state: JobState::Cancelled,
            exit_code: after.as_ref().and_then(|c| c.exit_code),
            node: observed.job.node.clone(),
            started: observed.job.started,
            finished: after.and_then(|c| c.finished_at).or_else(|| Some(now())),
        };
        self.store
            .record_job_observation(observed.job.job.uuid, &obs)
            .await?;
        tracing::info!(job = %observed.job.job.uuid, by = %actor.username, "script job stopped");
        Ok(StopOutcome::Stopped)
    }

    /// The container's filesystem changes against its image.
    pub async fn script_job_diff(
        &self,
        actor: &User,
        container_id: &str,
    ) -> CoreResult<Vec<FsChange>> {
        let observed = self.script_job_by_container(actor, container_id).await?;
        let container = container_of(&observed)?;
        self.runtime.diff(&container.id).await.map_err(engine_error)
    }

    /// Samples the resource use of every running script job, so that a job
    /// shows its last known use after it ended even if nobody asked while it
    /// ran. Called periodically by the server.
    pub async fn sample_running_script_jobs(&self) {
        let jobs = match self.store.running_script_jobs().await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "could not list running jobs");
                return;
            }
        };
        for job in jobs {
            let Ok(observed) = self.observe(job).await else {
                continue;
            };
            self.sample_metrics(&observed).await;
        }
    }

    /// One sample of a running job's resource use, recorded; `None` when the
    /// job does not run (or ended between the engine's two samples).
    async fn sample_metrics(&self, observed: &ObservedJob) -> Option<MetricsSample> {
        if observed.job.job.state != JobState::Running {
            return None;
        }
        let container = observed.container.as_ref()?;
        let stats = self.runtime.stats(&container.id).await.ok()?;
        let sample = MetricsSample::new(stats, now());
        if let Err(e) = self
            .store
            .record_job_metrics(observed.job.job.uuid, &sample)
            .await
        {
            tracing::warn!(job = %observed.job.job.uuid, error = %e, "could not record job metrics");
        }
        Some(sample)
    }

    /// Resource use now (two samples) while the job runs; afterwards the
    /// last sample taken, if any was.
    pub async fn script_job_metrics(
        &self,
        actor: &User,
        container_id: &str,
    ) -> CoreResult<ObservedJob> {
        let mut observed = self.script_job_by_container(actor, container_id).await?;
        if let Some(sample) = self.sample_metrics(&observed).await {
            observed.job.metrics = Some(sample);
        }
        Ok(observed)
    }

    /// A file of the job's container as bytes, or a directory as a tar.
    pub async fn download_from_script_job(
        &self,
        actor: &User,
        uuid: Uuid,
        path: Option<&str>,
    ) -> CoreResult<Download> {
        let path = download_path(path)?;
        let observed = self.script_job(actor, uuid).await?;
        let container = container_of(&observed)?;
        let tar = self
            .runtime
            .get_archive(&container.id, &path)
            .await
            .map_err(|e| match e {
                RuntimeError::NotFound(_) => {
                    CoreError::not_found(format!("{path} not found in the job's container"))
                }
                other => CoreError::Unavailable(other.to_string()),
            })?;
        read_download(tar)
    }

    /// Deletes the job and its container.
    pub async fn delete_script_job(&self, actor: &User, uuid: Uuid) -> CoreResult<()> {
        let job = self
            .store
            .get_script_job(uuid)
            .await?
            .filter(|j| Self::may_see(actor, j))
            .ok_or_else(|| job_not_found(&uuid.to_string()))?;
        self.remove_script_job(&job).await;
        tracing::info!(job = %uuid, by = %actor.username, "script job deleted");
        Ok(())
    }

    /// Row first: if removing the container fails, the reconciler removes
    /// it later as a container whose job is gone.
    async fn remove_script_job(&self, job: &ScriptJob) {
        if let Err(e) = self.store.delete_script_job(job.job.uuid).await {
            tracing::warn!(job = %job.job.uuid, error = %e, "could not delete job");
            return;
        }
        if let Some(id) = &job.container_id
            && let Err(e) = self.runtime.remove(id).await
        {
            tracing::warn!(job = %job.job.uuid, error = %e, "could not remove job container; the reconciler will");
        }
    }

    /// Removes jobs that finished longer than the retention period ago.
    pub async fn purge_expired_script_jobs(&self) {
        let Ok(retention) = time::Duration::try_from(self.settings.job_retention) else {
            return;
        };
        let cutoff = now() - retention;
        let candidates = match self.store.script_jobs_created_before(cutoff).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "could not list expired jobs");
                return;
            }
        };
        for job in candidates {
            let Ok(observed) = self.observe(job).await else {
                continue;
            };
            if observed.job.job.finished.is_some_and(|f| f < cutoff) {
                self.remove_script_job(&observed.job).await;
                tracing::info!(job = %observed.job.job.uuid, "expired script job removed");
            }
        }
    }

    /// The images jobs can run in, as (name, tag): what the engine has,
    /// and the enabled versions of the catalog the actor can see.
    pub async fn script_job_images(&self, actor: &User) -> CoreResult<Vec<(String, String)>> {
        let mut references = self
            .runtime
            .list_images()
            .await
            .map_err(|e| CoreError::Unavailable(e.to_string()))?;
        const PAGE: i64 = 100;
        for page in 1.. {
            let query = RepoListQuery {
                page,
                size: PAGE,
                kind: None,
                is_public: None,
                status: Some(CatalogStatus::Enabled),
            };
            let repos = self.list_image_repos(actor, &query).await?;
            for repo in &repos.items {
                let versions = self.store.repo_versions(repo.id).await?;
                references.extend(
                    versions
                        .into_iter()
                        .filter(|v| v.status == CatalogStatus::Enabled)
                        .map(|v| v.image_ref),
                );
            }
            if page * PAGE >= repos.total {
                break;
            }
        }
        let mut images: Vec<(String, String)> = references
            .iter()
            .map(|r| {
                let (name, tag) = split_image_reference(r);
                (name.to_string(), tag.to_string())
            })
            .collect();
        images.sort();
        images.dedup();
        Ok(images)
    }

    // --------------------------------------------------------- data sets

    fn datasets_root(&self) -> PathBuf {
        self.settings.data_dir.join(DATASETS_DIR)
    }

    fn user_datasets_dir(&self, actor: &User) -> CoreResult<PathBuf> {
        // Usernames may be "." or "..", which must not name a directory.
        if actor.username.chars().all(|c| c == '.') {
            return Err(CoreError::invalid("this user name cannot own data sets"));
        }
        Ok(self.datasets_root().join(USERS_DIR).join(&actor.username))
    }

    /// Removes a departed user's own data sets, so that nobody who later
    /// registers the same name finds them.
    pub(crate) fn discard_user_datasets(&self, user: &User) {
        let Ok(dir) = self.user_datasets_dir(user) else {
            return;
        };
        if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            tracing::warn!(user = %user.username, error = %e, "could not remove the user's data sets");
        }
    }

    /// The data sets the actor can use: their own, and the shared ones
    /// their own do not shadow, by name.
    pub async fn datasets(&self, actor: &User) -> CoreResult<Vec<Dataset>> {
        let shared_root = self.datasets_root();
        let own_root = self.user_datasets_dir(actor)?;
        blocking(move || {
            let mut found: BTreeMap<String, bool> = BTreeMap::new();
            for name in dataset_dirs(&shared_root)? {
                found.insert(name, true);
            }
            for name in dataset_dirs(&own_root)? {
                found.insert(name, false);
            }
            Ok(found
                .into_iter()
                .map(|(name, shared)| Dataset { name, shared })
                .collect())
        })
        .await
    }

    /// The host directory of a data set the actor can use (their own
    /// before a shared one of the same name), resolved and confined to the
    /// data sets folder.
    pub async fn dataset_dir(&self, actor: &User, name: &str) -> CoreResult<PathBuf> {
        validate_dataset_name(name).map_err(|_| {
            CoreError::invalid_field("data", format!("{name:?} is not a data set name"))
        })?;
        let root = self.datasets_root();
        let candidates = [self.user_datasets_dir(actor)?.join(name), root.join(name)];
        let name = name.to_string();
        blocking(move || {
            let root = match root.canonicalize() {
                Ok(r) => r,
                Err(_) => return Err(unknown_dataset(&name)),
            };
            for candidate in candidates {
                let Ok(meta) = std::fs::symlink_metadata(&candidate) else {
                    continue;
                };
                if !meta.is_dir() {
                    continue;
                }
                let resolved = candidate
                    .canonicalize()
                    .map_err(|e| CoreError::Internal(format!("data set {name}: {e}")))?;
                if resolved.starts_with(&root) {
                    return Ok(resolved);
                }
            }
            Err(unknown_dataset(&name))
        })
        .await
    }

    /// Stores an upload as the actor's data set `name`; an existing one is a conflict.
    pub async fn add_dataset(
        &self,
        actor: &User,
        name: &str,
        upload: DatasetUpload,
    ) -> CoreResult<DatasetSummary> {
        validate_dataset_name(name)?;
        if !upload.unpack {
            validate_file_name("file", &upload.file_name)?;
        }
        let own_root = self.user_datasets_dir(actor)?;
        let name = name.to_string();
        let summary = blocking(move || {
            let io = |e: std::io::Error| CoreError::Internal(format!("data set storage: {e}"));
            std::fs::create_dir_all(&own_root).map_err(io)?;
            let target = own_root.join(&name);
            if std::fs::symlink_metadata(&target).is_ok() {
                return Err(CoreError::Conflict(format!(
                    "data set {name} already exists"
                )));
            }
            // Built aside and renamed into place, so a data set is never half there.
            let staging = own_root.join(format!(".upload-{}", Uuid::new_v4().simple()));
            std::fs::create_dir(&staging).map_err(io)?;
            let filled = if upload.unpack {
                unpack_dataset(&upload.content, &staging)
            } else {
                std::fs::write(staging.join(&upload.file_name), &upload.content)
                    .map(|()| (1, upload.content.len() as u64))
                    .map_err(io)
            };
            let placed = filled.and_then(|(files, bytes)| {
                std::fs::rename(&staging, &target).map_err(|e| {
                    if target.exists() {
                        CoreError::Conflict(format!("data set {name} already exists"))
                    } else {
                        io(e)
                    }
                })?;
                Ok(DatasetSummary {
                    name: name.clone(),
                    files,
                    bytes,
                })
            });
            if placed.is_err() {
                let _ = std::fs::remove_dir_all(&staging);
            }
            placed
        })
        .await?;
        tracing::info!(dataset = %summary.name, by = %actor.username, files = summary.files, "data set uploaded");
        Ok(summary)
    }

    /// A tar of a data set the actor can use; links in it stay links.
    pub async fn dataset_archive(&self, actor: &User, name: &str) -> CoreResult<Vec<u8>> {
        let dir = self
            .dataset_dir(actor, name)
            .await
            .map_err(|_| CoreError::not_found(format!("data set {name} not found")))?;
        let name = name.to_string();
        blocking(move || {
            let mut builder = tar::Builder::new(Vec::new());
            builder.follow_symlinks(false);
            builder
                .append_dir_all(&name, &dir)
                .and_then(|()| builder.into_inner())
                .map_err(|e| CoreError::Internal(format!("archiving data set {name}: {e}")))
        })
        .await
    }

    /// Deletes one of the actor's own data sets.
    pub async fn remove_dataset(&self, actor: &User, name: &str) -> CoreResult<()> {
        validate_dataset_name(name)
            .map_err(|_| CoreError::not_found(format!("data set {name} not found")))?;
        let dir = self.user_datasets_dir(actor)?.join(name);
        let name = name.to_string();
        blocking(move || match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&dir)
                .map_err(|e| CoreError::Internal(format!("removing data set {name}: {e}"))),
            _ => Err(CoreError::not_found(format!("data set {name} not found"))),
        })
        .await
    }
}

fn container_of(observed: &ObservedJob) -> CoreResult<&ContainerInfo> {
    observed
        .container
        .as_ref()
        .ok_or_else(|| CoreError::not_found("the job's container no longer exists"))
}

fn unknown_dataset(name: &str) -> CoreError {
    CoreError::invalid_field("data", format!("data set {name} not found"))
}

/// Names of the data set folders directly in `dir` (real folders only, not links).
fn dataset_dirs(dir: &Path) -> CoreResult<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CoreError::Internal(format!("reading data sets: {e}"))),
    };
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if let Some(name) = entry.file_name().to_str()
            && is_dir
            && validate_dataset_name(name).is_ok()
        {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_states_map_to_job_states() {
        use EngineState::*;
        assert_eq!(
            observed_state(JobState::Running, Some((Running, None))),
            JobState::Running
        );
        assert_eq!(
            observed_state(JobState::Running, Some((Exited, Some(0)))),
            JobState::Completed
        );
        assert_eq!(
            observed_state(JobState::Running, Some((Exited, Some(3)))),
            JobState::Failed
        );
        // Marked failed by a restart, but the container kept running.
        assert_eq!(
            observed_state(JobState::Failed, Some((Running, None))),
            JobState::Running
        );
        assert_eq!(
            observed_state(JobState::Cancelled, Some((Exited, Some(0)))),
            JobState::Cancelled
        );
        assert_eq!(
            observed_state(JobState::Pending, Some((Created, None))),
            JobState::Pending
        );
        assert_eq!(observed_state(JobState::Running, None), JobState::Failed);
        assert_eq!(
            observed_state(JobState::Completed, None),
            JobState::Completed
        );
    }

    #[test]
    fn download_paths_are_confined() {
        assert_eq!(download_path(None).unwrap(), "/job");
        assert_eq!(download_path(Some("")).unwrap(), "/job");
        assert_eq!(download_path(Some("out/r.txt")).unwrap(), "/job/out/r.txt");
        assert_eq!(
            download_path(Some("./out//r.txt/")).unwrap(),
            "/job/out/r.txt"
        );
        assert_eq!(
            download_path(Some("/etc/hostname")).unwrap(),
            "/etc/hostname"
        );
        assert_eq!(download_path(Some("/")).unwrap(), "/");
        assert!(download_path(Some("../etc/passwd")).is_err());
        assert!(download_path(Some("/job/../../etc")).is_err());
        assert!(download_path(Some("out/..")).is_err());
        assert!(download_path(Some("a\0b")).is_err());
        assert!(download_path(Some(&"a/".repeat(3000))).is_err());
    }

    #[test]
    fn image_references() {
        assert_eq!(image_reference(None, None).unwrap(), "busybox:latest");
        assert_eq!(
            image_reference(Some("local/busybox"), Some("1.36")).unwrap(),
            "local/busybox:1.36"
        );
        assert_eq!(
            image_reference(Some("localhost:5000/tools"), None).unwrap(),
            "localhost:5000/tools:latest"
        );
        assert!(image_reference(Some("busybox:latest"), None).is_err());
        assert!(image_reference(Some("Busybox"), None).is_err());
        assert!(image_reference(Some("a b"), None).is_err());
        assert!(image_reference(Some("/abs"), None).is_err());
        assert!(image_reference(None, Some("-x")).is_err());
        assert!(image_reference(None, Some("a/b")).is_err());
        assert_eq!(
            split_image_reference("busybox:latest"),
            ("busybox", "latest")
        );
        assert_eq!(
            split_image_reference("localhost:5000/tools:1"),
            ("localhost:5000/tools", "1")
        );
        assert_eq!(
            split_image_reference("localhost:5000/tools"),
            ("localhost:5000/tools", "latest")
        );
    }

    #[test]
    fn names() {
        assert!(validate_file_name("f", "run.sh").is_ok());
        for bad in ["", ".", "..", "a/b", "../x", "a\nb", "a\\b", "-c"] {
            assert!(validate_file_name("f", bad).is_err(), "{bad:?}");
        }
        assert!(validate_dataset_name("genomes-2024.v1").is_ok());
        for bad in ["", ".hidden", "-x", "a/b", "..", "users", "a b"] {
            assert!(validate_dataset_name(bad).is_err(), "{bad:?}");
        }
    }

    fn tar_of(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("/etc/passwd").unwrap();
            }
            // set_path refuses '..'; write the raw name to test what a hostile client sends.
            let name = header.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn script_archives_hold_the_job_dir_and_script() {
        let tar = script_archive("run.sh", b"echo hi\n").unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["job/", "job/run.sh"]);
    }

    #[test]
    fn downloads_read_the_first_entry() {
        let file = tar_of(&[("r.txt", tar::EntryType::Regular, b"result\n")]);
        assert_eq!(
            read_download(file).unwrap(),
            Download::File {
                name: "r.txt".into(),
                bytes: b"result\n".to_vec()
            }
        );
        let dir = tar_of(&[
            ("out/", tar::EntryType::Directory, b""),
            ("out/r.txt", tar::EntryType::Regular, b"x"),
        ]);
        assert!(
            matches!(read_download(dir), Ok(Download::Directory { name, .. }) if name == "out")
        );
        let link = tar_of(&[("link", tar::EntryType::Symlink, b"")]);
        assert!(matches!(read_download(link), Err(CoreError::Forbidden(_))));
    }

    #[test]
    fn data_set_archives_unpack_safely() {
        let dir = tempfile::tempdir().unwrap();
        let good = tar_of(&[
            ("a/", tar::EntryType::Directory, b""),
            ("a/b.txt", tar::EntryType::Regular, b"hello"),
            ("./c.txt", tar::EntryType::Regular, b"!"),
        ]);
        assert_eq!(unpack_dataset(&good, dir.path()).unwrap(), (2, 6));
        assert_eq!(std::fs::read(dir.path().join("a/b.txt")).unwrap(), b"hello");
        for hostile in [
            tar_of(&[("../evil", tar::EntryType::Regular, b"x")]),
            tar_of(&[("/etc/evil", tar::EntryType::Regular, b"x")]),
            tar_of(&[("a/../../evil", tar::EntryType::Regular, b"x")]),
            tar_of(&[("link", tar::EntryType::Symlink, b"")]),
            tar_of(&[("dev", tar::EntryType::Char, b"")]),
        ] {
            let dest = tempfile::tempdir().unwrap();
            assert!(unpack_dataset(&hostile, dest.path()).is_err());
        }
        assert!(!dir.path().parent().unwrap().join("evil").exists());
        let dest = tempfile::tempdir().unwrap();
        assert!(unpack_dataset(b"definitely not a tar archive at all", dest.path()).is_err());
    }
}
