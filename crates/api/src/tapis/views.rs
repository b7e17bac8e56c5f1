//! The Tapis success envelope `{status, message, result, version, metadata}`
//! and the pods, templates, tags, files, command results, images, volumes,
//! snapshots and tokens it carries, each a typed wire shape.
//!
//! Fields are declared in the byte order of their wire names: that is the
//! order the answers have always had (JSON objects built as sorted maps).

use std::collections::BTreeMap;

use axum::Json;
use berth_core::instance_io::{CommandOutcome, FileEntry};
use berth_core::model::volume::{AllowedImage, Snapshot, Volume};
use berth_core::model::{Desired, Instance, InstanceState, Level, User, rfc3339};
use berth_core::plan::Phase;
use berth_core::pods::volumes::{MB, Stored};
use berth_core::pods::{self, PodDefinition, networking, pod_meta};
use berth_core::templates::{Template, TemplateTag};
use berth_core::workload::Workload;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

pub const VERSION: &str = concat!("berth-", env!("CARGO_PKG_VERSION"));

/// Every Tapis answer: `status` `success` with the `result`, or `error`
/// with a null `result` and the reason in `message`.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisEnvelope<T>)]
pub struct Envelope<T> {
    pub message: String,
    pub metadata: Metadata,
    pub result: T,
    /// `success` or `error`.
    pub status: &'static str,
    /// The server's version, `berth-<version>`.
    pub version: &'static str,
}

/// What an answer says besides its result; empty but for a pod's
/// `unresolved_patterns`.
#[derive(Serialize, ToSchema, Default)]
#[schema(as = TapisMetadata)]
pub struct Metadata {
    /// The `${...}` patterns of the pod's environment that no secret fills.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unresolved_patterns: Option<Vec<String>>,
}

/// The `result` of an error answer: always null.
#[derive(Serialize)]
pub struct Null;

/// The schema of [`Null`].
pub fn null_schema() -> Schema {
    ObjectBuilder::new().schema_type(Type::Null).into()
}

/// A successful answer in the Tapis envelope.
pub fn ok<T>(message: &str, result: T) -> Json<Envelope<T>> {
    ok_with_metadata(message, result, Metadata::default())
}

