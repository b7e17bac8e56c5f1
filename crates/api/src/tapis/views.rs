//! The Tapis success envelope `{status, message, result, version, metadata}`
//! and the pods, templates, tags, files, command results, images, volumes,
//! snapshots and tokens it carries.

use axum::Json;
use berth_core::instance_io::{CommandOutcome, FileEntry};
use berth_core::model::volume::{AllowedImage, Snapshot, Volume};
use berth_core::model::{Desired, Instance, InstanceState, Level, User, rfc3339};
use berth_core::plan::Phase;
use berth_core::pods::volumes::{MB, Stored};
use berth_core::pods::{self, PodDefinition, networking, pod_meta};
use berth_core::templates::{Template, TemplateTag};
use berth_core::workload::Workload;
use serde_json::{Map, Value, json};

pub const VERSION: &str = concat!("berth-", env!("CARGO_PKG_VERSION"));

/// A successful answer in the Tapis envelope.
pub fn ok(message: &str, result: Value) -> Json<Value> {
    ok_with_metadata(message, result, json!({}))
}

pub fn ok_with_metadata(message: &str, result: Value, metadata: Value) -> Json<Value> {
    Json(
        json!({"status": "success", "message": message, "result": result, "version": VERSION, "metadata": metadata}),
    )
}

/// A pod's Tapis status, from what it is asked to be, its phase and its
/// newest instance of the current release.
pub fn pod_status(desired: Desired, phase: Phase, instance: Option<&Instance>) -> &'static str {
    if desired == Desired::Off {
        return if phase == Phase::Stopping {
            "DELETING"
        } else {
            "STOPPED"
        };
    }
    match instance {
        None => "REQUESTED",
        Some(i) => match i.state {
            InstanceState::Created => "SPAWNER SETUP",
            InstanceState::Starting => "CREATING",
            InstanceState::Up => "AVAILABLE",
            InstanceState::Crashed if i.exit_code == Some(0) => "COMPLETE",
            InstanceState::Crashed | InstanceState::Error => "ERROR",
            // Stopped by Berth while the pod was off; the next pass starts it.
            InstanceState::Down => "REQUESTED",
            InstanceState::Destroyed => "STOPPED",
        },
    }
}

/// The Kubernetes phase name Tapis shows in `status_container.phase`.
/// An exit Berth caused (a stop) is never `Failed`.
pub fn container_phase(desired: Desired, instance: &Instance) -> &'static str {
    match instance.state {
        InstanceState::Created | InstanceState::Starting => "Pending",
        InstanceState::Down if desired != Desired::Off => "Pending",
        InstanceState::Up => "Running",
        InstanceState::Crashed if instance.exit_code == Some(0) => "Succeeded",
        InstanceState::Down | InstanceState::Destroyed => "Succeeded",
        InstanceState::Crashed | InstanceState::Error => "Failed",
    }
}

/// A pod definition as Tapis shows one: an unset `status_requested` is ON
/// and an unset `compute_queue` is `default`.
pub fn definition_json(d: &PodDefinition) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or_else(|_| json!({}));
    if v["status_requested"] == "" {
        v["status_requested"] = json!("ON");
    }
    if v["compute_queue"] == "" {
        v["compute_queue"] = json!("default");
    }
    v
}

/// A pod's networking as it runs: each entry as written, with the `url`
/// (host) it is reached at; without entries, the default one.
pub fn networking_json(pod_id: &str, networking: &Map<String, Value>, domain: &str) -> Value {
    let mut shown = Map::new();
    for endpoint in networking::pod_endpoints(pod_id, networking, domain) {
        let mut entry = match networking.get(&endpoint.name) {
            Some(Value::Object(given)) => given.clone(),
            _ => Map::from_iter([
                ("protocol".to_string(), json!(endpoint.protocol.as_str())),
                ("port".to_string(), json!(endpoint.port)),
            ]),
        };
        entry.insert("url".into(), json!(endpoint.host));
        shown.insert(endpoint.name, Value::Object(entry));
    }
    Value::Object(shown)
}

