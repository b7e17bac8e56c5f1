//! The Docker Engine driver: the connection, the label that scopes it to one
//! Berth installation, how engine errors map onto [`RuntimeError`], and the
//! [`Runtime`] implementation, which hands each call to the module for its
//! concept (container life, container info, exec, logs, events, files,
//! stats, images, owners' networks); and the [`EnginePolicy`] every
//! container it creates gets.

pub(crate) mod containers;
mod events;
mod exec;
mod files;
mod images;
pub(crate) mod info;
pub(crate) mod logs;
mod networks;
mod stats;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use berth_core::model::Timestamp;
use berth_core::runtime::{
    ArchiveChunks, BuildOptions, ContainerInfo, ContainerSpec, ContainerStats, EngineEvent,
    ExecOutput, FsChange, LogLine, NodeInfo, PathStat, Runtime, RuntimeError,
};
use berth_core::spec::ContainerLimits;
use bollard::Docker;
use bollard::errors::Error as BollardError;
use futures::stream::BoxStream;
use time::format_description::well_known::Rfc3339;

/// The label that ties a container to one Berth installation, so that
/// several installations (or test servers) can share an engine and never
/// take each other's containers for orphans.
pub const LABEL_SERVER: &str = "berth.server";

pub struct DockerRuntime {
    pub(crate) docker: Docker,
    node: String,
    pub(crate) server: String,
    pub(crate) policy: EnginePolicy,
    /// `bridge` on a lone engine; `overlay` (attachable) when the engine is
    /// a swarm manager whose services the owners' networks span.
    network_driver: &'static str,
    network_lock: tokio::sync::Mutex<()>,
    /// Each owner's network once it is known to exist, so creating a
    /// container costs no network round trip and takes no lock.
    owner_networks: std::sync::Mutex<HashMap<i64, String>>,
}

/// What every container this driver creates gets, whatever its spec says:
/// the server's resource limits, a capped log, no privilege escalation,
/// no raw sockets or device nodes, and ports published on one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnginePolicy {
    pub limits: ContainerLimits,
    /// The json-file log's size before it rotates, like `10m`.
    pub log_max_size: String,
    /// How many rotated log files are kept.
    pub log_max_file: u32,
    /// The host address published ports bind to.
    pub publish_address: String,
}

impl Default for EnginePolicy {
    fn default() -> Self {
        EnginePolicy {
            limits: ContainerLimits::default(),
            log_max_size: "10m".into(),
            log_max_file: 3,
            publish_address: "127.0.0.1".into(),
        }
    }
}

impl DockerRuntime {
    /// Connects to `DOCKER_HOST`, or the default local socket. Every
    /// container this driver creates, lists or watches carries
    /// `berth.server=<server>`.
    pub fn connect(server: &str) -> Result<Self, RuntimeError> {
        let docker = Docker::connect_with_defaults().map_err(engine)?;
        let node = std::fs::read_to_string("/etc/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "local".into());
        Ok(DockerRuntime {
            docker,
            node,
            server: server.to_string(),
            policy: EnginePolicy::default(),
            network_driver: "bridge",
            network_lock: tokio::sync::Mutex::new(()),
            owner_networks: std::sync::Mutex::default(),
        })
    }

    /// The same driver, giving every container `policy`.
    pub fn with_policy(self, policy: EnginePolicy) -> Self {
        DockerRuntime { policy, ..self }
    }

    /// The same driver, making the owners' networks attachable overlays
    /// that span every node of the swarm the engine manages.
    pub(crate) fn with_overlay_networks(self) -> Self {
        DockerRuntime {
            network_driver: "overlay",
            ..self
        }
    }

    /// The private network of `owner`, created on first use.
    pub(crate) async fn owner_network(&self, owner: i64) -> Result<String, RuntimeError> {
        networks::ensure(self, owner).await
    }

    pub(crate) fn scoped_filters(
        &self,
        labels: &[(&str, Option<&str>)],
    ) -> HashMap<String, Vec<String>> {
        let mut all = labels.to_vec();
        all.push((LABEL_SERVER, Some(self.server.as_str())));
        label_filters(&all)
    }
}

pub(crate) fn label_filters(labels: &[(&str, Option<&str>)]) -> HashMap<String, Vec<String>> {
    let values = labels
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.to_string(),
        })
        .collect();
    HashMap::from([("label".to_string(), values)])
}

pub(crate) fn engine(e: BollardError) -> RuntimeError {
    RuntimeError::Engine(e.to_string())
}

