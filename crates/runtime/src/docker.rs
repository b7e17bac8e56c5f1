//! The Docker Engine driver.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use berth_core::model::PublishedPort;
use berth_core::model::Timestamp;
use berth_core::runtime::*;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, ContainerStateStatusEnum, ContainerSummaryStateEnum, ExecConfig,
    HostConfig, Mount, MountType, PortBinding, PortSummary, PortSummaryTypeEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, EventsOptions, InspectContainerOptions,
    ListContainersOptions, LogsOptions, RemoveContainerOptions, StopContainerOptions,
    WaitContainerOptions,
};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use time::format_description::well_known::Rfc3339;

/// The label that ties a container to one Berth installation, so that
/// several installations (or test servers) can share an engine and never
/// take each other's containers for orphans.
pub const LABEL_SERVER: &str = "berth.server";

pub struct DockerRuntime {
    docker: Docker,
    node: String,
    server: String,
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
        })
    }

    fn scoped_filters(&self, labels: &[(&str, Option<&str>)]) -> HashMap<String, Vec<String>> {
        let mut all = labels.to_vec();
        all.push((LABEL_SERVER, Some(self.server.as_str())));
        label_filters(&all)
    }
}

fn engine(e: BollardError) -> RuntimeError {
    RuntimeError::Engine(e.to_string())
}

/// Maps the engine's status codes onto the errors core distinguishes.
fn classify(e: BollardError, what: &str) -> RuntimeError {
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

fn parse_time(s: Option<&str>) -> Option<Timestamp> {
    s.and_then(|s| Timestamp::parse(s, &Rfc3339).ok())
        .filter(|t| t.year() > 1)
}

/// "Exited (137) 2 minutes ago" → 137: the list endpoint has no exit code field.
fn exit_code_from_status(status: &str) -> Option<i64> {
    let rest = status.strip_prefix("Exited (")?;
    rest.split(')').next()?.parse().ok()
}

/// Published ports from a container listing, one per (port, protocol):
/// the engine lists IPv4 and IPv6 bindings separately.
fn published_ports(ports: &[PortSummary]) -> Vec<PublishedPort> {
    let mut out: Vec<PublishedPort> = Vec::new();
    for p in ports {
        let protocol = match p.typ {
            Some(PortSummaryTypeEnum::UDP) => "udp",
            Some(PortSummaryTypeEnum::SCTP) => "sctp",
            _ => "tcp",
        };
        match out
            .iter_mut()
            .find(|o| o.inner == p.private_port && o.protocol == protocol)
        {
            Some(existing) => existing.outer = existing.outer.or(p.public_port),
            None => out.push(PublishedPort {
                inner: p.private_port,
                outer: p.public_port,
                protocol: protocol.to_string(),
            }),
        }
    }
    out.sort_by(|a, b| (a.inner, &a.protocol).cmp(&(b.inner, &b.protocol)));
    out
}

fn label_filters(labels: &[(&str, Option<&str>)]) -> HashMap<String, Vec<String>> {
    let values = labels
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.to_string(),
        })
        .collect();
    HashMap::from([("label".to_string(), values)])
}

