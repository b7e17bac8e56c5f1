//! The change feed: what happened to apps (created, destroyed, a new
//! release, new process counts) and to their instances (each state an
//! instance enters), sent as it is recorded to whoever follows. Followers
//! see only the apps they may read ([`crate::service::Berth::follow_changes`]);
//! a follower too slow to keep up misses the oldest changes, never blocks
//! the writers.

use tokio::sync::broadcast;

use crate::model::{InstanceState, Structure, Timestamp, now};

/// Changes kept for followers that fall behind before they miss some.
const BACKLOG: usize = 1024;

/// What changed.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    AppCreated,
    AppDestroyed,
    ReleaseCreated {
        version: i64,
    },
    Scaled {
        structure: Structure,
    },
    /// `instance` is `type.num` (like `web.1`).
    InstanceState {
        instance: String,
        state: InstanceState,
    },
}

impl ChangeKind {
    /// The change's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            ChangeKind::AppCreated => "app_created",
            ChangeKind::AppDestroyed => "app_destroyed",
            ChangeKind::ReleaseCreated { .. } => "release_created",
            ChangeKind::Scaled { .. } => "scaled",
            ChangeKind::InstanceState { .. } => "instance",
        }
    }
}

/// One change of one app.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub app: String,
    /// The app's owner when the writer knew it: a change of an app that is
    /// gone can then still be shown to its owner.
    pub owner_id: Option<i64>,
    pub kind: ChangeKind,
    pub at: Timestamp,
}

impl Change {
    pub fn new(app: &str, owner_id: Option<i64>, kind: ChangeKind) -> Self {
        Change {
            app: app.to_string(),
            owner_id,
            kind,
            at: now(),
        }
    }
}

/// Where changes are sent.
#[derive(Debug)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Change>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        ChangeFeed {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl ChangeFeed {
    /// Sends a change to every follower; with none, it is dropped.
    pub fn send(&self, change: Change) {
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(change);
        }
    }

    /// Every change sent from now on, for one follower.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}
