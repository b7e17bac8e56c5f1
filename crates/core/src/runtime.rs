//! The container engine as Berth needs it. Drivers (docker, swarm) implement
//! [`Runtime`]; core only ever talks to this trait.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use thiserror::Error;

// A mount is part of a release's run policy, so it lives in the model.
pub use crate::model::BindMount;
use crate::model::{PortSpec, PublishedPort, Timestamp};

pub const LABEL_APP: &str = "berth.app";
pub const LABEL_INSTANCE: &str = "berth.instance";
pub const LABEL_RELEASE: &str = "berth.release";
pub const LABEL_PROC: &str = "berth.proc";
pub const LABEL_NUM: &str = "berth.num";
pub const LABEL_JOB: &str = "berth.job";

/// Every `berth.*` label core reads. A container gets each of them, empty
/// when unused, so that labels an image carries never show through.
pub const BERTH_LABELS: [&str; 6] = [
    LABEL_APP,
    LABEL_INSTANCE,
    LABEL_RELEASE,
    LABEL_PROC,
    LABEL_NUM,
    LABEL_JOB,
];

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RuntimeError {
    #[error("no such container: {0}")]
    NotFound(String),
    #[error("image {0} not found")]
    ImageNotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("engine: {0}")]
    Engine(String),
    #[error("too large: {0}")]
    TooLarge(String),
    /// The driver cannot do this for this container at all (a swarm task
    /// on a node the manager does not reach into); trying again will not help.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// An engine failure as a use case reports it: what is missing is missing,
/// anything else means the engine is unavailable.
impl From<RuntimeError> for crate::CoreError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::NotFound(what) => {
                crate::CoreError::not_found(format!("{what} not found"))
            }
            // A limit the request ran into, not an outage.
            RuntimeError::TooLarge(what) => crate::CoreError::invalid(what),
            RuntimeError::Unsupported(what) => crate::CoreError::Conflict(what),
            other => crate::CoreError::unavailable(other),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// Overrides the image's CMD.
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub labels: BTreeMap<String, String>,
    pub memory_bytes: Option<i64>,
    pub cpu_shares: Option<i64>,
    /// A hard CPU limit in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    /// The most processes (and threads) the container may have at once.
    pub pids_limit: Option<i64>,
    /// The user whose private network the container joins, so that
    /// different owners' containers cannot reach each other.
    pub owner: Option<i64>,
    pub working_dir: Option<String>,
    /// Ports to publish on engine-chosen host ports.
    pub ports: Vec<PortSpec>,
    /// Host directories Berth manages (data sets, Tapis volumes and
    /// snapshots, pod config files), never arbitrary host paths.
    pub mounts: Vec<BindMount>,
    /// Node labels the container must run on (an app's Deis tags). An
    /// engine of one machine has no nodes to choose and ignores them.
    pub placement: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub state: EngineState,
    pub exit_code: Option<i64>,
    /// The engine's own error for the container, if any.
    pub error: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub node: Option<String>,
    pub ports: Vec<PublishedPort>,
    /// Where the router reaches the container, when it can: its IP on its
    /// network, or the `ip:port` endpoint an engine published the app's
    /// port (the spec's `PORT`) on, for an engine whose container addresses
    /// are not reachable from Berth.
    pub address: Option<String>,
}

impl ContainerInfo {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}

/// A container lifecycle event carrying Berth labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineEvent {
    pub container_id: String,
    pub action: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: LogStream,
    pub text: String,
    pub timestamp: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// The most bytes of an archive [`Runtime::get_archive`] holds in memory.
pub const HELD_ARCHIVE_BYTES: usize = 256 << 20;

/// What an archived entry is, as far as a download cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Directory,
    /// A symbolic or hard link: its target is not what was asked for.
    Link,
    /// A device, a pipe or anything else that holds no bytes to hand out.
    Other,
}

/// An archive as it streams from the engine.
pub type ArchiveChunks = BoxStream<'static, Result<Vec<u8>, RuntimeError>>;

/// What a path in a container is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathStat {
    pub kind: EntryKind,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The tail of each stream, as [`crate::output_tail::OutputTail`] keeps it.
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i64,
}

/// The output of a container that ran to completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    pub exit_code: i64,
    /// stdout and stderr as the engine interleaved them, the tail only
    /// (see [`crate::output_tail`]).
    pub output: String,
}

/// One filesystem change of a container against its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsChange {
    pub path: String,
    pub kind: FsChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsChangeKind {
    Added,
    Changed,
    Deleted,
}

/// Resource use of a container over the interval between two samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerStats {
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
}

