//! The Docker Swarm driver: every instance (each [`Runtime::create`]) is one
//! swarm service of at most one replica, its current task standing for the
//! container. The engine at `DOCKER_HOST` is a swarm manager; images, the
//! owners' networks (attachable overlays here) and work on the manager's own
//! tasks go through the Docker driver on the same connection.
//!
//! What a task on another node cannot do (exec, files, stats: the manager's
//! API does not reach into other nodes' containers) is refused with
//! [`RuntimeError::Unsupported`].

mod events;
mod nodes;
mod services;
mod tasks;

use std::time::Duration;

use async_trait::async_trait;
use berth_core::runtime::{
    ArchiveChunks, BuildOptions, ContainerInfo, ContainerSpec, ContainerStats, EngineEvent,
    ExecOutput, FsChange, LogLine, NodeInfo, PathStat, Runtime, RuntimeError,
};
use bollard::Docker;
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::docker::{DockerRuntime, EnginePolicy, engine, logs};

pub struct SwarmRuntime {
    docker: Docker,
    server: String,
    /// The manager's own engine, as the Docker driver drives it.
    local: DockerRuntime,
    /// The manager's node id, once asked.
    manager: std::sync::Mutex<Option<String>>,
    /// Node ids to what the driver knows of them, refreshed when a task
    /// names an unknown node.
    nodes: std::sync::Mutex<nodes::Known>,
}

impl SwarmRuntime {
    /// Connects to the swarm manager at `DOCKER_HOST`. Every service this
    /// driver creates, lists or watches carries `berth.server=<server>`.
    pub fn connect(server: &str) -> Result<Self, RuntimeError> {
        let local = DockerRuntime::connect(server)?.with_overlay_networks();
        Ok(SwarmRuntime {
            docker: local.docker.clone(),
            server: server.to_string(),
            local,
            manager: std::sync::Mutex::default(),
            nodes: std::sync::Mutex::default(),
        })
    }

    /// The same driver, giving every task `policy`.
    pub fn with_policy(self, policy: EnginePolicy) -> Self {
        SwarmRuntime {
            local: self.local.with_policy(policy),
            ..self
        }
    }

    /// The manager's node id (the node whose containers the local engine sees).
    async fn manager_node(&self) -> Result<String, RuntimeError> {
        if let Some(id) = self
            .manager
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(id);
        }
        let info = self.docker.info().await.map_err(engine)?;
        let id = info
            .swarm
            .and_then(|s| s.node_id)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| RuntimeError::Engine("the engine is not part of a swarm".to_string()))?;
        *self.manager.lock().unwrap_or_else(|e| e.into_inner()) = Some(id.clone());
        Ok(id)
    }

    /// The container of the service's current task when it runs on the
    /// manager, whose engine can reach into it; `Unsupported` when it runs
    /// on another node.
    async fn local_container(&self, service: &str, what: &str) -> Result<String, RuntimeError> {
        let task = tasks::current(self, service)
            .await?
            .ok_or_else(|| RuntimeError::Conflict(format!("{service} has no task yet")))?;
        let manager = self.manager_node().await?;
        match (task.node_id.as_deref(), task.container_id.as_deref()) {
            (Some(node), Some(container)) if node == manager => Ok(container.to_string()),
            (Some(node), _) if node != manager => {
                let name = nodes::node_name(self, node).await;
                Err(RuntimeError::Unsupported(format!(
                    "{what} is not possible on swarm node {name}: only the manager's own tasks are reachable"
                )))
            }
            _ => Err(RuntimeError::Conflict(format!(
                "{service} has no container yet"
            ))),
        }
    }
}

#[async_trait]
impl Runtime for SwarmRuntime {
    async fn ping(&self) -> Result<String, RuntimeError> {
        let v = self.docker.version().await.map_err(engine)?;
        let manager = self.manager_node().await?;
        Ok(format!(
            "docker swarm {} (manager {manager})",
            v.version.unwrap_or_default()
        ))
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, RuntimeError> {
        services::create(self, spec).await
    }

    async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        services::start(self, id).await
    }

    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        services::stop(self, id, timeout).await
    }

    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        services::remove(self, id).await
    }

    async fn inspect(&self, id: &str) -> Result<ContainerInfo, RuntimeError> {
        tasks::inspect(self, id).await
    }

    async fn list(
        &self,
        labels: &[(&str, Option<&str>)],
    ) -> Result<Vec<ContainerInfo>, RuntimeError> {
        tasks::list(self, labels).await
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
        // The manager gathers the log of a task on any node.
        let frames = self
            .docker
            .service_logs(id, Some(logs::options(tail, follow)));
        Ok(logs::lines(frames, id)
            .map(|line| line.map_err(missing_service))
            .boxed())
    }

    async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, RuntimeError> {
        let container = self.local_container(id, "exec").await?;
        self.local.exec(&container, argv, timeout).await
    }

    async fn wait(&self, id: &str) -> Result<i64, RuntimeError> {
        services::wait(self, id).await
    }

    async fn image_exists(&self, image: &str) -> Result<bool, RuntimeError> {
        self.local.image_exists(image).await
    }

    async fn pull(&self, image: &str, timeout: Duration) -> Result<(), RuntimeError> {
        self.local.pull(image, timeout).await
    }

    async fn list_images(&self) -> Result<Vec<String>, RuntimeError> {
        self.local.list_images().await
    }

    async fn put_archive(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<(), RuntimeError> {
        let container = self.local_container(id, "copying files in").await?;
        self.local.put_archive(&container, dir, tar).await
    }

    async fn get_archive(&self, id: &str, path: &str) -> Result<Vec<u8>, RuntimeError> {
        let container = self.local_container(id, "reading files").await?;
        self.local.get_archive(&container, path).await
    }

    async fn archive_stream(&self, id: &str, path: &str) -> Result<ArchiveChunks, RuntimeError> {
        let container = self.local_container(id, "reading files").await?;
        self.local.archive_stream(&container, path).await
    }

    async fn stat_path(&self, id: &str, path: &str) -> Result<PathStat, RuntimeError> {
        let container = self.local_container(id, "reading files").await?;
        self.local.stat_path(&container, path).await
    }

    async fn diff(&self, id: &str) -> Result<Vec<FsChange>, RuntimeError> {
        let container = self.local_container(id, "listing changed files").await?;
        self.local.diff(&container).await
    }

    async fn stats(&self, id: &str) -> Result<ContainerStats, RuntimeError> {
        let container = self.local_container(id, "reading resource use").await?;
        self.local.stats(&container).await
    }

    /// Builds on the manager: its tasks find the image there; other nodes
    /// need it from a registry (or loaded by hand), as for any image.
    async fn build_image(
        &self,
        context_tar: Vec<u8>,
        options: BuildOptions,
        log: tokio::sync::mpsc::Sender<String>,
    ) -> Result<String, RuntimeError> {
        self.local.build_image(context_tar, options, log).await
    }

    async fn nodes(&self) -> Result<Vec<NodeInfo>, RuntimeError> {
        nodes::list(self).await
    }
}

/// A service the manager does not know is a missing container to core.
fn missing_service(e: RuntimeError) -> RuntimeError {
    match e {
        RuntimeError::Engine(m) if m.contains("not found") => RuntimeError::NotFound(m),
        other => other,
    }
}
