//! What the engine is asked to run for an instance: its container spec,
//! resolved from the instance's release.

use std::collections::BTreeMap;

use crate::model::{Build, Config, Instance};
use crate::rules::{DEFAULT_PROC_TYPE, parse_memory};
use crate::runtime::{
    ContainerSpec, LABEL_APP, LABEL_INSTANCE, LABEL_NUM, LABEL_PROC, LABEL_RELEASE,
};

/// A container to create for an instance, resolved from its release.
pub fn instance_spec(
    app_id: &str,
    instance: &Instance,
    build: &Build,
    config: &Config,
) -> ContainerSpec {
    let mut spec = ContainerSpec {
        name: format!(
            "berth_{app_id}_{}.{}_{}",
            instance.proc_type,
            instance.num,
            &instance.uuid.simple().to_string()[..8]
        ),
        image: build.image.clone(),
        env: release_env(app_id, instance.release, config),
        labels: BTreeMap::from([
            (LABEL_APP.to_string(), app_id.to_string()),
            (LABEL_INSTANCE.to_string(), instance.uuid.to_string()),
            (LABEL_RELEASE.to_string(), instance.release.to_string()),
            (LABEL_PROC.to_string(), instance.proc_type.clone()),
            (LABEL_NUM.to_string(), instance.num.to_string()),
        ]),
        memory_bytes: config
            .values
            .memory
            .get(&instance.proc_type)
            .and_then(|m| parse_memory(m).ok()),
        cpu_shares: config
            .values
            .cpu
            .get(&instance.proc_type)
            .map(|c| i64::from(*c)),
        ports: config.values.policy.ports.clone(),
        nano_cpus: config
            .values
            .policy
            .cpu_limit_millis
            .map(|m| i64::from(m) * 1_000_000),
        ..ContainerSpec::default()
    };
    if let Some(command) = build.procfile.get(&instance.proc_type) {
        spec.entrypoint = Some(Vec::new());
        spec.cmd = Some(shell_command(command));
    } else if build.command.is_some() || build.entrypoint.is_some() {
        spec.cmd = build.command.clone();
        spec.entrypoint = build.entrypoint.clone();
    } else if instance.proc_type != DEFAULT_PROC_TYPE {
        tracing::warn!(app = app_id, proc = %instance.proc_type, "process type missing from procfile");
    }
    spec
}

/// Procfile entries and `run` commands are command lines for the image's shell.
pub fn shell_command(command: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), command.into()]
}

/// The environment every container of a release gets: the config values
/// plus the names Deis apps rely on.
pub fn release_env(app_id: &str, release: i64, config: &Config) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = config
        .values
        .values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    env.push(("DEIS_APP".into(), app_id.into()));
    env.push(("DEIS_RELEASE".into(), format!("v{release}")));
    env
}