#[async_trait]
impl Runtime for DockerRuntime {
    async fn ping(&self) -> Result<String, RuntimeError> {
        let v = self.docker.version().await.map_err(engine)?;
        Ok(format!("docker {}", v.version.unwrap_or_default()))
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, RuntimeError> {
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.cmd.clone(),
            entrypoint: spec.entrypoint.clone(),
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(
                spec.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .chain([(LABEL_SERVER.to_string(), self.server.clone())])
                    .collect(),
            ),
            working_dir: spec.working_dir.clone(),
            exposed_ports: (!spec.ports.is_empty()).then(|| {
                spec.ports
                    .iter()
                    .map(|p| format!("{}/{}", p.inner, p.protocol))
                    .collect()
            }),
            host_config: Some(HostConfig {
                // PID 1 sh/sleep ignore SIGTERM; an init makes stops prompt.
                init: Some(true),
                memory: spec.memory_bytes,
                cpu_shares: spec.cpu_shares,
                nano_cpus: spec.nano_cpus,
                // Berth restarts crashed instances itself, with backoff.
                restart_policy: None,
                // An empty host port lets the engine choose a free one.
                port_bindings: (!spec.ports.is_empty()).then(|| {
                    spec.ports
                        .iter()
                        .map(|p| {
                            let binding = PortBinding {
                                host_ip: None,
                                host_port: Some(String::new()),
                            };
                            (format!("{}/{}", p.inner, p.protocol), Some(vec![binding]))
                        })
                        .collect()
                }),
                mounts: (!spec.mounts.is_empty()).then(|| {
                    spec.mounts
                        .iter()
                        .map(|m| Mount {
                            source: Some(m.source.clone()),
                            target: Some(m.target.clone()),
                            typ: Some(MountType::BIND),
                            read_only: Some(m.read_only),
                            ..Mount::default()
                        })
                        .collect()
                }),
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptions {
            name: Some(spec.name.clone()),
            ..CreateContainerOptions::default()
        };
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| classify(e, &spec.image))?;
        Ok(created.id)
    }

    async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| classify(e, id))
    }

    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        let options = StopContainerOptions {
            t: Some(timeout.as_secs() as i32),
            ..StopContainerOptions::default()
        };
        match self.docker.stop_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            // 304: already stopped.
            Err(BollardError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(classify(e, id)),
        }
    }

    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..RemoveContainerOptions::default()
        };
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            // Already being removed: as good as gone.
            Err(BollardError::DockerResponseServerError {
                status_code: 409,
                message,
            }) if message.contains("already in progress") => Ok(()),
            Err(e) => Err(classify(e, id)),
        }
    }

    async fn inspect(&self, id: &str) -> Result<ContainerInfo, RuntimeError> {
        let c = self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
            .map_err(|e| classify(e, id))?;
        let state = c.state.unwrap_or_default();
        let ports = c
            .network_settings
            .and_then(|n| n.ports)
            .map(|map| {
                let summaries: Vec<PortSummary> = map
                    .into_iter()
                    .filter_map(|(key, bindings)| {
                        let (port, proto) = key.split_once('/')?;
                        let public_port = bindings
                            .unwrap_or_default()
                            .into_iter()
                            .find_map(|b| b.host_port.and_then(|p| p.parse().ok()));
                        Some(PortSummary {
                            private_port: port.parse().ok()?,
                            public_port,
                            typ: Some(if proto == "udp" {
                                PortSummaryTypeEnum::UDP
                            } else {
                                PortSummaryTypeEnum::TCP
                            }),
                            ..PortSummary::default()
                        })
                    })
                    .collect();
                published_ports(&summaries)
            })
            .unwrap_or_default();
        Ok(ContainerInfo {
            id: c.id.unwrap_or_default(),
            name: c
                .name
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            labels: c
                .config
                .and_then(|cfg| cfg.labels)
                .unwrap_or_default()
                .into_iter()
                .collect(),
            state: match state.status {
                Some(ContainerStateStatusEnum::RUNNING) => EngineState::Running,
                Some(ContainerStateStatusEnum::PAUSED) => EngineState::Paused,
                Some(ContainerStateStatusEnum::RESTARTING) => EngineState::Restarting,
                Some(ContainerStateStatusEnum::REMOVING) => EngineState::Removing,
                Some(ContainerStateStatusEnum::EXITED) => EngineState::Exited,
                Some(ContainerStateStatusEnum::DEAD) => EngineState::Dead,
                _ => EngineState::Created,
            },
            exit_code: state.exit_code,
            error: state.error.filter(|e| !e.is_empty()),
            started_at: parse_time(state.started_at.as_deref()),
            finished_at: parse_time(state.finished_at.as_deref()),
            node: Some(self.node.clone()),
            ports,
        })
    }

    async fn list(
        &self,
        labels: &[(&str, Option<&str>)],
    ) -> Result<Vec<ContainerInfo>, RuntimeError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(self.scoped_filters(labels)),
            ..ListContainersOptions::default()
        };
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(engine)?;
        Ok(list
            .into_iter()
            .map(|c| {
                let status = c.status.unwrap_or_default();
                let state = match c.state {
                    Some(ContainerSummaryStateEnum::RUNNING) => EngineState::Running,
                    Some(ContainerSummaryStateEnum::PAUSED) => EngineState::Paused,
                    Some(ContainerSummaryStateEnum::RESTARTING) => EngineState::Restarting,
                    Some(ContainerSummaryStateEnum::REMOVING) => EngineState::Removing,
                    Some(ContainerSummaryStateEnum::EXITED) => EngineState::Exited,
                    Some(ContainerSummaryStateEnum::DEAD) => EngineState::Dead,
                    _ => EngineState::Created,
                };
                ContainerInfo {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_string(),
                    labels: c
                        .labels
                        .unwrap_or_default()
                        .into_iter()
                        .collect::<BTreeMap<_, _>>(),
                    state,
                    exit_code: exit_code_from_status(&status),
                    error: None,
                    started_at: None,
                    finished_at: None,
                    node: Some(self.node.clone()),
                    ports: published_ports(&c.ports.unwrap_or_default()),
                }
            })
            .collect())
    }

    async fn events(
        &self,
    ) -> Result<BoxStream<'static, Result<EngineEvent, RuntimeError>>, RuntimeError> {
        let mut filters = self.scoped_filters(&[(LABEL_APP, None)]);
        filters.insert("type".into(), vec!["container".into()]);
        let options = EventsOptions {
            filters: Some(filters),
            ..EventsOptions::default()
        };
        let stream = self.docker.events(Some(options)).map(|ev| {
            let ev = ev.map_err(engine)?;
            let actor = ev.actor.unwrap_or_default();
            Ok(EngineEvent {
                container_id: actor.id.unwrap_or_default(),
                action: ev.action.unwrap_or_default(),
                labels: actor.attributes.unwrap_or_default().into_iter().collect(),
            })
        });
        Ok(stream.boxed())
    }

    async fn logs(
        &self,
        id: &str,
        tail: Option<usize>,
        follow: bool,
    ) -> Result<BoxStream<'static, Result<LogLine, RuntimeError>>, RuntimeError> {
        let options = LogsOptions {
            follow,
            stdout: true,
            stderr: true,
            timestamps: true,
            tail: tail.map_or_else(|| "all".to_string(), |n| n.to_string()),
            ..LogsOptions::default()
        };
        let id_owned = id.to_string();
        let stream = self
            .docker
            .logs(id, Some(options))
            .map_err(move |e| classify(e, &id_owned))
            .map_ok(|out| {
                let (stream, bytes) = match out {
                    LogOutput::StdErr { message } => (LogStream::Stderr, message),
                    LogOutput::StdOut { message }
                    | LogOutput::Console { message }
                    | LogOutput::StdIn { message } => (LogStream::Stdout, message),
                };
                let text = String::from_utf8_lossy(&bytes);
                let text = text.trim_end_matches('\n');
                // With timestamps on, each frame starts with an RFC 3339 stamp and a space.
                let (timestamp, text) = match text.split_once(' ') {
                    Some((stamp, rest)) if parse_time(Some(stamp)).is_some() => {
                        (parse_time(Some(stamp)), rest)
                    }
                    _ => (None, text),
                };
                LogLine {
                    stream,
                    text: text.to_string(),
                    timestamp,
                }
            });
        Ok(stream.boxed())
    }

    async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, RuntimeError> {
        let config = ExecConfig {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(argv.to_vec()),
            ..ExecConfig::default()
        };
        let exec = self
            .docker
            .create_exec(id, config)
            .await
            .map_err(|e| classify(e, id))?;
        let run = async {
            let mut stdout = String::new();
            let mut stderr = String::new();
            if let StartExecResults::Attached { mut output, .. } = self
                .docker
                .start_exec(&exec.id, None::<StartExecOptions>)
                .await
                .map_err(engine)?
            {
                while let Some(chunk) = output.next().await {
                    match chunk.map_err(engine)? {
                        LogOutput::StdErr { message } => {
                            stderr.push_str(&String::from_utf8_lossy(&message))
                        }
                        other => stdout.push_str(&String::from_utf8_lossy(&other.into_bytes())),
                    }
                }
            }
            // The exit code is known only once the output stream is drained.
            let inspect = self.docker.inspect_exec(&exec.id).await.map_err(engine)?;
            Ok(ExecOutput {
                stdout,
                stderr,
                exit_code: inspect.exit_code.unwrap_or(-1),
            })
        };
        tokio::time::timeout(timeout, run).await.map_err(|_| {
            RuntimeError::Timeout(format!("exec in {id} after {} s", timeout.as_secs()))
        })?
    }

    async fn wait(&self, id: &str) -> Result<i64, RuntimeError> {
        let mut stream = self.docker.wait_container(id, None::<WaitContainerOptions>);
        match stream.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(BollardError::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(classify(e, id)),
            None => Ok(self.inspect(id).await?.exit_code.unwrap_or(-1)),
        }
    }

    async fn image_exists(&self, image: &str) -> Result<bool, RuntimeError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(engine(e)),
        }
    }

    async fn pull(&self, image: &str, timeout: Duration) -> Result<(), RuntimeError> {
        let options = CreateImageOptions {
            from_image: Some(image.to_string()),
            ..CreateImageOptions::default()
        };
        let pull = self
            .docker
            .create_image(Some(options), None, None)
            .try_collect::<Vec<_>>();
        match tokio::time::timeout(timeout, pull).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(classify(e, image)),
            Err(_) => Err(RuntimeError::Timeout(format!("pulling {image}"))),
        }
    }

    async fn list_images(&self) -> Result<Vec<String>, RuntimeError> {
        let images = self
            .docker
            .list_images(None::<bollard::query_parameters::ListImagesOptions>)
            .await
            .map_err(engine)?;
        let mut tags: Vec<String> = images
            .into_iter()
            .flat_map(|i| i.repo_tags)
            .filter(|t| t != "<none>:<none>")
            .collect();
        tags.sort();
        tags.dedup();
        Ok(tags)
    }

    async fn put_archive(&self, id: &str, dir: &str, tar: Vec<u8>) -> Result<(), RuntimeError> {
        let options = bollard::query_parameters::UploadToContainerOptions {
            path: dir.to_string(),
            ..Default::default()
        };
        self.docker
            .upload_to_container(id, Some(options), bollard::body_full(tar.into()))
            .await
            .map_err(|e| classify(e, dir))
    }

    async fn get_archive(&self, id: &str, path: &str) -> Result<Vec<u8>, RuntimeError> {
        let options = bollard::query_parameters::DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let chunks: Vec<bytes::Bytes> = self
            .docker
            .download_from_container(id, Some(options))
            .try_collect()
            .await
            .map_err(|e| match e {
                BollardError::DockerResponseServerError {
                    status_code: 404, ..
                } => RuntimeError::NotFound(path.to_string()),
                other => classify(other, path),
            })?;
        Ok(chunks.concat())
    }

    async fn diff(&self, id: &str) -> Result<Vec<FsChange>, RuntimeError> {
        let changes = self
            .docker
            .container_changes(id)
            .await
            .map_err(|e| classify(e, id))?;
        Ok(changes
            .unwrap_or_default()
            .into_iter()
            .map(|c| FsChange {
                path: c.path,
                kind: match c.kind as i32 {
                    1 => FsChangeKind::Added,
                    2 => FsChangeKind::Deleted,
                    _ => FsChangeKind::Changed,
                },
            })
            .collect())
    }

    async fn stats(&self, id: &str) -> Result<ContainerStats, RuntimeError> {
        let options = bollard::query_parameters::StatsOptions {
            stream: true,
            one_shot: false,
        };
        // One-shot samples carry no CPU delta: take two from the stream.
        let mut stream = self.docker.stats(id, Some(options)).take(2);
        let first = stream
            .next()
            .await
            .ok_or_else(|| RuntimeError::NotFound(id.to_string()))?;
        let first = first.map_err(|e| classify(e, id))?;
        let second = match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
            Ok(Some(Ok(s))) => s,
            _ => first.clone(),
        };
        let memory = second.memory_stats.clone().unwrap_or_default();
        let (mut net_rx, mut net_tx) = (0, 0);
        for n in second.networks.clone().unwrap_or_default().values() {
            net_rx += n.rx_bytes.unwrap_or(0);
            net_tx += n.tx_bytes.unwrap_or(0);
        }
        let (mut block_read, mut block_write) = (0, 0);
        let entries = second
            .blkio_stats
            .clone()
            .and_then(|b| b.io_service_bytes_recursive)
            .unwrap_or_default();
        for e in entries {
            match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("read") => block_read += e.value.unwrap_or(0),
                Some("write") => block_write += e.value.unwrap_or(0),
                _ => {}
            }
        }
        Ok(ContainerStats {
            cpu_percent: cpu_percent(&first, &second),
            memory_usage: memory.usage.unwrap_or(0),
            memory_limit: memory.limit.unwrap_or(0),
            net_rx,
            net_tx,
            block_read,
            block_write,
        })
    }

    async fn build_image(
        &self,
        context_tar: Vec<u8>,
        options: BuildOptions,
        log: tokio::sync::mpsc::Sender<String>,
    ) -> Result<String, RuntimeError> {
        let strings = |m: &BTreeMap<String, String>| {
            (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        };
        let query = bollard::query_parameters::BuildImageOptions {
            dockerfile: options.dockerfile.clone(),
            t: Some(options.tag.clone()),
            nocache: options.no_cache,
            rm: true,
            // Intermediate containers of failed steps go too.
            forcerm: true,
            memory: options
                .memory_bytes
                .map(|m| m.clamp(0, i64::from(i32::MAX)) as i32),
            buildargs: strings(&options.build_args),
            labels: strings(&options.labels),
            target: options.target.clone().unwrap_or_default(),
            version: bollard::query_parameters::BuilderVersion::BuilderV1,
            ..Default::default()
        };
        let mut stream =
            self.docker
                .build_image(query, None, Some(bollard::body_full(context_tar.into())));
        let mut image_id = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    // A gone receiver only means nobody reads the log any more.
                    if let Some(text) = info.stream {
                        let _ = log.send(text).await;
                    }
                    if let Some(status) = info.status {
                        let _ = log.send(format!("{status}\n")).await;
                    }
                    if let Some(id) = info.aux.and_then(|aux| aux.id) {
                        image_id = Some(id);
                    }
                }
                Err(BollardError::DockerStreamError { error }) => {
                    let _ = log.send(format!("{error}\n")).await;
                    return Err(RuntimeError::Engine(error));
                }
                Err(e) => return Err(classify(e, &options.tag)),
            }
        }
        match image_id {
            Some(id) => Ok(id),
            None => self
                .docker
                .inspect_image(&options.tag)
                .await
                .map_err(|e| classify(e, &options.tag))?
                .id
                .ok_or_else(|| RuntimeError::Engine(format!("{} was not built", options.tag))),
        }
    }
}

