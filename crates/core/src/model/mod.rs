//! Domain types. Timestamps are UTC; the store keeps them as RFC 3339 text.

pub mod catalog;
pub mod job;
pub mod template;
pub mod volume;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub type Timestamp = OffsetDateTime;

pub fn now() -> Timestamp {
    // Microsecond precision keeps text round-trips through the store exact.
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub tenant: String,
    pub name: PersonalName,
    pub created: Timestamp,
    pub last_login: Option<Timestamp>,
}

/// A user's given and family name, as Deis accounts carry them
/// (`first_name`, `last_name`); each empty when not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonalName {
    pub first: String,
    pub last: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: Uuid,
    pub user_id: i64,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    App,
    Pod,
}

/// What the owner wants the app to be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Desired {
    On,
    Off,
    Restart,
}

impl Desired {
    pub fn as_str(self) -> &'static str {
        match self {
            Desired::On => "ON",
            Desired::Off => "OFF",
            Desired::Restart => "RESTART",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ON" => Some(Desired::On),
            "OFF" => Some(Desired::Off),
            "RESTART" => Some(Desired::Restart),
            _ => None,
        }
    }
}

/// Process type → number of instances.
pub type Structure = BTreeMap<String, u32>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub uuid: Uuid,
    pub owner_id: i64,
    pub owner: String,
    pub kind: AppKind,
    pub desired: Desired,
    pub structure: Structure,
    pub release: i64,
    /// Set by the reconciler when the app cannot run (missing image, engine refusal).
    pub error: Option<String>,
    /// When the reconciler turns the app off (Tapis time to stop).
    pub stop_at: Option<Timestamp>,
    /// Dialect-specific definition fields core keeps but does not interpret
    /// (a Tapis pod's description, networking, resources, credentials…).
    pub meta: serde_json::Value,
    pub created: Timestamp,
    pub updated: Timestamp,
}

impl App {
    /// A new app of `owner`'s at release 1, on, with nothing to run yet.
    pub fn new(id: &str, owner: &User, kind: AppKind, at: Timestamp) -> App {
        App {
            id: id.to_string(),
            uuid: Uuid::new_v4(),
            owner_id: owner.id,
            owner: owner.username.clone(),
            kind,
            desired: Desired::On,
            structure: Structure::new(),
            release: 1,
            error: None,
            stop_at: None,
            meta: serde_json::Value::Null,
            created: at,
            updated: at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    pub uuid: Uuid,
    pub app_id: String,
    pub owner: String,
    pub image: String,
    pub procfile: BTreeMap<String, String>,
    /// Overrides the image's CMD (argv) for types without a Procfile entry.
    pub command: Option<Vec<String>>,
    /// Overrides the image's ENTRYPOINT (argv).
    pub entrypoint: Option<Vec<String>>,
    pub dockerfile: String,
    pub sha: String,
    pub created: Timestamp,
}

/// A container port to publish; the engine picks the host port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    pub inner: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// A container port as the engine published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPort {
    pub inner: u16,
    pub outer: Option<u16>,
    pub protocol: String,
}

/// When Berth starts an exited instance again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartPolicy {
    #[default]
    Always,
    OnFailure,
    Never,
}

/// When an exited instance is removed for good, lowering its type's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoDestroy {
    #[default]
    Off,
    OnSuccess,
    OnFailure,
    Always,
}

/// How instances of a release run: ports and what happens when they exit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunPolicy {
    pub ports: Vec<PortSpec>,
    pub restart: RestartPolicy,
    pub autodestroy: AutoDestroy,
    /// When to replace an instance whose container vanished (Tutum's
    /// autoreplace). Berth recreates vanished containers in every case;
    /// the setting is kept because Tutum users set and read it.
    pub autoreplace: AutoDestroy,
    /// A hard CPU limit in millicpus (Tapis `cpu_limit`); shares are only weights.
    pub cpu_limit_millis: Option<u32>,
    /// Folders (or single files) Berth keeps that every instance mounts:
    /// Tapis volumes, snapshots and pod config files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<BindMount>,
}

/// A host directory (or file) Berth manages, bind-mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindMount {
    /// Absolute host path.
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConfigValues {
    pub values: BTreeMap<String, String>,
    /// Process type → memory limit as written ("512M").
    pub memory: BTreeMap<String, String>,
    /// Process type → CPU shares.
    pub cpu: BTreeMap<String, u32>,
    pub tags: BTreeMap<String, String>,
    pub policy: RunPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub uuid: Uuid,
    pub app_id: String,
    pub owner: String,
    pub values: ConfigValues,
    pub created: Timestamp,
}

