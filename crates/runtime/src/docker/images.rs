//! Images on the engine: whether one is there, pulling, listing tags and
//! building from a tar context with the classic builder, each step limited
//! in memory and CPU and, when it fetches nothing, cut off the network.

use std::collections::BTreeMap;
use std::time::Duration;

use berth_core::runtime::{BuildOptions, RuntimeError};
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    BuildImageOptions, BuilderVersion, CreateImageOptions, ListImagesOptions,
};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc::Sender;

use super::{DockerRuntime, classify, engine, has_status};

pub(super) async fn exists(runtime: &DockerRuntime, image: &str) -> Result<bool, RuntimeError> {
    match runtime.docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if has_status(&e, 404) => Ok(false),
        Err(e) => Err(engine(e)),
    }
}

pub(super) async fn pull(
    runtime: &DockerRuntime,
    image: &str,
    timeout: Duration,
) -> Result<(), RuntimeError> {
    let options = CreateImageOptions {
        from_image: Some(image.to_string()),
        ..CreateImageOptions::default()
    };
    let pull = runtime
        .docker
        .create_image(Some(options), None, None)
        .try_collect::<Vec<_>>();
    match tokio::time::timeout(timeout, pull).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(e, image)),
        Err(_) => Err(RuntimeError::Timeout(format!("pulling {image}"))),
    }
}

pub(super) async fn list(runtime: &DockerRuntime) -> Result<Vec<String>, RuntimeError> {
    let images = runtime
        .docker
        .list_images(None::<ListImagesOptions>)
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

/// The CPU quota's accounting period.
const CPU_PERIOD_MICROS: i32 = 100_000;

pub(super) async fn build(
    runtime: &DockerRuntime,
    context_tar: Vec<u8>,
    options: BuildOptions,
    log: Sender<String>,
) -> Result<String, RuntimeError> {
    let strings = |m: &BTreeMap<String, String>| {
        (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    };
    let query = BuildImageOptions {
        dockerfile: options.dockerfile.clone(),
        t: Some(options.tag.clone()),
        nocache: options.no_cache,
        rm: true,
        // Intermediate containers of failed steps go too.
        forcerm: true,
        memory: options
            .memory_bytes
            .map(|m| match runtime.policy.limits.max_memory {
                Some(max) => m.min(max),
                None => m,
            })
            .map(|m| m.clamp(0, i64::from(i32::MAX)) as i32),
        cpuperiod: options.cpus.map(|_| CPU_PERIOD_MICROS),
        cpuquota: options.cpus.map(|cpus| {
            (cpus * f64::from(CPU_PERIOD_MICROS)).clamp(1000.0, f64::from(i32::MAX)) as i32
        }),
        // Steps that fetch nothing get no network: nothing on this host or
        // its networks is in their reach.
        networkmode: options.no_network.then(|| "none".to_string()),
        cpushares: options
            .cpu_shares
            .or(runtime.policy.limits.default_cpu_shares)
            .map(|c| c.clamp(0, i64::from(i32::MAX)) as i32),
        buildargs: strings(&options.build_args),
        labels: strings(&options.labels),
        target: options.target.clone().unwrap_or_default(),
        version: BuilderVersion::BuilderV1,
        ..Default::default()
    };
    let mut stream =
        runtime
            .docker
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
        None => runtime
            .docker
            .inspect_image(&options.tag)
            .await
            .map_err(|e| classify(e, &options.tag))?
            .id
            .ok_or_else(|| RuntimeError::Engine(format!("{} was not built", options.tag))),
    }
}
