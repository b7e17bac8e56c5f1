//! A pod's `volume_mounts`: each key names a volume (`tapisvolume`), a
//! snapshot (`tapissnapshot`, always read-only) or, for `ephemeral`, just
//! the mount; an `ephemeral` mount with `config_content` is that file,
//! with its `config_permissions` mode, at `mount_path`. Beside the spec's
//! `type`, `mount_path` and `sub_path`, Berth reads `read_only` (volumes)
//! and `config_content` / `config_permissions` (ephemeral).
//!
//! The mounts become the release's run policy when the pod is created or
//! (re)started, checked against the actor's access then.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::archive::normal_parts;
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::service::Berth;
use crate::volume_files::{ConfigFile, FolderKind};

/// Where a mount goes when it names no `mount_path` (Tapis's default).
pub const DEFAULT_MOUNT_PATH: &str = "/tapis_volume_mount";
const FIELDS: [&str; 6] = [
    "type",
    "mount_path",
    "sub_path",
    "read_only",
    "config_content",
    "config_permissions",
];
const DEFAULT_CONFIG_MODE: u32 = 0o644;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MountSource {
    Volume {
        read_only: bool,
    },
    Snapshot {
        sub_path: Vec<String>,
    },
    Config {
        content: String,
        mode: u32,
    },
    /// An `ephemeral` mount without content: the container's own filesystem.
    Scratch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodMount {
    /// The key: a volume or snapshot id, or the ephemeral mount's name.
    pub name: String,
    pub target: String,
    pub source: MountSource,
}

fn invalid(name: &str, why: impl std::fmt::Display) -> CoreError {
    CoreError::invalid_field("volume_mounts", format!("{name}: {why}"))
}

fn text<'a>(name: &str, mount: &'a Map<String, Value>, field: &str) -> CoreResult<&'a str> {
    match mount.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(name, format!("{field} must be a string"))),
    }
}

/// `0644`, `644` or `0o644` (or the number 644, read as octal digits).
fn config_mode(name: &str, value: Option<&Value>) -> CoreResult<u32> {
    let digits = match value {
        None | Some(Value::Null) => return Ok(DEFAULT_CONFIG_MODE),
        Some(Value::String(s)) => s.trim().trim_start_matches("0o").to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => String::new(),
    };
    match u32::from_str_radix(&digits, 8) {
        Ok(mode) if mode <= 0o777 && !digits.is_empty() => Ok(mode),
        _ => Err(invalid(
            name,
            "config_permissions must be an octal mode like \"0644\"",
        )),
    }
}

/// The checked mounts of a definition, in key order.
pub(crate) fn parse_mounts(mounts: &Map<String, Value>) -> CoreResult<Vec<PodMount>> {
    let mut out: Vec<PodMount> = Vec::new();
    for (name, mount) in mounts {
        let Some(mount) = mount.as_object() else {
            return Err(invalid(name, "must be an object"));
        };
        if let Some(field) = mount.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(invalid(name, format!("unknown field {field}")));
        }
        let kind = text(name, mount, "type")?;
        let mount_path = match text(name, mount, "mount_path")? {
            "" => DEFAULT_MOUNT_PATH,
            path => path,
        };
        let parts = normal_parts(mount_path)
            .ok()
            .filter(|p| mount_path.starts_with('/') && !p.is_empty())
            .ok_or_else(|| {
                invalid(
                    name,
                    "mount_path must be an absolute path other than / without '..'",
                )
            })?;
        let target = format!("/{}", parts.join("/"));
        let sub_path: Vec<String> = normal_parts(text(name, mount, "sub_path")?)
            .map_err(|_| invalid(name, "sub_path must not contain '..'"))?
            .into_iter()
            .map(String::from)
            .collect();
        let read_only = match mount.get("read_only") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid(name, "read_only must be true or false")),
        };
        let has_config = mount.contains_key("config_content");
        let source = match kind {
            "tapisvolume" | "tapissnapshot" => {
                super::volumes::validate_folder_id("volume_mounts", name)
                    .map_err(|_| invalid(name, format!("is not a {kind} id")))?;
                if has_config {
                    return Err(invalid(name, "config_content is for ephemeral mounts"));
                }
                if kind == "tapisvolume" {
                    // A pod may turn a folder of a volume into a link; a
                    // sub_path through it would mount whatever it points at.
                    if !sub_path.is_empty() {
                        return Err(invalid(
                            name,
                            "sub_path is not available for tapisvolume mounts; mount the volume whole",
                        ));
                    }
                    MountSource::Volume { read_only }
                } else {
                    MountSource::Snapshot { sub_path }
                }
            }
            "ephemeral" if has_config => MountSource::Config {
                content: text(name, mount, "config_content")?.to_string(),
                mode: config_mode(name, mount.get("config_permissions"))?,
            },
            "ephemeral" => MountSource::Scratch,
            other => {
                return Err(invalid(
                    name,
                    format!(
                        "type '{other}' is not available; use tapisvolume, tapissnapshot or ephemeral"
                    ),
                ));
            }
        };
        if source != MountSource::Scratch && out.iter().any(|m| m.target == target) {
            return Err(invalid(name, format!("{target} is mounted twice")));
        }
        out.push(PodMount {
            name: name.clone(),
            target,
            source,
        });
    }
    Ok(out)
}