/// A pod as Tapis shows it: its definition plus live status (and, as the
/// Pods service leaves them out, not its tenant and site).
pub fn pod(w: &Workload, domain: &str) -> Value {
    let meta = pod_meta(&w.app);
    let desired = w.app.desired;
    let instance = w
        .instances
        .iter()
        .filter(|i| i.release == w.app.release)
        .max_by_key(|i| i.updated);
    let status = pod_status(desired, w.phase, instance);
    let mut v = definition_json(&meta.definition);
    pods::hide_secret_map(&mut v);
    v["networking"] = networking_json(&w.app.id, &meta.derived.networking, domain);
    v["image"] = json!(meta.derived.image);
    v["time_to_stop_default"] = json!(
        meta.derived
            .time_to_stop_default
            .unwrap_or(pods::DEFAULT_TIME_TO_STOP)
    );
    v["status_requested"] = json!(match desired {
        Desired::On => "ON",
        Desired::Off => "OFF",
        Desired::Restart => "RESTART",
    });
    v["status"] = json!(status);
    v["status_container"] = json!({
        "phase": instance.map(|i| container_phase(desired, i)),
        "message": instance.and_then(|i| i.message.clone()).or(w.app.error.clone()).unwrap_or_default(),
        "exit_code": instance.and_then(|i| i.exit_code),
    });
    v["time_to_stop_ts"] = json!(w.app.stop_at.map(rfc3339));
    v["creation_ts"] = json!(rfc3339(w.app.created));
    v["update_ts"] = json!(rfc3339(w.app.updated));
    v["start_instance_ts"] = json!(meta.start_instance_ts);
    v
}

/// A template as the spec's `TemplateResponseModel` has it (no other field).
pub fn template(t: &Template) -> Value {
    json!({
        "template_id": t.template_id, "description": t.description, "metatags": t.metatags,
        "archive_message": t.archive_message,
        "creation_ts": rfc3339(t.created), "update_ts": rfc3339(t.updated),
    })
}

pub fn tag(t: &TemplateTag) -> Value {
    json!({
        "template_id": t.template_id, "tag": t.tag, "tag_timestamp": t.tag_timestamp,
        "pod_definition": t.pod_definition, "commit_message": t.commit_message,
        "added_by": t.added_by, "creation_ts": rfc3339(t.created),
    })
}

pub fn tags(tags: &[TemplateTag]) -> Value {
    Value::Array(tags.iter().map(tag).collect())
}

/// A permission list, `user:LEVEL` each.
pub fn permissions(perms: &[(String, Level)]) -> Value {
    let perms: Vec<String> = perms
        .iter()
        .map(|(user, level)| format!("{user}:{}", level.as_str()))
        .collect();
    json!({ "permissions": perms })
}

/// A file or directory in a pod, in both spellings the clients read.
pub fn pod_file(e: &FileEntry) -> Value {
    json!({
        "name": e.name, "path": e.path, "type": e.kind, "size": e.size,
        "last_modified": rfc3339(e.modified), "lastModified": rfc3339(e.modified),
        "native_permissions": e.permissions, "nativePermissions": e.permissions,
    })
}

/// A file or directory in a volume or snapshot: the spec's `FileModel`,
/// which allows no other field.
pub fn stored_file(e: &FileEntry) -> Value {
    json!({
        "name": e.name, "path": e.path, "type": e.kind, "size": e.size,
        "lastModified": rfc3339(e.modified), "nativePermissions": e.permissions,
    })
}

/// One command's outcome in an exec answer.
pub fn command(o: &CommandOutcome) -> Value {
    json!({
        "command": o.argv.join(" "),
        "output": format!("{}{}", o.stdout, o.stderr),
        "stdout": o.stdout,
        "stderr": o.stderr,
        "exit_code": o.exit_code,
        "timed_out": o.timed_out,
        "duration_ms": o.duration_ms,
    })
}

