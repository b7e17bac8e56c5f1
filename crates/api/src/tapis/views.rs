//! The Tapis success envelope `{status, message, result, version, metadata}`
//! and the pods, templates, tags, files, command results, images and tokens
//! it carries.

use axum::Json;
use berth_core::instance_io::{CommandOutcome, FileEntry};
use berth_core::model::Desired;
use berth_core::model::rfc3339;
use berth_core::pods::{self, definition_json, pod_meta, pod_status};
use berth_core::templates::{Template, TemplateTag};
use berth_core::workload::Workload;
use serde_json::{Value, json};

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

/// A pod as Tapis shows it: its definition plus live status.
pub fn pod(w: &Workload, domain: &str, tenant: &str) -> Value {
    let meta = pod_meta(&w.app);
    let desired = w.app.desired;
    let instance = w
        .instances
        .iter()
        .filter(|i| i.release == w.app.release)
        .max_by_key(|i| i.updated);
    let status = pod_status(desired, w.phase, instance);
    let mut v = definition_json(&meta.definition);
    if let Some(net) = v["networking"].as_object_mut() {
        for entry in net.values_mut() {
            entry["url"] = json!(format!("{}.{domain}", w.app.id));
        }
    }
    if v["networking"].as_object().is_none_or(|n| n.is_empty()) {
        v["networking"] = json!({"default": {"protocol": "http", "port": 5000, "url": format!("{}.{domain}", w.app.id)}});
    }
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
        "phase": instance.map(|i| i.state.as_str()),
        "message": instance.and_then(|i| i.message.clone()).or(w.app.error.clone()).unwrap_or_default(),
        "exit_code": instance.and_then(|i| i.exit_code),
    });
    v["time_to_stop_ts"] = json!(w.app.stop_at.map(rfc3339));
    v["creation_ts"] = json!(rfc3339(w.app.created));
    v["update_ts"] = json!(rfc3339(w.app.updated));
    v["start_instance_ts"] = json!(meta.start_instance_ts);
    v["tenant_id"] = json!(tenant);
    v["site_id"] = json!("berth");
    v
}

pub fn template(t: &Template) -> Value {
    json!({
        "template_id": t.template_id, "description": t.description, "metatags": t.metatags,
        "archive_message": t.archive_message, "owner": t.owner,
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
pub fn permissions(perms: Vec<String>) -> Value {
    json!({ "permissions": perms })
}

/// A file or directory in a pod, in both spellings the clients read.
pub fn file(e: &FileEntry) -> Value {
    json!({
        "name": e.name, "path": e.path, "type": e.kind, "size": e.size,
        "last_modified": rfc3339(e.modified), "lastModified": rfc3339(e.modified),
        "native_permissions": e.permissions, "nativePermissions": e.permissions,
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