/// Maps the engine's status codes onto the errors core distinguishes.
pub(crate) fn classify(e: BollardError, what: &str) -> RuntimeError {
    match &e {
        BollardError::DockerResponseServerError {
            status_code: 404,
            message,
        } => {
            if message.contains("image") {
                RuntimeError::ImageNotFound(what.to_string())
            } else {
                RuntimeError::NotFound(format!("{what} ({message})"))
            }
        }
        BollardError::DockerResponseServerError {
            status_code: 409,
            message,
        } => RuntimeError::Conflict(message.clone()),
        _ => engine(e),
    }
}

/// Whether the engine answered with this HTTP status.
pub(crate) fn has_status(e: &BollardError, status: u16) -> bool {
    matches!(e, BollardError::DockerResponseServerError { status_code, .. } if *status_code == status)
}

pub(crate) fn parse_time(s: Option<&str>) -> Option<Timestamp> {
    s.and_then(|s| Timestamp::parse(s, &Rfc3339).ok())
        .filter(|t| t.year() > 1)
}

#[async_trait]
impl Runtime for DockerRuntime {
    async fn ping(&self) -> Result<String, RuntimeError> {
        let v = self.docker.version().await.map_err(engine)?;
        Ok(format!("docker {}", v.version.unwrap_or_default()))
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, RuntimeError> {
        containers::create(self, spec).await
    }

    async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        containers::start(self, id).await
    }

    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        containers::stop(self, id, timeout).await
    }

    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        containers::remove(self, id).await
    }

    async fn inspect(&self, id: &str) -> Result<ContainerInfo, RuntimeError> {
        info::inspect(self, id).await
    }

    async fn working_dir(&self, id: &str) -> Result<Option<String>, RuntimeError> {
        info::working_dir(self, id).await
    }

    async fn list(
        &self,
        labels: &[(&str, Option<&str>)],
    ) -> Result<Vec<ContainerInfo>, RuntimeError> {
        info::list(self, labels).await
    }

    async fn events(
        &self,
    ) -> Result<BoxStream<'static, Result<EngineEvent, RuntimeError>>, RuntimeError> {
        Ok(events::watch(self))
    }

    async fn logs(
        &self,
        id: &str,
        tail: Option<usize>,
        follow: bool,
    ) -> Result<BoxStream<'static, Result<LogLine, RuntimeError>>, RuntimeError> {
        Ok(logs::read(self, id, tail, follow))
    }

    async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, RuntimeError> {
        exec::run(self, id, argv, timeout).await
    }

    async fn wait(&self, id: &str) -> Result<i64, RuntimeError> {
        containers::wait(self, id).await
    }

    async fn image_exists(&self, image: &str) -> Result<bool, RuntimeError> {
        images::exists(self, image).await
    }

    async fn pull(&self, image: &str, timeout: Duration) -> Result<(), RuntimeError> {
        images::pull(self, image, timeout).await
    }

    async fn list_images(&self) -> Result<Vec<String>, RuntimeError> {
        images::list(self).await
    }

    async fn put_archive(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<(), RuntimeError> {
        files::put_archive(self, id, dir, tar).await
    }

    async fn get_archive(&self, id: &str, path: &str) -> Result<Vec<u8>, RuntimeError> {
        files::get_archive(self, id, path).await
    }

    async fn archive_stream(&self, id: &str, path: &str) -> Result<ArchiveChunks, RuntimeError> {
        files::archive_stream(self, id, path).await
    }

    async fn stat_path(&self, id: &str, path: &str) -> Result<PathStat, RuntimeError> {
        files::stat_path(self, id, path).await
    }

    async fn diff(&self, id: &str) -> Result<Vec<FsChange>, RuntimeError> {
        files::diff(self, id).await
    }

    async fn stats(&self, id: &str) -> Result<ContainerStats, RuntimeError> {
        stats::sample(self, id).await
    }

    async fn build_image(
        &self,
        context_tar: Vec<u8>,
        options: BuildOptions,
        log: tokio::sync::mpsc::Sender<String>,
    ) -> Result<String, RuntimeError> {
        images::build(self, context_tar, options, log).await
    }

    /// One node: this engine's machine, by its hostname.
    async fn nodes(&self) -> Result<Vec<NodeInfo>, RuntimeError> {
        let info = self.docker.info().await.map_err(engine)?;
        let name = info.name.unwrap_or_else(|| "local".into());
        Ok(vec![NodeInfo::local(self, &name).await?])
    }
}
