//! A service's life on the swarm: creating it from a [`ContainerSpec`]
//! (labels on the service and its tasks, the owner's overlay, host-mode
//! ports with the app port among them, node-label constraints from the
//! app's tags, the driver's policy), starting it (one replica, waiting for
//! its task to run or to be refused a node) and stopping it (no replica),
//! waiting for its task to end, removing it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use berth_core::runtime::{
    BERTH_LABELS, ContainerSpec, EngineState, LABEL_INSTANCE, Runtime, RuntimeError,
};
use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, EndpointSpecModeEnum, Limit, NetworkAttachmentConfig, ServiceSpec,
    ServiceSpecMode, ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec, TaskSpecLogDriver,
    TaskSpecPlacement, TaskSpecResources, TaskSpecRestartPolicy,
    TaskSpecRestartPolicyConditionEnum,
};
use bollard::query_parameters::UpdateServiceOptions;

use super::{SwarmRuntime, tasks};
use crate::docker::{LABEL_SERVER, classify, has_status};

/// How long a task gets to stop before it is killed, until a stop says otherwise.
const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);
/// How soon the swarm starts a long-running task again after it ended.
const RESTART_DELAY: Duration = Duration::from_secs(1);
/// How often a stop or a wait looks at the task again.
const POLL: Duration = Duration::from_millis(200);
/// How long a start waits for its task to run (past it, the events say
/// when it does), and how often it looks.
const START_WAIT: Duration = Duration::from_secs(15);
const START_POLL: Duration = Duration::from_millis(100);
/// Capabilities no workload needs: raw sockets and device nodes.
const DROPPED_CAPABILITIES: [&str; 2] = ["CAP_NET_RAW", "CAP_MKNOD"];

/// How a placement constraint names a node label.
const NODE_LABEL: &str = "node.labels.";

/// The longest service name the swarm accepts.
const MAX_NAME: usize = 63;

pub(super) async fn create(
    runtime: &SwarmRuntime,
    spec: &ContainerSpec,
) -> Result<String, RuntimeError> {
    let policy = &runtime.local.policy;
    let spec = &policy.limits.apply(spec);
    // Tasks would be rejected on every node that lacks it; say so as the
    // Docker driver does, so that core pulls it.
    if !runtime.local.image_exists(&spec.image).await? {
        return Err(RuntimeError::ImageNotFound(spec.image.clone()));
    }
    let network = match spec.owner {
        Some(owner) => Some(runtime.local.owner_network(owner).await?).filter(|n| n != "none"),
        None => None,
    };
    let labels: HashMap<String, String> = BERTH_LABELS
        .iter()
        .map(|k| (k.to_string(), String::new()))
        .chain(spec.labels.iter().map(|(k, v)| (k.clone(), v.clone())))
        .chain([(LABEL_SERVER.to_string(), runtime.server.clone())])
        .collect();
    // An instance runs until it is stopped: the swarm starts it again after
    // a crash or on another node after a node is lost. Jobs and one-off
    // runs end once.
    let long_running = spec
        .labels
        .get(LABEL_INSTANCE)
        .is_some_and(|v| !v.is_empty());
    let restart = TaskSpecRestartPolicy {
        condition: Some(if long_running {
            TaskSpecRestartPolicyConditionEnum::ANY
        } else {
            TaskSpecRestartPolicyConditionEnum::NONE
        }),
        delay: Some(nanos(RESTART_DELAY)),
        ..TaskSpecRestartPolicy::default()
    };
    let mut constraints: Vec<String> = spec
        .placement
        .iter()
        .map(|(k, v)| format!("{NODE_LABEL}{k}=={v}"))
        .collect();
    if !spec.mounts.is_empty() {
        // Berth's host directories exist on the manager only.
        constraints.push(format!("node.id=={}", runtime.manager_node().await?));
    }
    let container = TaskSpecContainerSpec {
        image: Some(spec.image.clone()),
        labels: Some(labels.clone()),
        // A service's Command is the image's entrypoint, its Args the CMD.
        command: spec
            .entrypoint
            .clone()
            .filter(|e| !e.is_empty())
            .or_else(|| {
                // An empty entrypoint means "none": the CMD is the whole command.
                spec.entrypoint.as_ref().and(spec.cmd.clone())
            }),
        args: if spec.entrypoint.as_ref().is_some_and(Vec::is_empty) {
            None
        } else {
            spec.cmd.clone()
        },
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        dir: spec.working_dir.clone(),
        init: Some(true),
        stop_grace_period: Some(nanos(DEFAULT_STOP_GRACE)),
        capability_drop: Some(DROPPED_CAPABILITIES.iter().map(|c| c.to_string()).collect()),
        mounts: crate::docker::containers::bind_mounts(spec),
        ..TaskSpecContainerSpec::default()
    };
    let service = ServiceSpec {
        name: Some(service_name(&spec.name)),
        labels: Some(labels),
        task_template: Some(TaskSpec {
            container_spec: Some(container),
            resources: Some(TaskSpecResources {
                limits: Some(Limit {
                    nano_cpus: spec.nano_cpus,
                    memory_bytes: spec.memory_bytes,
                    pids: spec.pids_limit,
                }),
                ..TaskSpecResources::default()
            }),
            restart_policy: Some(restart),
            placement: (!constraints.is_empty()).then(|| TaskSpecPlacement {
                constraints: Some(constraints),
                ..TaskSpecPlacement::default()
            }),
            networks: network.map(|n| {
                vec![NetworkAttachmentConfig {
                    target: Some(n),
                    ..NetworkAttachmentConfig::default()
                }]
            }),
            log_driver: Some(TaskSpecLogDriver {
                name: Some("json-file".into()),
                options: Some(HashMap::from([
                    ("max-size".to_string(), policy.log_max_size.clone()),
                    ("max-file".to_string(), policy.log_max_file.to_string()),
                ])),
            }),
            ..TaskSpec::default()
        }),
        // Created stopped, as a container is: `start` sets one replica.
        mode: Some(replicated(0)),
        endpoint_spec: Some(EndpointSpec {
            // This kernel has no IPVS: no virtual IP, no routing mesh.
            mode: Some(EndpointSpecModeEnum::DNSRR),
            ports: Some(published_ports(spec, long_running)).filter(|p| !p.is_empty()),
        }),
        ..ServiceSpec::default()
    };
    let created = runtime
        .docker
        .create_service(service, None)
        .await
        .map_err(|e| classify(e, &spec.image))?;
    created
        .id
        .ok_or_else(|| RuntimeError::Engine("the swarm created a service with no id".into()))
}

