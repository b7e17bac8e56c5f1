//! What the swarm says about Berth's services, read into [`ContainerInfo`]:
//! each service stands for one container, its current task giving the
//! state, exit code, node, published ports and the node endpoint its app
//! port is published on.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use berth_core::model::{PublishedPort, Timestamp};
use berth_core::runtime::{ContainerInfo, EngineState, RuntimeError};
use bollard::Docker;
use bollard::models::{EndpointPortConfigProtocolEnum, Service, ServiceSpec, Task, TaskState};
use bollard::query_parameters::{ListServicesOptions, ListTasksOptions};

use super::nodes::{self, NodeFacts};
use super::{SwarmRuntime, services};
use crate::docker::{classify, engine, label_filters, parse_time};

/// The task that stands for a service's container, as far as core cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CurrentTask {
    pub id: String,
    /// The swarm wants it running (not an old task of a stopped service).
    pub wanted: bool,
    pub node_id: Option<String>,
    pub container_id: Option<String>,
    pub state: EngineState,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub since: Option<Timestamp>,
    pub ports: Vec<PublishedPort>,
}

/// The current task of service `id`, if it has one yet.
pub(super) async fn current(
    runtime: &SwarmRuntime,
    id: &str,
) -> Result<Option<CurrentTask>, RuntimeError> {
    let tasks = tasks_of(&runtime.docker, &[id.to_string()]).await?;
    Ok(pick(tasks.get(id).map(Vec::as_slice).unwrap_or_default()))
}

pub(super) async fn inspect(
    runtime: &SwarmRuntime,
    id: &str,
) -> Result<ContainerInfo, RuntimeError> {
    let service = runtime
        .docker
        .inspect_service(id, None)
        .await
        .map_err(|e| classify(e, id))?;
    let id = service.id.clone().unwrap_or_default();
    let tasks = tasks_of(&runtime.docker, std::slice::from_ref(&id)).await?;
    Ok(describe(
        runtime,
        vec![(service, tasks.get(&id).cloned().unwrap_or_default())],
    )
    .await?
    .remove(0))
}

pub(super) async fn list(
    runtime: &SwarmRuntime,
    labels: &[(&str, Option<&str>)],
) -> Result<Vec<ContainerInfo>, RuntimeError> {
    let found = services_with_tasks(&runtime.docker, &runtime.server, labels).await?;
    describe(runtime, found).await
}

/// The server's services that carry every given label (a label asked for
/// by presence must not be empty), each with its tasks.
pub(super) async fn services_with_tasks(
    docker: &Docker,
    server: &str,
    labels: &[(&str, Option<&str>)],
) -> Result<Vec<(Service, Vec<Task>)>, RuntimeError> {
    let mut all = labels.to_vec();
    all.push((crate::docker::LABEL_SERVER, Some(server)));
    let options = ListServicesOptions {
        filters: Some(label_filters(&all)),
        ..ListServicesOptions::default()
    };
    let services: Vec<Service> = docker
        .list_services(Some(options))
        .await
        .map_err(engine)?
        .into_iter()
        .filter(|s| {
            let service_labels = s.spec.as_ref().and_then(|spec| spec.labels.as_ref());
            labels.iter().all(|(k, v)| {
                v.is_some()
                    || service_labels
                        .and_then(|l| l.get(*k))
                        .is_some_and(|v| !v.is_empty())
            })
        })
        .collect();
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = services.iter().filter_map(|s| s.id.clone()).collect();
    let mut tasks = tasks_of(docker, &ids).await?;
    Ok(services
        .into_iter()
        .map(|s| {
            let of =
                s.id.as_ref()
                    .and_then(|id| tasks.remove(id))
                    .unwrap_or_default();
            (s, of)
        })
        .collect())
}

/// The tasks of some services, by service id.
async fn tasks_of(
    docker: &Docker,
    services: &[String],
) -> Result<HashMap<String, Vec<Task>>, RuntimeError> {
    let options = ListTasksOptions {
        filters: Some(HashMap::from([("service".to_string(), services.to_vec())])),
    };
    let mut by_service: HashMap<String, Vec<Task>> = HashMap::new();
    for task in docker.list_tasks(Some(options)).await.map_err(engine)? {
        if let Some(service) = task.service_id.clone() {
            by_service.entry(service).or_default().push(task);
        }
    }
    Ok(by_service)
}

