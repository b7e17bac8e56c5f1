//! The swarm's nodes: as administrators see them ([`list`]), and as the
//! driver needs them — each node's hostname (the `node` of an instance) and
//! the address its host-mode published ports answer on, remembered by node
//! id and asked again for a node new to it.

use std::collections::HashMap;

use berth_core::runtime::{NodeInfo, RuntimeError};
use bollard::models::{Node, NodeSpecAvailabilityEnum, NodeSpecRoleEnum, NodeState, TaskState};
use bollard::query_parameters::ListNodesOptions;

use super::{SwarmRuntime, tasks};
use crate::docker::engine;

/// Every node of the swarm, with how many of this server's tasks run on it.
pub(super) async fn list(runtime: &SwarmRuntime) -> Result<Vec<NodeInfo>, RuntimeError> {
    let nodes = runtime
        .docker
        .list_nodes(None::<ListNodesOptions>)
        .await
        .map_err(engine)?;
    remember(runtime, &nodes);
    let mut running: HashMap<String, usize> = HashMap::new();
    for (_, tasks) in tasks::services_with_tasks(&runtime.docker, &runtime.server, &[]).await? {
        for task in tasks {
            // A lost node's tasks stay `running` in the swarm's records;
            // once moved elsewhere they are no longer wanted there.
            let runs = task.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING)
                && task.desired_state == Some(TaskState::RUNNING);
            if let (true, Some(node)) = (runs, task.node_id) {
                *running.entry(node).or_default() += 1;
            }
        }
    }
    Ok(nodes
        .iter()
        .map(|node| {
            let spec = node.spec.clone().unwrap_or_default();
            let (id, facts) = NodeFacts::of(node).unwrap_or_default();
            NodeInfo {
                name: facts.name,
                ready: node.status.as_ref().and_then(|s| s.state) == Some(NodeState::READY),
                availability: match spec.availability {
                    Some(NodeSpecAvailabilityEnum::PAUSE) => "pause",
                    Some(NodeSpecAvailabilityEnum::DRAIN) => "drain",
                    _ => "active",
                }
                .into(),
                labels: spec.labels.unwrap_or_default().into_iter().collect(),
                address: facts.address,
                role: match spec.role {
                    Some(NodeSpecRoleEnum::MANAGER) => "manager",
                    _ => "worker",
                }
                .into(),
                tasks: running.get(&id).copied().unwrap_or_default(),
            }
        })
        .collect())
}

/// What the driver remembers of one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct NodeFacts {
    pub name: String,
    /// Where its published ports answer (the node's swarm address).
    pub address: Option<String>,
}

impl NodeFacts {
    fn of(node: &Node) -> Option<(String, NodeFacts)> {
        let id = node.id.clone()?;
        let name = node
            .description
            .as_ref()
            .and_then(|d| d.hostname.clone())
            .unwrap_or_else(|| id.clone());
        Some((
            id,
            NodeFacts {
                name,
                address: node_address(node),
            },
        ))
    }
}

/// A node's address: its status address, else (a manager that reports
/// `0.0.0.0` there) the address its manager listens on.
pub(super) fn node_address(node: &Node) -> Option<String> {
    let status = node
        .status
        .as_ref()
        .and_then(|s| s.addr.clone())
        .filter(|a| !a.is_empty() && a != "0.0.0.0");
    status.or_else(|| {
        let manager = node.manager_status.as_ref()?.addr.as_deref()?;
        let host = manager.rsplit_once(':').map_or(manager, |(h, _)| h);
        Some(host.trim_matches(['[', ']']).to_string()).filter(|h| !h.is_empty())
    })
}

/// What is known of node `id`, asking the swarm again when it is new.
pub(super) async fn facts(runtime: &SwarmRuntime, id: &str) -> NodeFacts {
    let known = |runtime: &SwarmRuntime| {
        runtime
            .nodes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    };
    if let Some(facts) = known(runtime) {
        return facts;
    }
    if let Ok(nodes) = runtime.docker.list_nodes(None::<ListNodesOptions>).await {
        remember(runtime, &nodes);
    }
    known(runtime).unwrap_or_else(|| NodeFacts {
        name: id.to_string(),
        address: None,
    })
}

/// Keeps what `nodes` say for later lookups.
pub(super) fn remember(runtime: &SwarmRuntime, nodes: &[Node]) {
    let mut known = runtime.nodes.lock().unwrap_or_else(|e| e.into_inner());
    known.extend(nodes.iter().filter_map(NodeFacts::of));
}

/// A node's hostname.
pub(super) async fn node_name(runtime: &SwarmRuntime, id: &str) -> String {
    facts(runtime, id).await.name
}

pub(super) type Known = HashMap<String, NodeFacts>;