/// The ports a task publishes on its node, each on a port the node picks:
/// the spec's, and for an instance its app port (`PORT`), where the router
/// reaches it (task addresses on an overlay are not reachable from outside it).
fn published_ports(spec: &ContainerSpec, instance: bool) -> Vec<EndpointPortConfig> {
    let mut ports: Vec<(u16, &str)> = spec
        .ports
        .iter()
        .map(|p| (p.inner, p.protocol.as_str()))
        .collect();
    if instance
        && let Some(port) = app_port(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        && !ports.contains(&(port, "tcp"))
    {
        ports.push((port, "tcp"));
    }
    ports
        .into_iter()
        .map(|(inner, protocol)| EndpointPortConfig {
            protocol: Some(match protocol {
                "udp" => EndpointPortConfigProtocolEnum::UDP,
                "sctp" => EndpointPortConfigProtocolEnum::SCTP,
                _ => EndpointPortConfigProtocolEnum::TCP,
            }),
            target_port: Some(i64::from(inner)),
            publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
            ..EndpointPortConfig::default()
        })
        .collect()
}

/// The app port in an environment (`PORT`, which core sets for every instance).
pub(super) fn app_port<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<u16> {
    env.into_iter()
        .find(|(k, _)| *k == "PORT")
        .and_then(|(_, v)| v.trim().parse::<u16>().ok())
        .filter(|p| *p > 0)
}

/// One replica; returns once its task runs, ended (the events report the
/// crash), or after [`START_WAIT`]. A task the swarm can place on no node
/// is refused with the swarm's reason (e.g. `no suitable node (scheduling
/// constraints not satisfied on 3 nodes)`), so that the instance shows it
/// instead of waiting.
pub(super) async fn start(runtime: &SwarmRuntime, id: &str) -> Result<(), RuntimeError> {
    set_replicas(runtime, id, 1, None).await?;
    let deadline = Instant::now() + START_WAIT;
    loop {
        if let Some(task) = tasks::current(runtime, id).await?
            && task.wanted
        {
            match (task.state, task.error) {
                (EngineState::Created | EngineState::Restarting, Some(error)) => {
                    return Err(RuntimeError::Conflict(
                        unplaceable(runtime, id, error).await,
                    ));
                }
                (EngineState::Created | EngineState::Restarting, None) => {}
                _ => return Ok(()),
            }
        }
        if Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(START_POLL).await;
    }
}

/// Why a task waits for a node, naming the node labels (the app's tags)
/// its service asks for, if any.
async fn unplaceable(runtime: &SwarmRuntime, id: &str, error: String) -> String {
    let labels: Vec<String> = match runtime.docker.inspect_service(id, None).await {
        Ok(service) => service
            .spec
            .and_then(|s| s.task_template)
            .and_then(|t| t.placement)
            .and_then(|p| p.constraints)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.strip_prefix(NODE_LABEL))
            .map(|c| c.replacen("==", "=", 1))
            .collect(),
        Err(_) => Vec::new(),
    };
    if labels.is_empty() {
        error
    } else {
        format!(
            "no ready node has the labels the app's tags ask for ({}): {error}",
            labels.join(", ")
        )
    }
}