#[async_trait]
pub trait Runtime: Send + Sync {
    /// Engine name and version, or why it does not answer.
    async fn ping(&self) -> Result<String, RuntimeError>;
    async fn create(&self, spec: &ContainerSpec) -> Result<String, RuntimeError>;
    async fn start(&self, id: &str) -> Result<(), RuntimeError>;
    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError>;
    /// Force-removes a container; an already absent one is not an error.
    async fn remove(&self, id: &str) -> Result<(), RuntimeError>;
    async fn inspect(&self, id: &str) -> Result<ContainerInfo, RuntimeError>;
    /// The directory the container's process starts in (its image's
    /// `WorkingDir`, or the one its spec set); `None` when that is `/`.
    async fn working_dir(&self, id: &str) -> Result<Option<String>, RuntimeError> {
        let _ = id;
        Ok(None)
    }
    /// Containers (running or not) that carry every given label; a `None`
    /// value matches any non-empty value of that label.
    async fn list(
        &self,
        labels: &[(&str, Option<&str>)],
    ) -> Result<Vec<ContainerInfo>, RuntimeError>;
    /// Container events for Berth-labelled containers, until the engine goes away.
    async fn events(
        &self,
    ) -> Result<BoxStream<'static, Result<EngineEvent, RuntimeError>>, RuntimeError>;
    /// Log lines, the last `tail` of them (all when `None`), then new ones if `follow`.
    async fn logs(
        &self,
        id: &str,
        tail: Option<usize>,
        follow: bool,
    ) -> Result<BoxStream<'static, Result<LogLine, RuntimeError>>, RuntimeError>;
    async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, RuntimeError>;
    /// Waits for a started container to exit and returns its exit code.
    async fn wait(&self, id: &str) -> Result<i64, RuntimeError>;
    async fn image_exists(&self, image: &str) -> Result<bool, RuntimeError>;
    /// Tries to pull an image; with no registry in reach this fails fast.
    async fn pull(&self, image: &str, timeout: Duration) -> Result<(), RuntimeError>;
    /// Every `repo:tag` the engine has.
    async fn list_images(&self) -> Result<Vec<String>, RuntimeError>;
    /// Unpacks a tar archive into directory `dir` of the container.
    async fn put_archive(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<(), RuntimeError>;
    /// A tar archive of `path` in the container (a file, or a directory and
    /// everything under it), held whole; `NotFound` if the path does not
    /// exist, `TooLarge` past [`HELD_ARCHIVE_BYTES`].
    async fn get_archive(&self, id: &str, path: &str) -> Result<Vec<u8>, RuntimeError>;
    /// The same archive in chunks as the engine sends it, for readers that
    /// never hold it whole; `NotFound` (before any chunk) if the path does
    /// not exist.
    async fn archive_stream(&self, id: &str, path: &str) -> Result<ArchiveChunks, RuntimeError>;
    /// What `path` is in the container, its last part not followed if it
    /// is a link; `NotFound` if it does not exist. Reads no contents.
    async fn stat_path(&self, id: &str, path: &str) -> Result<PathStat, RuntimeError>;
    /// The container's filesystem changes against its image.
    async fn diff(&self, id: &str) -> Result<Vec<FsChange>, RuntimeError>;
    /// Resource use from two samples a moment apart (running containers only).
    async fn stats(&self, id: &str) -> Result<ContainerStats, RuntimeError>;
    /// Builds an image from a tar build context with the classic builder,
    /// sending the engine's output to `log` as it comes; returns the image id.
    async fn build_image(
        &self,
        context_tar: Vec<u8>,
        options: BuildOptions,
        log: tokio::sync::mpsc::Sender<String>,
    ) -> Result<String, RuntimeError>;
    /// The machines workloads run on. An engine of one machine is one
    /// ready node, `local`, running this server's running containers.
    async fn nodes(&self) -> Result<Vec<NodeInfo>, RuntimeError> {
        Ok(vec![NodeInfo::local(self, "local").await?])
    }
}

/// One machine of the engine, as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    /// Whether the engine reaches it and may run work on it.
    pub ready: bool,
    /// Whether new work may be placed on it: `active`, `pause` or `drain`.
    pub availability: String,
    /// Labels placement matches (Deis tags).
    pub labels: BTreeMap<String, String>,
    pub address: Option<String>,
    /// `manager` or `worker`.
    pub role: String,
    /// This server's running containers on it.
    pub tasks: usize,
}

impl NodeInfo {
    /// A single engine's machine `name`: ready, active, the manager of
    /// itself, running `runtime`'s running containers.
    pub async fn local<R: Runtime + ?Sized>(runtime: &R, name: &str) -> Result<Self, RuntimeError> {
        let tasks = runtime
            .list(&[(LABEL_APP, None)])
            .await?
            .iter()
            .filter(|c| c.state == EngineState::Running)
            .count();
        Ok(NodeInfo {
            name: name.to_string(),
            ready: true,
            availability: "active".into(),
            labels: BTreeMap::new(),
            address: None,
            role: "manager".into(),
            tasks,
        })
    }
}

/// How to build an image from a tar build context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildOptions {
    /// The `name:tag` the image gets.
    pub tag: String,
    /// The Dockerfile's path inside the context.
    pub dockerfile: String,
    /// The stage to build, for multi-stage Dockerfiles.
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    /// Build every step again instead of using the cache.
    pub no_cache: bool,
    /// Memory limit of each build step's container.
    pub memory_bytes: Option<i64>,
    /// CPU time each build step's container may use, in CPUs (1.0 is one).
    pub cpus: Option<f64>,
    /// Whether build steps run with no network at all.
    pub no_network: bool,
    /// CPU share of each build step's container.
    pub cpu_shares: Option<i64>,
    pub labels: BTreeMap<String, String>,
}