/// An image pods may use.
pub fn image(image: &str, tenant: &str) -> Value {
    json!({"image": image, "tenants": [tenant], "description": "", "added_by": "berth", "creation_ts": null})
}

/// An image allow-list entry.
pub fn allowed_image(i: &AllowedImage) -> Value {
    json!({
        "image": i.image, "tenants": i.tenants, "description": i.description,
        "added_by": i.added_by, "creation_ts": rfc3339(i.created),
    })
}

/// Bytes in Tapis's MB, rounded up; `status` says whether they could be counted.
fn size_and_status(used_bytes: Option<u64>) -> (u64, &'static str) {
    match used_bytes {
        Some(bytes) => (bytes.div_ceil(MB), "AVAILABLE"),
        None => (0, "ERROR"),
    }
}

pub fn volume(v: &Stored<Volume>) -> Value {
    let (size, status) = size_and_status(v.used_bytes);
    let v = &v.item;
    json!({
        "volume_id": v.volume_id, "description": v.description, "size_limit": v.size_limit,
        "size": size, "status": status,
        "creation_ts": rfc3339(v.created), "update_ts": rfc3339(v.updated),
    })
}

pub fn snapshot(s: &Stored<Snapshot>) -> Value {
    let (size, status) = size_and_status(s.used_bytes);
    let s = &s.item;
    json!({
        "snapshot_id": s.snapshot_id, "source_volume_id": s.source_volume_id,
        "source_volume_path": s.source_volume_path, "destination_path": s.destination_path,
        "description": s.description, "size_limit": s.size_limit, "cron": s.cron,
        "retention_policy": s.retention_policy, "size": size, "status": status,
        "creation_ts": rfc3339(s.created), "update_ts": rfc3339(s.updated),
    })
}

/// What a Tapis access token says of its holder; Berth adds the claims
/// that tie it to the stored token (`jti`, `iat`, `exp`).
pub fn claims(user: &User, tenant: &str) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(format!("{}@{tenant}", user.username)));
    claims.insert("iss".into(), json!("berth"));
    claims.insert("tapis/username".into(), json!(user.username));
    claims.insert("tapis/tenant_id".into(), json!(tenant));
    claims.insert("tapis/token_type".into(), json!("access"));
    claims
}

/// An issued access token.
pub fn access_token(
    jwt: &str,
    ttl: time::Duration,
    expires: berth_core::model::Timestamp,
) -> Value {
    json!({"access_token": {
        "access_token": jwt,
        "expires_in": ttl.whole_seconds(),
        "expires_at": rfc3339(expires),
        "jti": null,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(pod_status(Desired::Off, Phase::Stopped, None), "STOPPED");
        assert_eq!(pod_status(Desired::Off, Phase::Stopping, None), "DELETING");
        assert_eq!(pod_status(Desired::On, Phase::Creating, None), "REQUESTED");
        let mut i = Instance {
            state: InstanceState::Up,
            ..Instance::new("a", 2, "cmd", 1)
        };
        assert_eq!(
            pod_status(Desired::On, Phase::Running, Some(&i)),
            "AVAILABLE"
        );
        i.state = InstanceState::Crashed;
        i.exit_code = Some(0);
        assert_eq!(
            pod_status(Desired::On, Phase::Stopped, Some(&i)),
            "COMPLETE"
        );
        i.exit_code = Some(2);
        assert_eq!(pod_status(Desired::On, Phase::Stopped, Some(&i)), "ERROR");
    }

    #[test]
    fn unset_definition_fields_show_their_defaults() {
        let v = definition_json(&PodDefinition {
            pod_id: "mypod".into(),
            ..PodDefinition::default()
        });
        assert_eq!(v["status_requested"], "ON");
        assert_eq!(v["compute_queue"], "default");
    }
}