/// No replica, the task getting `timeout` to stop; returns once the task
/// stopped, or after the timeout and a little more (a task on a lost node
/// never says it stopped).
pub(super) async fn stop(
    runtime: &SwarmRuntime,
    id: &str,
    timeout: Duration,
) -> Result<(), RuntimeError> {
    set_replicas(runtime, id, 0, Some(timeout)).await?;
    let deadline = Instant::now() + timeout + Duration::from_secs(5);
    while Instant::now() < deadline {
        match tasks::current(runtime, id).await? {
            Some(t) if matches!(t.state, EngineState::Running) => tokio::time::sleep(POLL).await,
            _ => break,
        }
    }
    Ok(())
}

pub(super) async fn remove(runtime: &SwarmRuntime, id: &str) -> Result<(), RuntimeError> {
    match runtime.docker.delete_service(id).await {
        Ok(()) => Ok(()),
        Err(e) if has_status(&e, 404) => Ok(()),
        Err(e) => Err(classify(e, id)),
    }
}

/// Waits for the service's task to end and returns its exit code.
pub(super) async fn wait(runtime: &SwarmRuntime, id: &str) -> Result<i64, RuntimeError> {
    loop {
        // Gone while waited for: like a container removed under a wait.
        runtime.inspect(id).await?;
        if let Some(task) = tasks::current(runtime, id).await? {
            match task.state {
                EngineState::Exited => return Ok(task.exit_code.unwrap_or(-1)),
                EngineState::Dead => {
                    return Err(RuntimeError::Engine(
                        task.error.unwrap_or_else(|| "the task was rejected".into()),
                    ));
                }
                _ => {}
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Sets the service's replica count (and stop grace period); returns
/// whether anything changed. The swarm's allocator updates a new service
/// with published ports on its own, so an update may find the version it
/// read already gone: it reads the service again and retries.
async fn set_replicas(
    runtime: &SwarmRuntime,
    id: &str,
    replicas: i64,
    stop_grace: Option<Duration>,
) -> Result<bool, RuntimeError> {
    let mut attempts = 0;
    loop {
        match update_replicas(runtime, id, replicas, stop_grace).await {
            Err(RuntimeError::Engine(m)) if m.contains("out of sequence") && attempts < 10 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

async fn update_replicas(
    runtime: &SwarmRuntime,
    id: &str,
    replicas: i64,
    stop_grace: Option<Duration>,
) -> Result<bool, RuntimeError> {
    let service = runtime
        .docker
        .inspect_service(id, None)
        .await
        .map_err(|e| classify(e, id))?;
    let mut spec = service.spec.unwrap_or_default();
    let current = spec
        .mode
        .as_ref()
        .and_then(|m| m.replicated.as_ref())
        .and_then(|r| r.replicas);
    let grace = stop_grace.map(nanos);
    let container = spec
        .task_template
        .as_mut()
        .and_then(|t| t.container_spec.as_mut());
    let grace_differs = grace.is_some()
        && container
            .as_ref()
            .is_some_and(|c| c.stop_grace_period != grace);
    if current == Some(replicas) && !grace_differs {
        return Ok(false);
    }
    if let (Some(container), Some(grace)) = (container, grace) {
        container.stop_grace_period = Some(grace);
    }
    spec.mode = Some(replicated(replicas));
    let options = UpdateServiceOptions {
        version: service
            .version
            .and_then(|v| v.index)
            .and_then(|i| i32::try_from(i).ok())
            .unwrap_or_default(),
        ..UpdateServiceOptions::default()
    };
    runtime
        .docker
        .update_service(id, spec, options, None)
        .await
        .map_err(|e| classify(e, id))?;
    Ok(true)
}

fn replicated(replicas: i64) -> ServiceSpecMode {
    ServiceSpecMode {
        replicated: Some(ServiceSpecModeReplicated {
            replicas: Some(replicas),
        }),
        ..ServiceSpecMode::default()
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// A container name as the swarm takes a service name: letters, digits,
/// `-` and `_` (a dot becomes `-`), at most 63 characters, keeping the end
/// (the instance's own part) when it must cut.
pub(super) fn service_name(container_name: &str) -> String {
    let cleaned: String = container_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cut = if cleaned.len() > MAX_NAME {
        format!(
            "{}{}",
            &cleaned[..MAX_NAME - 12],
            &cleaned[cleaned.len() - 12..]
        )
    } else {
        cleaned
    };
    cut.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_become_service_names() {
        assert_eq!(
            service_name("berth_shop_web.1_0a1b2c3d"),
            "berth_shop_web-1_0a1b2c3d"
        );
        let long = format!("berth_{}_web.10_0a1b2c3d", "a".repeat(80));
        let name = service_name(&long);
        assert_eq!(name.len(), MAX_NAME);
        assert!(name.starts_with("berth_aaa"));
        assert!(name.ends_with("_0a1b2c3d"));
    }
}
