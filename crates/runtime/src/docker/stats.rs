//! A container's resource use: CPU, memory, network and block I/O from two
//! samples of the engine's stats stream.

use std::time::Duration;

use berth_core::runtime::{ContainerStats, RuntimeError};
use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::StatsOptions;
use futures::StreamExt;

use super::{DockerRuntime, classify};

pub(super) async fn sample(
    runtime: &DockerRuntime,
    id: &str,
) -> Result<ContainerStats, RuntimeError> {
    let options = StatsOptions {
        stream: true,
        one_shot: false,
    };
    // One-shot samples carry no CPU delta: take two from the stream.
    let mut stream = runtime.docker.stats(id, Some(options)).take(2);
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

/// CPU percent between two stats samples, as `docker stats` computes it.
fn cpu_percent(before: &ContainerStatsResponse, after: &ContainerStatsResponse) -> f64 {
    let total = |s: &ContainerStatsResponse| {
        s.cpu_stats
            .as_ref()
            .and_then(|c| c.cpu_usage.as_ref())
            .and_then(|u| u.total_usage)
            .unwrap_or(0)
    };
    let system = |s: &ContainerStatsResponse| {
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
