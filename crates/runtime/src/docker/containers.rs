//! A container's life on the engine: creating it from a [`ContainerSpec`]
//! (with the server label, ports, mounts, network and the driver's policy),
//! starting, stopping, waiting for and removing it.

use std::collections::HashMap;
use std::time::Duration;

use berth_core::model::PortSpec;
use berth_core::runtime::{BERTH_LABELS, ContainerSpec, RuntimeError};
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountType, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptions, RemoveContainerOptions, StopContainerOptions, WaitContainerOptions,
};
use futures::StreamExt;

use super::{DockerRuntime, LABEL_SERVER, classify, has_status, info, networks};

/// Capabilities no workload needs: raw sockets (ARP and packet spoofing on
/// the bridge) and device nodes.
const DROPPED_CAPABILITIES: [&str; 2] = ["NET_RAW", "MKNOD"];

pub(super) async fn create(
    runtime: &DockerRuntime,
    spec: &ContainerSpec,
) -> Result<String, RuntimeError> {
    let policy = &runtime.policy;
    let spec = &policy.limits.apply(spec);
    let network = match spec.owner {
        Some(owner) => Some(networks::ensure(runtime, owner).await?),
        None => None,
    };
    let port_key = |p: &PortSpec| format!("{}/{}", p.inner, p.protocol);
    // Every label Berth reads is set here, so an image's own never shows through.
    let labels = BERTH_LABELS
        .iter()
        .map(|k| (k.to_string(), String::new()))
        .chain(spec.labels.iter().map(|(k, v)| (k.clone(), v.clone())))
        .chain([(LABEL_SERVER.to_string(), runtime.server.clone())])
        .collect();
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: spec.cmd.clone(),
        entrypoint: spec.entrypoint.clone(),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(labels),
        working_dir: spec.working_dir.clone(),
        exposed_ports: (!spec.ports.is_empty()).then(|| spec.ports.iter().map(port_key).collect()),
        host_config: Some(HostConfig {
            // PID 1 sh/sleep ignore SIGTERM; an init makes stops prompt.
            init: Some(true),
            memory: spec.memory_bytes,
            cpu_shares: spec.cpu_shares,
            nano_cpus: spec.nano_cpus,
            pids_limit: spec.pids_limit,
            log_config: Some(HostConfigLogConfig {
                typ: Some("json-file".into()),
                config: Some(HashMap::from([
                    ("max-size".to_string(), policy.log_max_size.clone()),
                    ("max-file".to_string(), policy.log_max_file.to_string()),
                ])),
            }),
            security_opt: Some(vec!["no-new-privileges:true".into()]),
            cap_drop: Some(DROPPED_CAPABILITIES.iter().map(|c| c.to_string()).collect()),
            network_mode: network,
            // Berth restarts crashed instances itself, with backoff.
            restart_policy: None,
            // An empty host port lets the engine choose a free one.
            port_bindings: (!spec.ports.is_empty()).then(|| {
                spec.ports
                    .iter()
                    .map(|p| {
                        let binding = PortBinding {
                            host_ip: Some(policy.publish_address.clone()),
                            host_port: Some(String::new()),
                        };
                        (port_key(p), Some(vec![binding]))
                    })
                    .collect()
            }),
            mounts: bind_mounts(spec),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptions {
        name: Some(spec.name.clone()),
        ..CreateContainerOptions::default()
    };
    let created = runtime
        .docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| classify(e, &spec.image));
    if let (Err(RuntimeError::NotFound(message)), Some(owner)) = (&created, spec.owner)
        && message.contains("network")
    {
        // Removed behind Berth's back: the next try makes it again.
        networks::forget(runtime, owner);
    }
    Ok(created?.id)
}

pub(super) async fn start(runtime: &DockerRuntime, id: &str) -> Result<(), RuntimeError> {
    runtime
        .docker
        .start_container(id, None)
        .await
        .map_err(|e| classify(e, id))
}

pub(super) async fn stop(
    runtime: &DockerRuntime,
    id: &str,
    timeout: Duration,
) -> Result<(), RuntimeError> {
    let options = StopContainerOptions {
        t: Some(timeout.as_secs() as i32),
        ..StopContainerOptions::default()
    };
    match runtime.docker.stop_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        // 304: already stopped.
        Err(e) if has_status(&e, 304) => Ok(()),
        Err(e) => Err(classify(e, id)),
    }
}

pub(super) async fn remove(runtime: &DockerRuntime, id: &str) -> Result<(), RuntimeError> {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..RemoveContainerOptions::default()
    };
    match runtime.docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if has_status(&e, 404) => Ok(()),
        // Already being removed: as good as gone.
        Err(BollardError::DockerResponseServerError {
            status_code: 409,
            message,
        }) if message.contains("already in progress") => Ok(()),
        Err(e) => Err(classify(e, id)),
    }
}

pub(super) async fn wait(runtime: &DockerRuntime, id: &str) -> Result<i64, RuntimeError> {
    let mut stream = runtime
        .docker
        .wait_container(id, None::<WaitContainerOptions>);
    match stream.next().await {
        Some(Ok(r)) => Ok(r.status_code),
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(BollardError::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(classify(e, id)),
        None => Ok(info::inspect(runtime, id).await?.exit_code.unwrap_or(-1)),
    }
}

/// The spec's bind mounts as the engine takes them (a container's or a
/// swarm task's), or none.
pub(crate) fn bind_mounts(spec: &ContainerSpec) -> Option<Vec<Mount>> {
    (!spec.mounts.is_empty()).then(|| {
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
    })
}