impl Config {
    pub fn new(app_id: &str, owner: &str, values: ConfigValues, at: Timestamp) -> Config {
        Config {
            uuid: Uuid::new_v4(),
            app_id: app_id.to_string(),
            owner: owner.to_string(),
            values,
            created: at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub uuid: Uuid,
    pub app_id: String,
    pub owner: String,
    pub version: i64,
    pub build: Option<Uuid>,
    pub config: Uuid,
    pub summary: String,
    pub created: Timestamp,
}

impl Release {
    /// Version `version` of `app_id`, running `build` (if any) with `config`.
    pub fn new(
        app_id: &str,
        owner: &str,
        version: i64,
        (build, config): (Option<Uuid>, Uuid),
        summary: String,
        at: Timestamp,
    ) -> Release {
        Release {
            uuid: Uuid::new_v4(),
            app_id: app_id.to_string(),
            owner: owner.to_string(),
            version,
            build,
            config,
            summary,
            created: at,
        }
    }
}

/// Observed state of one instance, as Deis names container states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum InstanceState {
    Created,
    Starting,
    Up,
    Down,
    Crashed,
    Error,
    Destroyed,
}

impl InstanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Created => "created",
            InstanceState::Starting => "starting",
            InstanceState::Up => "up",
            InstanceState::Down => "down",
            InstanceState::Crashed => "crashed",
            InstanceState::Error => "error",
            InstanceState::Destroyed => "destroyed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "created" => InstanceState::Created,
            "starting" => InstanceState::Starting,
            "up" => InstanceState::Up,
            "down" => InstanceState::Down,
            "crashed" => InstanceState::Crashed,
            "error" => InstanceState::Error,
            "destroyed" => InstanceState::Destroyed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub uuid: Uuid,
    pub app_id: String,
    pub release: i64,
    pub proc_type: String,
    pub num: u32,
    pub state: InstanceState,
    pub exit_code: Option<i64>,
    pub message: Option<String>,
    pub engine_id: Option<String>,
    pub node: Option<String>,
    /// Restarts since the instance last stayed up; drives the backoff.
    pub restarts: u32,
    pub next_restart: Option<Timestamp>,
    /// A user asked for this instance to be restarted; cleared once done.
    pub restart_requested: bool,
    /// A user stopped this one instance; it stays stopped until started.
    pub stopped: bool,
    pub ports: Vec<PublishedPort>,
    /// Where the router reaches the instance: its IP on its tenant network,
    /// or an `ip:port` endpoint the engine published its app port on
    /// (see [`crate::routing::instance_endpoint`]).
    pub address: Option<String>,
    /// Up and found healthy since it last came up: the router may send it traffic.
    pub ready: bool,
    pub created: Timestamp,
    pub updated: Timestamp,
}

impl Instance {
    /// A new instance of a slot, not yet backed by a container.
    pub fn new(app_id: &str, release: i64, proc_type: &str, num: u32) -> Self {
        let t = now();
        Instance {
            uuid: Uuid::new_v4(),
            app_id: app_id.to_string(),
            release,
            proc_type: proc_type.to_string(),
            num,
            state: InstanceState::Created,
            exit_code: None,
            message: None,
            engine_id: None,
            node: None,
            restarts: 0,
            next_restart: None,
            restart_requested: false,
            stopped: false,
            ports: Vec::new(),
            address: None,
            ready: false,
            created: t,
            updated: t,
        }
    }
}

/// What decides an app's traffic: the app, its current config and its domains.
#[derive(Debug, Clone)]
pub struct AppTraffic {
    pub app: App,
    pub config: ConfigValues,
    pub domains: Vec<String>,
}

/// How long a deleted app stays listed (Tutum shows it as Terminated).
pub const TOMBSTONE_KEEP: time::Duration = time::Duration::minutes(5);

/// What is kept of a deleted app for a while, so that dialects that list
/// recently terminated workloads (Tutum) can still show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub app: App,
    pub build: Option<Build>,
    pub config: Option<Config>,
    pub deleted: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub object: String,
    pub actor: String,
    pub message: String,
    pub created: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub domain: String,
    pub app_id: String,
    pub owner: String,
    pub created: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKey {
    pub uuid: Uuid,
    pub id: String,
    pub owner: String,
    pub public: String,
    pub fingerprint: String,
    pub created: Timestamp,
}

/// A TLS certificate a user added, as every API shows it: its private key
/// is not part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The host name it is served for (unique), by default the subject's.
    pub common_name: String,
    pub owner: String,
    /// The DNS names of its subject-alternative-name extension.
    pub san: Vec<String>,
    /// Its `notAfter`.
    pub expires: Timestamp,
    pub created: Timestamp,
}

/// A certificate chain and its private key, for the server's own TLS
/// listener; no API answers with it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServingCert {
    /// The host names it answers for: its common name first, then its SANs.
    pub names: Vec<String>,
    pub chain_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for ServingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keeps the private key out of every log line.
        f.debug_struct("ServingCert")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// Access level a grant gives on an object; the owner is `Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Read,
    User,
    Admin,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Read => "READ",
            Level::User => "USER",
            Level::Admin => "ADMIN",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "READ" => Some(Level::Read),
            "USER" => Some(Level::User),
            "ADMIN" => Some(Level::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Cancelled => "CANCELLED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING" => JobState::Pending,
            "RUNNING" => JobState::Running,
            "COMPLETED" => JobState::Completed,
            "FAILED" => JobState::Failed,
            "CANCELLED" => JobState::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub uuid: Uuid,
    pub owner_id: i64,
    pub app_id: Option<String>,
    pub kind: String,
    pub image: String,
    pub command: String,
    pub state: JobState,
    pub exit_code: Option<i64>,
    pub output: String,
    pub created: Timestamp,
    pub finished: Option<Timestamp>,
}

/// RFC 3339 text of a timestamp, as answers carry it.
pub fn rfc3339(t: Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
