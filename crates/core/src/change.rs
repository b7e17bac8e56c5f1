//! The one write path for an app's desired state. Every use case that
//! changes what should run (a build, config, counts, on/off, pod
//! definitions, stop time, restarts) describes it as one [`DesiredChange`];
//! the store writes it in one transaction, guarded by what the use case
//! read, and the reconciler is woken once.

use uuid::Uuid;

use crate::model::{Build, Config, Desired, Structure, Timestamp};

/// A new release of an app: its build and config, each either new (written
/// with the release) or an existing one by uuid.
#[derive(Debug, Clone)]
pub struct NewRelease {
    pub new_build: Option<Build>,
    pub build: Option<Uuid>,
    pub new_config: Option<Config>,
    pub config: Uuid,
    pub summary: String,
}

/// Which of an app's instances a change touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceSet {
    These(Vec<Uuid>),
    /// Every instance that is not running now.
    NotUp,
    All,
}

/// Everything a change writes to one app; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct DesiredChange {
    pub app_id: String,
    /// Who made the change; the owner of the release and of `events`.
    pub actor: String,
    /// Written only while the app is still at this release (compare-and-set),
    /// so a change computed from a release another writer replaced meanwhile
    /// is computed again instead of silently undoing the other one.
    pub expect_release: Option<i64>,
    /// The same guard for the process counts.
    pub expect_structure: Option<Structure>,
    pub release: Option<NewRelease>,
    pub structure: Option<Structure>,
    pub desired: Option<Desired>,
    pub meta: Option<serde_json::Value>,
    pub stop_at: Option<Option<Timestamp>>,
    /// Instances whose user-stopped flag is set to the given value.
    pub stopped: Option<(InstanceSet, bool)>,
    pub restart: Option<InstanceSet>,
    /// Lines of the app's event log, written with the change.
    pub events: Vec<String>,
}

impl DesiredChange {
    pub fn new(app_id: &str, actor: &str) -> Self {
        DesiredChange {
            app_id: app_id.to_string(),
            actor: actor.to_string(),
            ..Default::default()
        }
    }

    pub fn with_release(mut self, release: NewRelease) -> Self {
        self.release = Some(release);
        self
    }

    pub fn event(mut self, message: impl Into<String>) -> Self {
        self.events.push(message.into());
        self
    }
}