pub fn ok_with_metadata<T>(message: &str, result: T, metadata: Metadata) -> Json<Envelope<T>> {
    Json(Envelope {
        message: message.to_string(),
        metadata,
        result,
        status: "success",
        version: VERSION,
    })
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

/// A pod definition as Tapis shows one (the derived definition): an unset
/// `status_requested` is ON and an unset `compute_queue` is `default`.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisDefinition)]
pub struct Definition {
    pub arguments: Option<Vec<String>>,
    /// The entrypoint argv.
    pub command: Option<Vec<String>>,
    pub compute_queue: String,
    pub description: String,
    /// Variable name to value (a string, or `${pods:secrets:KEY}`).
    pub environment_variables: BTreeMap<String, Value>,
    pub image: String,
    /// Endpoint name to `{protocol, port, ...}` as written.
    #[schema(value_type = Object)]
    pub networking: Map<String, Value>,
    pub pod_id: String,
    /// `cpu_request`, `cpu_limit`, `mem_request`, `mem_limit`, `gpus`.
    #[schema(value_type = Object)]
    pub resources: Map<String, Value>,
    /// Secret key to value; values show as `********` unless resolved.
    pub secret_map: BTreeMap<String, Value>,
    pub status_requested: String,
    pub template: String,
    /// Pod fields laid over the template.
    #[schema(value_type = Object)]
    pub template_overrides: Map<String, Value>,
    pub time_to_stop_default: Option<i64>,
    pub time_to_stop_instance: Option<i64>,
    /// Mount name to `{type, mount_path, ...}` as written.
    #[schema(value_type = Object)]
    pub volume_mounts: Map<String, Value>,
}

impl Definition {
    pub fn of(d: &PodDefinition) -> Definition {
        let or =
            |given: &str, default: &str| if given.is_empty() { default } else { given }.to_string();
        Definition {
            arguments: d.arguments.clone(),
            command: d.command.clone(),
            compute_queue: or(&d.compute_queue, "default"),
            description: d.description.clone(),
            environment_variables: d.environment_variables.clone(),
            image: d.image.clone(),
            networking: d.networking.clone(),
            pod_id: d.pod_id.clone(),
            resources: d.resources.clone(),
            secret_map: d.secret_map.clone(),
            status_requested: or(&d.status_requested, "ON"),
            template: d.template.clone(),
            template_overrides: d.template_overrides.clone(),
            time_to_stop_default: d.time_to_stop_default,
            time_to_stop_instance: d.time_to_stop_instance,
            volume_mounts: d.volume_mounts.clone(),
        }
    }

    /// Shows each secret value, here and in `template_overrides`, hidden.
    pub fn hide_secrets(&mut self) {
        let mut shown = json!({
            "secret_map": self.secret_map,
            "template_overrides": self.template_overrides,
        });
        pods::hide_secret_map(&mut shown);
        if let Ok(hidden) = serde_json::from_value(shown["secret_map"].take()) {
            self.secret_map = hidden;
        }
        if let Value::Object(hidden) = shown["template_overrides"].take() {
            self.template_overrides = hidden;
        }
    }
}

/// A pod's networking as it runs: each entry as written, with the `url`
/// (host) it is reached at; without entries, the default one.
pub fn networking_json(
    pod_id: &str,
    networking: &Map<String, Value>,
    domain: &str,
) -> Map<String, Value> {
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
    shown
}

/// A pod as Tapis shows it: its definition plus live status (and, as the
/// Pods service leaves them out, not its tenant and site).
#[derive(Serialize, ToSchema)]
#[schema(as = TapisPod)]
pub struct Pod {
    pub arguments: Option<Vec<String>>,
    /// The entrypoint argv.
    pub command: Option<Vec<String>>,
    pub compute_queue: String,
    pub creation_ts: String,
    pub description: String,
    /// Variable name to value (a string, or `${pods:secrets:KEY}`).
    pub environment_variables: BTreeMap<String, Value>,
    pub image: String,
    /// Endpoint name to its settings and the `url` (host) it is reached at.
    #[schema(value_type = Object)]
    pub networking: Map<String, Value>,
    pub pod_id: String,
    #[schema(value_type = Object)]
    pub resources: Map<String, Value>,
    /// Secret key to `********`.
    pub secret_map: BTreeMap<String, Value>,
    pub start_instance_ts: Option<String>,
    /// `REQUESTED`, `SPAWNER SETUP`, `CREATING`, `AVAILABLE`, `COMPLETE`,
    /// `ERROR`, `DELETING` or `STOPPED`.
    pub status: &'static str,
    pub status_container: StatusContainer,
    /// `ON`, `OFF` or `RESTART`.
    pub status_requested: &'static str,
    pub template: String,
    #[schema(value_type = Object)]
    pub template_overrides: Map<String, Value>,
    pub time_to_stop_default: i64,
    pub time_to_stop_instance: Option<i64>,
    pub time_to_stop_ts: Option<String>,
    pub update_ts: String,
    #[schema(value_type = Object)]
    pub volume_mounts: Map<String, Value>,
}

/// The pod's container as Kubernetes would show it.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisStatusContainer)]
pub struct StatusContainer {
    pub exit_code: Option<i64>,
    pub message: String,
    /// `Pending`, `Running`, `Succeeded` or `Failed`; null before a container.
    pub phase: Option<&'static str>,
}

pub fn pod(w: &Workload, domain: &str) -> Pod {
    let meta = pod_meta(&w.app);
    let desired = w.app.desired;
    let instance = w
        .instances
        .iter()
        .filter(|i| i.release == w.app.release)
        .max_by_key(|i| i.updated);
    let mut d = Definition::of(&meta.definition);
    d.hide_secrets();
    Pod {
        arguments: d.arguments,
        command: d.command,
        compute_queue: d.compute_queue,
        creation_ts: rfc3339(w.app.created),
        description: d.description,
        environment_variables: d.environment_variables,
        image: meta.derived.image.clone(),
        networking: networking_json(&w.app.id, &meta.derived.networking, domain),
        pod_id: d.pod_id,
        resources: d.resources,
        secret_map: d.secret_map,
        start_instance_ts: meta.start_instance_ts.clone(),
        status: pod_status(desired, w.phase, instance),
        status_container: StatusContainer {
            exit_code: instance.and_then(|i| i.exit_code),
            message: instance
                .and_then(|i| i.message.clone())
                .or(w.app.error.clone())
                .unwrap_or_default(),
            phase: instance.map(|i| container_phase(desired, i)),
        },
        status_requested: match desired {
            Desired::On => "ON",
            Desired::Off => "OFF",
            Desired::Restart => "RESTART",
        },
        template: d.template,
        template_overrides: d.template_overrides,
        time_to_stop_default: meta
            .derived
            .time_to_stop_default
            .unwrap_or(pods::DEFAULT_TIME_TO_STOP),
        time_to_stop_instance: d.time_to_stop_instance,
        time_to_stop_ts: w.app.stop_at.map(rfc3339),
        update_ts: rfc3339(w.app.updated),
        volume_mounts: d.volume_mounts,
    }
}

/// A template as the spec's `TemplateResponseModel` has it (no other field).
#[derive(Serialize, ToSchema)]
#[schema(as = TapisTemplate)]
pub struct TemplateView {
    pub archive_message: String,
    pub creation_ts: String,
    pub description: String,
    pub metatags: Vec<String>,
    pub template_id: String,
    pub update_ts: String,
}

pub fn template(t: &Template) -> TemplateView {
    TemplateView {
        archive_message: t.archive_message.clone(),
        creation_ts: rfc3339(t.created),
        description: t.description.clone(),
        metatags: t.metatags.clone(),
        template_id: t.template_id.clone(),
        update_ts: rfc3339(t.updated),
    }
}

/// One version of a template tag.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisTemplateTag)]
pub struct Tag {
    pub added_by: String,
    pub commit_message: String,
    pub creation_ts: String,
    /// The pod fields this version gives.
    pub pod_definition: Value,
    pub tag: String,
    /// `tag@<creation time>`: names this version for good.
    pub tag_timestamp: String,
    pub template_id: String,
}

pub fn tag(t: &TemplateTag) -> Tag {
    Tag {
        added_by: t.added_by.clone(),
        commit_message: t.commit_message.clone(),
        creation_ts: rfc3339(t.created),
        pod_definition: t.pod_definition.clone(),
        tag: t.tag.clone(),
        tag_timestamp: t.tag_timestamp.clone(),
        template_id: t.template_id.clone(),
    }
}

pub fn tags(tags: &[TemplateTag]) -> Vec<Tag> {
    tags.iter().map(tag).collect()
}

/// Who may use an object.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisPermissions)]
pub struct Permissions {
    /// `user:LEVEL` each (`READ`, `USER` or `ADMIN`).
    pub permissions: Vec<String>,
}

pub fn permissions(perms: &[(String, Level)]) -> Permissions {
    Permissions {
        permissions: perms
            .iter()
            .map(|(user, level)| format!("{user}:{}", level.as_str()))
            .collect(),
    }
}

/// A file or directory in a pod, in both spellings the clients read.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisPodFile)]
pub struct PodFile {
    #[serde(rename = "lastModified")]
    pub last_modified_camel: String,
    pub last_modified: String,
    pub name: String,
    #[serde(rename = "nativePermissions")]
    pub native_permissions_camel: String,
    pub native_permissions: String,
    pub path: String,
    pub size: u64,
    /// `file`, `dir` or `symlink`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

pub fn pod_file(e: &FileEntry) -> PodFile {
    PodFile {
        last_modified_camel: rfc3339(e.modified),
        last_modified: rfc3339(e.modified),
        name: e.name.clone(),
        native_permissions_camel: e.permissions.clone(),
        native_permissions: e.permissions.clone(),
        path: e.path.clone(),
        size: e.size,
        kind: e.kind,
    }
}

/// A file or directory in a volume or snapshot: the spec's `FileModel`,
/// which allows no other field.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisStoredFile)]
pub struct StoredFile {
    #[serde(rename = "lastModified")]
    pub last_modified: String,
    pub name: String,
    #[serde(rename = "nativePermissions")]
    pub native_permissions: String,
    pub path: String,
    pub size: u64,
    /// `file`, `dir` or `symlink`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

pub fn stored_file(e: &FileEntry) -> StoredFile {
    StoredFile {
        last_modified: rfc3339(e.modified),
        name: e.name.clone(),
        native_permissions: e.permissions.clone(),
        path: e.path.clone(),
        size: e.size,
        kind: e.kind,
    }
}

/// One command's outcome in an exec answer.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisCommandResult)]
pub struct CommandResult {
    /// The argv joined by spaces.
    pub command: String,
    pub duration_ms: u64,
    /// Null when the command timed out or was not run.
    pub exit_code: Option<i64>,
    /// `stdout` then `stderr`.
    pub output: String,
    pub stderr: String,
    pub stdout: String,
    pub timed_out: bool,
}

pub fn command(o: &CommandOutcome) -> CommandResult {
    CommandResult {
        command: o.argv.join(" "),
        duration_ms: u64::try_from(o.duration_ms).unwrap_or(u64::MAX),
        exit_code: o.exit_code,
        output: format!("{}{}", o.stdout, o.stderr),
        stderr: o.stderr.clone(),
        stdout: o.stdout.clone(),
        timed_out: o.timed_out,
    }
}

/// An image pods may use.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisImage)]
pub struct Image {
    pub added_by: String,
    /// Null for an image the engine has but the allow-list does not name.
    pub creation_ts: Option<String>,
    pub description: String,
    pub image: String,
    /// The tenants it applies to; empty or `*`: every tenant.
    pub tenants: Vec<String>,
}

/// An image the engine has, shown while the allow-list is off.
pub fn image(image: &str, tenant: &str) -> Image {
    Image {
        added_by: "berth".into(),
        creation_ts: None,
        description: String::new(),
        image: image.to_string(),
        tenants: vec![tenant.to_string()],
    }
}

/// An image allow-list entry.
pub fn allowed_image(i: &AllowedImage) -> Image {
    Image {
        added_by: i.added_by.clone(),
        creation_ts: Some(rfc3339(i.created)),
        description: i.description.clone(),
        image: i.image.clone(),
        tenants: i.tenants.clone(),
    }
}

/// Bytes in Tapis's MB, rounded up; `status` says whether they could be counted.
fn size_and_status(used_bytes: Option<u64>) -> (u64, &'static str) {
    match used_bytes {
        Some(bytes) => (bytes.div_ceil(MB), "AVAILABLE"),
        None => (0, "ERROR"),
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = TapisVolume)]
pub struct VolumeView {
    pub creation_ts: String,
    pub description: String,
    /// MB in use, rounded up.
    pub size: u64,
    /// MB the volume may hold.
    pub size_limit: i64,
    /// `AVAILABLE`, or `ERROR` when its size could not be counted.
    pub status: &'static str,
    pub update_ts: String,
    pub volume_id: String,
}

pub fn volume(v: &Stored<Volume>) -> VolumeView {
    let (size, status) = size_and_status(v.used_bytes);
    let v = &v.item;
    VolumeView {
        creation_ts: rfc3339(v.created),
        description: v.description.clone(),
        size,
        size_limit: v.size_limit,
        status,
        update_ts: rfc3339(v.updated),
        volume_id: v.volume_id.clone(),
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = TapisSnapshot)]
pub struct SnapshotView {
    pub creation_ts: String,
    /// Kept and shown as given: snapshots are taken once, at creation.
    pub cron: String,
    pub description: String,
    pub destination_path: String,
    pub retention_policy: String,
    /// MB in use, rounded up.
    pub size: u64,
    pub size_limit: i64,
    pub snapshot_id: String,
    pub source_volume_id: String,
    pub source_volume_path: String,
    /// `AVAILABLE`, or `ERROR` when its size could not be counted.
    pub status: &'static str,
    pub update_ts: String,
}

pub fn snapshot(s: &Stored<Snapshot>) -> SnapshotView {
    let (size, status) = size_and_status(s.used_bytes);
    let s = &s.item;
    SnapshotView {
        creation_ts: rfc3339(s.created),
        cron: s.cron.clone(),
        description: s.description.clone(),
        destination_path: s.destination_path.clone(),
        retention_policy: s.retention_policy.clone(),
        size,
        size_limit: s.size_limit,
        snapshot_id: s.snapshot_id.clone(),
        source_volume_id: s.source_volume_id.clone(),
        source_volume_path: s.source_volume_path.clone(),
        status,
        update_ts: rfc3339(s.updated),
    }
}

/// A pod's container output and what was done to it.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisPodLogs)]
pub struct PodLogs {
    /// Timestamped actions (start, stop, ...).
    pub action_logs: Vec<String>,
    /// The container's output.
    pub logs: String,
}

/// The user name and password generated for a pod, also in its environment.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisPodCredentials)]
pub struct PodCredentials {
    pub user_password: String,
    pub user_username: String,
}

/// The outcomes of an exec, in order.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisExecResults)]
pub struct ExecResults {
    pub results: Vec<CommandResult>,
}

/// Where an upload into a pod was written.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisUploaded)]
pub struct Uploaded {
    pub path: String,
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

/// An issued access token, as the `result` of `POST /v3/oauth2/tokens`.
#[derive(Serialize, ToSchema)]
#[schema(as = TapisNewToken)]
pub struct NewToken {
    pub access_token: AccessToken,
}

#[derive(Serialize, ToSchema)]
#[schema(as = TapisAccessToken)]
pub struct AccessToken {
    /// The JWT to send as `X-Tapis-Token`.
    pub access_token: String,
    pub expires_at: String,
    /// Seconds.
    pub expires_in: i64,
    /// Always null (the JWT carries its own `jti`).
    pub jti: Option<String>,
}

pub fn access_token(
    jwt: &str,
    ttl: time::Duration,
    expires: berth_core::model::Timestamp,
) -> NewToken {
    NewToken {
        access_token: AccessToken {
            access_token: jwt.to_string(),
            expires_at: rfc3339(expires),
            expires_in: ttl.whole_seconds(),
            jti: None,
        },
    }
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

    /// Each typed answer writes the bytes the map it replaces wrote.
    #[test]
    fn files_keep_their_wire_bytes() {
        let entry = FileEntry {
            name: "a.txt".into(),
            path: "/tmp/a.txt".into(),
            kind: "file",
            size: 3,
            modified: berth_core::model::now(),
            permissions: "rw-r--r--".into(),
        };
        let at = rfc3339(entry.modified);
        let as_map = json!({
            "name": "a.txt", "path": "/tmp/a.txt", "type": "file", "size": 3,
            "last_modified": at, "lastModified": at,
            "native_permissions": "rw-r--r--", "nativePermissions": "rw-r--r--",
        });
        assert_eq!(
            serde_json::to_string(&pod_file(&entry)).unwrap(),
            serde_json::to_string(&as_map).unwrap()
        );
        let as_map = json!({
            "name": "a.txt", "path": "/tmp/a.txt", "type": "file", "size": 3,
            "lastModified": at, "nativePermissions": "rw-r--r--",
        });
        assert_eq!(
            serde_json::to_string(&stored_file(&entry)).unwrap(),
            serde_json::to_string(&as_map).unwrap()
        );
    }

    #[test]
    fn an_error_keeps_its_wire_bytes() {
        let as_map = json!({"status": "error", "message": "no", "result": null,
            "version": VERSION, "metadata": {}});
        assert_eq!(
            serde_json::to_string(&super::super::error::error_body("no").0).unwrap(),
            serde_json::to_string(&as_map).unwrap()
        );
    }

    #[test]
    fn unset_definition_fields_show_their_defaults() {
        let v = Definition::of(&PodDefinition {
            pod_id: "mypod".into(),
            ..PodDefinition::default()
        });
        assert_eq!(v.status_requested, "ON");
        assert_eq!(v.compute_queue, "default");
    }
}
