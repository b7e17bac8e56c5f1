//! What the engine is asked to run for an instance: its container spec,
//! resolved from the instance's release; and the server's limits every
//! container gets, whoever builds its spec.

use std::collections::BTreeMap;

use crate::error::{CoreError, CoreResult};
use crate::model::{Build, Config, Instance};
use crate::routing::app_port;
use crate::rules::{DEFAULT_PROC_TYPE, parse_memory};
use crate::runtime::{
    ContainerSpec, LABEL_APP, LABEL_INSTANCE, LABEL_NUM, LABEL_PROC, LABEL_RELEASE,
};

/// A container to create for an instance, resolved from its release.
pub fn instance_spec(
    app_id: &str,
    owner_id: i64,
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
        mounts: config.values.policy.mounts.clone(),
        nano_cpus: config
            .values
            .policy
            .cpu_limit_millis
            .map(|m| i64::from(m) * 1_000_000),
        owner: Some(owner_id),
        placement: config.values.tags.clone(),
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
/// plus the names Deis apps rely on (`PORT`, `DEIS_APP`, `DEIS_RELEASE`).
pub fn release_env(app_id: &str, release: i64, config: &Config) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = config
        .values
        .values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !config.values.values.contains_key("PORT") {
        // The port the router sends traffic to, as Deis told its apps.
        env.push(("PORT".into(), app_port(&config.values).to_string()));
    }
    env.push(("DEIS_APP".into(), app_id.into()));
    env.push(("DEIS_RELEASE".into(), format!("v{release}")));
    env
}

/// The server's resource limits: what a container gets when its spec asks
/// for nothing, and the most memory any spec may ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerLimits {
    pub default_memory: Option<i64>,
    pub max_memory: Option<i64>,
    pub default_cpu_shares: Option<i64>,
    pub pids_limit: Option<i64>,
}

impl ContainerLimits {
    /// The spec with the server's defaults filled in and its memory held to
    /// the maximum: a per-app value may tighten the defaults, never loosen
    /// them past what the operator allows.
    pub fn apply(&self, spec: &ContainerSpec) -> ContainerSpec {
        let memory = spec.memory_bytes.or(self.default_memory);
        ContainerSpec {
            memory_bytes: match (memory, self.max_memory) {
                (Some(m), Some(max)) => Some(m.min(max)),
                (None, max) => max,
                (m, None) => m,
            },
            cpu_shares: spec.cpu_shares.or(self.default_cpu_shares),
            pids_limit: match (spec.pids_limit, self.pids_limit) {
                (Some(p), Some(max)) => Some(p.min(max)),
                (p, max) => p.or(max),
            },
            ..spec.clone()
        }
    }

    /// Refuses memory sizes (as configs hold them) above the operator's maximum.
    pub fn check_memory_sizes<'a>(
        &self,
        sizes: impl IntoIterator<Item = &'a String>,
    ) -> CoreResult<()> {
        sizes
            .into_iter()
            .try_for_each(|size| self.check_memory(parse_memory(size)?))
    }

    /// Refuses a per-app memory limit above the operator's maximum.
    pub fn check_memory(&self, bytes: i64) -> CoreResult<()> {
        match self.max_memory {
            Some(max) if bytes > max => Err(CoreError::invalid_field(
                "memory",
                format!("at most {} MiB of memory is allowed", max >> 20),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: i64 = 1 << 20;

    fn limits() -> ContainerLimits {
        ContainerLimits {
            default_memory: Some(512 * MIB),
            max_memory: Some(1024 * MIB),
            default_cpu_shares: Some(512),
            pids_limit: Some(256),
        }
    }

    #[test]
    fn a_spec_asking_for_nothing_gets_the_defaults() {
        let spec = limits().apply(&ContainerSpec::default());
        assert_eq!(spec.memory_bytes, Some(512 * MIB));
        assert_eq!(spec.cpu_shares, Some(512));
        assert_eq!(spec.pids_limit, Some(256));
    }

    #[test]
    fn a_spec_may_tighten_but_not_loosen() {
        let tight = ContainerSpec {
            memory_bytes: Some(64 * MIB),
            cpu_shares: Some(100),
            pids_limit: Some(10),
            ..ContainerSpec::default()
        };
        assert_eq!(limits().apply(&tight), tight);
        let loose = ContainerSpec {
            memory_bytes: Some(4096 * MIB),
            pids_limit: Some(100_000),
            ..ContainerSpec::default()
        };
        let applied = limits().apply(&loose);
        assert_eq!(applied.memory_bytes, Some(1024 * MIB));
        assert_eq!(applied.pids_limit, Some(256));
    }

    #[test]
    fn without_a_default_the_maximum_applies() {
        let only_max = ContainerLimits {
            max_memory: Some(MIB * 100),
            ..ContainerLimits::default()
        };
        let spec = only_max.apply(&ContainerSpec::default());
        assert_eq!(spec.memory_bytes, Some(MIB * 100));
        assert_eq!(ContainerLimits::default().apply(&spec), spec);
    }

    #[test]
    fn memory_above_the_maximum_is_refused() {
        assert!(limits().check_memory(1024 * MIB).is_ok());
        let err = limits().check_memory(1025 * MIB).unwrap_err();
        assert!(err.to_string().contains("1024 MiB"), "{err}");
        assert!(ContainerLimits::default().check_memory(i64::MAX).is_ok());
        let sizes = ["512M".to_string(), "2G".to_string()];
        assert!(limits().check_memory_sizes(&sizes[..1]).is_ok());
        assert!(limits().check_memory_sizes(&sizes).is_err());
    }
}