/// Names a config file's content and mode.
fn config_key(content: &str, mode: u32) -> String {
    let digest = Sha256::digest(format!("{mode:o}\0{content}").as_bytes());
    hex::encode(&digest[..8])
}

impl Berth {
    /// The host folders and files a pod's instances mount, each checked
    /// against what `actor` may use: READ on a snapshot or a read-only
    /// volume, USER on a volume mounted read-write.
    pub(crate) async fn pod_mounts(
        &self,
        actor: &User,
        pod_id: &str,
        volume_mounts: &Map<String, Value>,
    ) -> CoreResult<Vec<BindMount>> {
        let mut binds = Vec::new();
        for mount in parse_mounts(volume_mounts)? {
            let name = mount.name.clone();
            let missing = |e: CoreError| match e {
                CoreError::NotFound(m) => invalid(&name, m),
                other => other,
            };
            let (source, read_only) = match mount.source {
                MountSource::Scratch => continue,
                MountSource::Volume { read_only } => {
                    let need = if read_only { Level::Read } else { Level::User };
                    self.volume(actor, &name, need).await.map_err(missing)?;
                    let id = name.clone();
                    let path = self
                        .on_folders(move |f| f.host_path(FolderKind::Volume, &id, &[]))
                        .await
                        .map_err(missing)?;
                    (path, read_only)
                }
                MountSource::Snapshot { sub_path } => {
                    self.snapshot(actor, &name, Level::Read)
                        .await
                        .map_err(missing)?;
                    let id = name.clone();
                    let path = self
                        .on_folders(move |f| {
                            let parts: Vec<&str> = sub_path.iter().map(String::as_str).collect();
                            f.host_path(FolderKind::Snapshot, &id, &parts)
                        })
                        .await
                        .map_err(missing)?;
                    (path, true)
                }
                MountSource::Config { content, mode } => {
                    let (pod, target) = (pod_id.to_string(), mount.target.clone());
                    let path = self
                        .on_folders(move |f| {
                            let file_name = target.rsplit('/').next().unwrap_or("config");
                            f.config_file(&ConfigFile {
                                pod_id: &pod,
                                key: &config_key(&content, mode),
                                file_name,
                                content: &content,
                                mode,
                            })
                        })
                        .await?;
                    (path, true)
                }
            };
            binds.push(BindMount {
                source: source.to_string_lossy().into_owned(),
                target: mount.target,
                read_only,
            });
        }
        Ok(binds)
    }

    /// Forgets a deleted pod's config files.
    pub(crate) async fn discard_pod_configs(&self, pod_id: &str) {
        let id = pod_id.to_string();
        if let Err(e) = self.on_folders(move |f| f.remove_configs(&id)).await {
            tracing::warn!(pod = pod_id, error = %e, "pod config files not removed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> CoreResult<Vec<PodMount>> {
        parse_mounts(v.as_object().unwrap())
    }

    #[test]
    fn mounts_are_checked() {
        let mounts = parse(json!({
            "shared": {"type": "tapisvolume", "mount_path": "/data/", "read_only": true},
            "snap": {"type": "tapissnapshot", "sub_path": "a/b"},
            "conf": {"type": "ephemeral", "mount_path": "/etc/app.conf",
                     "config_content": "x=1", "config_permissions": "0600"},
            "tmp": {"type": "ephemeral"},
        }))
        .unwrap();
        assert_eq!(mounts[0].target, "/etc/app.conf");
        assert_eq!(
            mounts[0].source,
            MountSource::Config {
                content: "x=1".into(),
                mode: 0o600
            }
        );
        assert_eq!(mounts[1].source, MountSource::Volume { read_only: true });
        assert_eq!(mounts[1].target, "/data");
        assert_eq!(
            mounts[2].source,
            MountSource::Snapshot {
                sub_path: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(mounts[2].target, DEFAULT_MOUNT_PATH);
        assert_eq!(mounts[3].source, MountSource::Scratch);
        for bad in [
            json!({"v": {"type": "pvc"}}),
            json!({"v": {"type": "tapisvolume", "mount_path": "relative"}}),
            json!({"vol": {"type": "tapisvolume", "mount_path": "/"}}),
            json!({"vol": {"type": "tapisvolume", "sub_path": "x"}}),
            json!({"vol": {"type": "tapisvolume", "bogus": 1}}),
            json!({"Bad_Id": {"type": "tapisvolume"}}),
            json!({"c": {"type": "ephemeral", "config_content": "x", "config_permissions": "999"}}),
            json!({"aaa": {"type": "tapisvolume"}, "bbb": {"type": "tapissnapshot"}}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_modes() {
        assert_eq!(config_mode("c", Some(&json!("0640"))).unwrap(), 0o640);
        assert_eq!(config_mode("c", Some(&json!("0o600"))).unwrap(), 0o600);
        assert_eq!(config_mode("c", Some(&json!(755))).unwrap(), 0o755);
        assert_eq!(config_mode("c", None).unwrap(), 0o644);
        assert_ne!(config_key("a", 0o600), config_key("a", 0o644));
    }
}
