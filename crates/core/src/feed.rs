//! The change feed: what happened to apps (created, destroyed, a new
//! release, new process counts) and to their instances (each state an
//! instance enters), sent as it is recorded to whoever follows. Followers
//! see only the apps they may read ([`crate::service::Berth::follow_changes`]);
//! a follower too slow to keep up misses the oldest changes, never blocks
//! the writers. Each change has a sequence number, and the latest ones are
//! kept, so a follower that reconnects (a browser's `EventSource` sends
//! `Last-Event-ID`) is first given what it missed.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;

use crate::model::{InstanceState, Structure, Timestamp, now};

/// Changes kept for followers that fall behind, or reconnect, before they
/// miss some.
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
    /// `instance` is `type.num` (like `web.1`); during a rollout the same
    /// name runs in two releases, told apart by `release`.
    InstanceState {
        instance: String,
        release: i64,
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
    /// Its place in the feed, given when it is sent: larger is later, also
    /// across restarts of the server.
    pub seq: u64,
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
            seq: 0,
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
    recent: Mutex<Recent>,
}

/// The latest changes, and the number the next one gets.
#[derive(Debug)]
struct Recent {
    next_seq: u64,
    changes: VecDeque<Change>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        // Numbers start at the start time in microseconds, so a follower's
        // last number from before a restart is below every new one.
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_micros() as u64);
        ChangeFeed {
            sender: broadcast::channel(BACKLOG).0,
            recent: Mutex::new(Recent {
                next_seq: started,
                changes: VecDeque::with_capacity(BACKLOG),
            }),
        }
    }
}

impl ChangeFeed {
    /// Numbers a change, keeps it for followers that reconnect, and sends
    /// it to every follower.
    pub fn send(&self, mut change: Change) {
        // One lock around numbering, keeping and sending, taken by
        // `subscribe_after` too: a follower gets each change exactly once,
        // from the kept ones or from the channel.
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        change.seq = recent.next_seq;
        recent.next_seq += 1;
        if recent.changes.len() == BACKLOG {
            recent.changes.pop_front();
        }
        recent.changes.push_back(change.clone());
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(change);
        }
    }

    /// The kept changes numbered after `after` (none without it), and every
    /// change sent from now on.
    pub fn subscribe_after(
        &self,
        after: Option<u64>,
    ) -> (Vec<Change>, broadcast::Receiver<Change>) {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let missed = match after {
            Some(after) => recent
                .changes
                .iter()
                .filter(|change| change.seq > after)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        (missed, self.sender.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(app: &str) -> Change {
        Change::new(app, Some(1), ChangeKind::AppCreated)
    }

    #[tokio::test]
    async fn a_follower_that_reconnects_gets_what_it_missed_then_the_rest_once() {
        let feed = ChangeFeed::default();
        feed.send(created("a"));
        let (missed, mut first) = feed.subscribe_after(None);
        assert!(missed.is_empty());
        feed.send(created("b"));
        let seen = first.recv().await.expect("b");
        assert_eq!(seen.app, "b");
        drop(first);
        feed.send(created("c"));
        feed.send(created("d"));
        let (missed, mut again) = feed.subscribe_after(Some(seen.seq));
        let apps: Vec<&str> = missed.iter().map(|c| c.app.as_str()).collect();
        assert_eq!(apps, ["c", "d"]);
        assert!(missed.windows(2).all(|w| w[0].seq < w[1].seq));
        feed.send(created("e"));
        assert_eq!(again.recv().await.expect("e").app, "e");
        assert!(again.try_recv().is_err(), "nothing twice");
    }

    #[test]
    fn only_the_latest_changes_are_kept() {
        let feed = ChangeFeed::default();
        for n in 0..BACKLOG + 10 {
            feed.send(created(&n.to_string()));
        }
        let (missed, _) = feed.subscribe_after(Some(0));
        assert_eq!(missed.len(), BACKLOG);
        assert_eq!(missed[0].app, "10");
    }
}
