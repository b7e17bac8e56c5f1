//! What the engine says about containers, read into [`ContainerInfo`]: one
//! container by inspection (and its working directory), or every container of this server that carries
//! some labels (a label asked for by presence must not be empty); their states, exit codes and published ports.

use std::collections::BTreeMap;

use berth_core::model::PublishedPort;
use berth_core::runtime::{ContainerInfo, EngineState, RuntimeError};
use bollard::models::{PortSummary, PortSummaryTypeEnum};
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptions};

use super::{DockerRuntime, classify, engine, parse_time};

pub(super) async fn working_dir(
    runtime: &DockerRuntime,
    id: &str,
) -> Result<Option<String>, RuntimeError> {
    let c = runtime
        .docker
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| classify(e, id))?;
    Ok(c.config
        .and_then(|config| config.working_dir)
        .filter(|dir| !dir.is_empty() && dir != "/"))
}

pub(super) async fn inspect(
    runtime: &DockerRuntime,
    id: &str,
) -> Result<ContainerInfo, RuntimeError> {
    let c = runtime
        .docker
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| classify(e, id))?;
    let state = c.state.unwrap_or_default();
    let address = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .and_then(|networks| first_address(networks.values().map(|e| e.ip_address.as_deref())));
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
        state: engine_state(state.status),
        exit_code: state.exit_code,
        error: state.error.filter(|e| !e.is_empty()),
        started_at: parse_time(state.started_at.as_deref()),
        finished_at: parse_time(state.finished_at.as_deref()),
        node: Some(runtime.node.clone()),
        ports,
        address,
    })
}

pub(super) async fn list(
    runtime: &DockerRuntime,
    labels: &[(&str, Option<&str>)],
) -> Result<Vec<ContainerInfo>, RuntimeError> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(runtime.scoped_filters(labels)),
        ..ListContainersOptions::default()
    };
    let list = runtime
        .docker
        .list_containers(Some(options))
        .await
        .map_err(engine)?;
    Ok(list
        .into_iter()
        .map(|c| {
            let status = c.status.unwrap_or_default();
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
                state: engine_state(c.state),
                exit_code: exit_code_from_status(&status),
                error: None,
                started_at: None,
                finished_at: None,
                node: Some(runtime.node.clone()),
                ports: published_ports(&c.ports.unwrap_or_default()),
                address: c
                    .network_settings
                    .and_then(|n| n.networks)
                    .and_then(|networks| {
                        first_address(networks.values().map(|e| e.ip_address.as_deref()))
                    }),
            }
        })
        // Every container carries every Berth label, empty when unused: a
        // label asked for by presence must have a value.
        .filter(|c| {
            labels
                .iter()
                .all(|(k, v)| v.is_some() || c.label(k).is_some_and(|v| !v.is_empty()))
        })
        .collect())
}

/// A container's address: the first network that gave it one (a Berth
/// container is on exactly one, its owner's).
pub(crate) fn first_address<'a>(
    addresses: impl Iterator<Item = Option<&'a str>>,
) -> Option<String> {
    addresses
        .flatten()
        .find(|a| !a.is_empty())
        .map(str::to_string)
}

/// The state from an inspection or a listing: the engine names them alike
/// in both, though bollard has a type for each.
fn engine_state<S: AsRef<str>>(status: Option<S>) -> EngineState {
    match status.as_ref().map(S::as_ref) {
        Some("running") => EngineState::Running,
        Some("paused") => EngineState::Paused,
        Some("restarting") => EngineState::Restarting,
        Some("removing") => EngineState::Removing,
        Some("exited") => EngineState::Exited,
        Some("dead") => EngineState::Dead,
        _ => EngineState::Created,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerStateStatusEnum, ContainerSummaryStateEnum};

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

    #[test]
    fn inspected_and_listed_states_read_alike() {
        let states = [
            ("running", EngineState::Running),
            ("paused", EngineState::Paused),
            ("restarting", EngineState::Restarting),
            ("removing", EngineState::Removing),
            ("exited", EngineState::Exited),
            ("dead", EngineState::Dead),
            ("created", EngineState::Created),
            ("stopping", EngineState::Created),
            ("", EngineState::Created),
        ];
        for (name, want) in states {
            let inspected: ContainerStateStatusEnum = name.parse().unwrap();
            let listed: ContainerSummaryStateEnum = name.parse().unwrap();
            assert_eq!(engine_state(Some(inspected)), want, "{name}");
            assert_eq!(engine_state(Some(listed)), want, "{name}");
        }
        assert_eq!(engine_state(None::<&str>), EngineState::Created);
    }
}