/// The task that stands for the container: the newest one the swarm wants
/// running (a replacement on another node, after a node is lost), else the
/// newest of all (a stopped or finished service's last task). A task not
/// running yet while older ones exist is a restart.
pub(super) fn pick(tasks: &[Task]) -> Option<CurrentTask> {
    let wanted = |t: &Task| t.desired_state == Some(TaskState::RUNNING);
    let created = |t: &Task| parse_time(t.created_at.as_deref());
    let task = tasks.iter().max_by_key(|t| (wanted(t), created(t)))?;
    let status = task.status.clone().unwrap_or_default();
    let container = status.container_status.clone().unwrap_or_default();
    let state = match status.state {
        Some(TaskState::RUNNING) => EngineState::Running,
        Some(TaskState::COMPLETE | TaskState::FAILED | TaskState::SHUTDOWN) => EngineState::Exited,
        Some(TaskState::REJECTED | TaskState::ORPHANED) => EngineState::Dead,
        Some(TaskState::REMOVE) => EngineState::Removing,
        _ if tasks.len() > 1 => EngineState::Restarting,
        _ => EngineState::Created,
    };
    let exit_code = match status.state {
        Some(TaskState::COMPLETE) => Some(container.exit_code.unwrap_or(0)),
        Some(TaskState::FAILED | TaskState::SHUTDOWN | TaskState::REJECTED) => container.exit_code,
        _ => None,
    };
    Some(CurrentTask {
        id: task.id.clone().unwrap_or_default(),
        wanted: wanted(task),
        node_id: task.node_id.clone().filter(|n| !n.is_empty()),
        container_id: container.container_id.filter(|c| !c.is_empty()),
        state,
        exit_code,
        error: status.err.filter(|e| !e.is_empty()),
        since: parse_time(status.timestamp.as_deref()),
        ports: status
            .port_status
            .and_then(|p| p.ports)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                Some(PublishedPort {
                    inner: u16::try_from(p.target_port?).ok()?,
                    outer: p.published_port.and_then(|o| u16::try_from(o).ok()),
                    protocol: match p.protocol {
                        Some(EndpointPortConfigProtocolEnum::UDP) => "udp",
                        Some(EndpointPortConfigProtocolEnum::SCTP) => "sctp",
                        _ => "tcp",
                    }
                    .to_string(),
                })
            })
            .collect(),
    })
}

/// Each service as a container: its labels and name, its current task's
/// state, node and the endpoint its app port is published on.
async fn describe(
    runtime: &SwarmRuntime,
    found: Vec<(Service, Vec<Task>)>,
) -> Result<Vec<ContainerInfo>, RuntimeError> {
    let mut out = Vec::with_capacity(found.len());
    for (service, tasks) in found {
        let task = pick(&tasks);
        let spec = service.spec.unwrap_or_default();
        let node = match task.as_ref().and_then(|t| t.node_id.as_deref()) {
            Some(node) => Some(nodes::facts(runtime, node).await),
            None => None,
        };
        let (state, running) = match &task {
            Some(t) => (t.state, t.state == EngineState::Running),
            None => (EngineState::Created, false),
        };
        let address = match (&task, &node) {
            (Some(task), Some(node)) if running => endpoint(&spec, task, node),
            _ => None,
        };
        out.push(ContainerInfo {
            id: service.id.unwrap_or_default(),
            name: spec.name.unwrap_or_default(),
            labels: spec.labels.unwrap_or_default().into_iter().collect(),
            state,
            exit_code: task.as_ref().and_then(|t| t.exit_code),
            error: task.as_ref().and_then(|t| t.error.clone()),
            started_at: task.as_ref().filter(|_| running).and_then(|t| t.since),
            finished_at: task
                .as_ref()
                .filter(|t| t.state == EngineState::Exited || t.state == EngineState::Dead)
                .and_then(|t| t.since),
            node: node.map(|n| n.name),
            ports: task.as_ref().map(|t| t.ports.clone()).unwrap_or_default(),
            address,
        });
    }
    Ok(out)
}

/// `node-address:published-port` of the service's app port (its `PORT`),
/// which the task published on its node in host mode.
fn endpoint(spec: &ServiceSpec, task: &CurrentTask, node: &NodeFacts) -> Option<String> {
    let env = spec
        .task_template
        .as_ref()?
        .container_spec
        .as_ref()?
        .env
        .as_ref()?;
    let port = services::app_port(env.iter().filter_map(|e| e.split_once('=')))?;
    let published = task
        .ports
        .iter()
        .find(|p| p.inner == port && p.protocol == "tcp")?
        .outer?;
    let ip: IpAddr = node.address.as_deref()?.parse().ok()?;
    Some(SocketAddr::new(ip, published).to_string())
}