/// CPU percent between two stats samples, as `docker stats` computes it.
fn cpu_percent(
    before: &bollard::models::ContainerStatsResponse,
    after: &bollard::models::ContainerStatsResponse,
) -> f64 {
    let total = |s: &bollard::models::ContainerStatsResponse| {
        s.cpu_stats
            .as_ref()
            .and_then(|c| c.cpu_usage.as_ref())
            .and_then(|u| u.total_usage)
            .unwrap_or(0)
    };
    let system = |s: &bollard::models::ContainerStatsResponse| {
        s.cpu_stats
            .as_ref()
            .and_then(|c| c.system_cpu_usage)
            .unwrap_or(0)
    };
    let cpus = after
        .cpu_stats
        .as_ref()
        .and_then(|c| c.online_cpus)
        .unwrap_or(1)
        .max(1) as f64;
    let cpu_delta = total(after).saturating_sub(total(before)) as f64;
    let system_delta = system(after).saturating_sub(system(before)) as f64;
    if system_delta > 0.0 {
        cpu_delta / system_delta * cpus * 100.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_from_status_text() {
        assert_eq!(
            exit_code_from_status("Exited (137) 2 minutes ago"),
            Some(137)
        );
        assert_eq!(
            exit_code_from_status("Exited (0) Less than a second ago"),
            Some(0)
        );
        assert_eq!(exit_code_from_status("Up 5 minutes"), None);
    }
}
