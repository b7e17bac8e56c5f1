//! How requests and the reconciler signal each other: a request wakes the
//! loop after it writes, and may wait for the first pass that saw its write.
//! Both also report outwards here: changes to the feed, figures to the metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

use crate::feed::ChangeFeed;
use crate::metrics::Metrics;

/// How requests and the reconciler signal each other.
#[derive(Debug)]
pub struct Signals {
    pub(crate) wake: Notify,
    /// When the oldest wake no pass has started after yet came.
    woken_at: Mutex<Option<Instant>>,
    /// Number of the last pass that started.
    started: AtomicU64,
    /// Number of the last pass that finished.
    finished: watch::Sender<u64>,
    /// Bumped after every certificate change, for the TLS listener.
    certs: watch::Sender<u64>,
    /// What changed, for those who follow changes.
    pub changes: ChangeFeed,
    /// Figures the server keeps about itself; shared with the router.
    pub metrics: Arc<Metrics>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            wake: Notify::new(),
            woken_at: Mutex::new(None),
            started: AtomicU64::new(0),
            finished: watch::channel(0).0,
            certs: watch::channel(0).0,
            changes: ChangeFeed::default(),
            metrics: Arc::default(),
        }
    }
}

impl Signals {
    /// Asks for a pass soon; called after every desired-state write.
    pub fn wake(&self) {
        self.woken_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Instant::now);
        self.wake.notify_one();
    }

    /// When the oldest wake since the last call came, if any: a pass that
    /// starts now is the first to see what that wake announced.
    pub(crate) fn take_woken_at(&self) -> Option<Instant> {
        self.woken_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Marks "now": a pass that starts after this ticket sees every write
    /// made before it.
    pub fn ticket(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    /// The number of the last finished pass: waiting past it waits for the
    /// pass running now, if any, whose writes may postdate a read made now.
    pub fn last_finished(&self) -> u64 {
        *self.finished.borrow()
    }

    /// Waits until a pass numbered above `ticket` has finished, or `timeout`.
    pub async fn pass_after(&self, ticket: u64, timeout: Duration) {
        let mut rx = self.finished.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|n| *n > ticket)).await;
    }

    /// Tells whoever serves TLS that the stored certificates changed.
    pub fn certs_changed(&self) {
        self.certs.send_modify(|generation| *generation += 1);
    }

    /// Wakes (`changed()`) after each certificate change from now on; the
    /// holder reloads with [`crate::service::Berth::serving_certs`].
    pub fn watch_certs(&self) -> watch::Receiver<u64> {
        self.certs.subscribe()
    }

    pub(crate) fn pass_started(&self) -> u64 {
        self.started.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn pass_finished(&self, number: u64) {
        self.finished.send_replace(number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ticket_waits_for_a_pass_that_starts_after_it() {
        let signals = Signals::default();
        let running = signals.pass_started();
        let ticket = signals.ticket();
        signals.pass_finished(running);
        // The pass that was already running does not satisfy the ticket.
        let waited = tokio::time::timeout(
            Duration::from_millis(50),
            signals.pass_after(ticket, Duration::from_secs(5)),
        )
        .await;
        assert!(waited.is_err());
        let next = signals.pass_started();
        signals.pass_finished(next);
        signals.pass_after(ticket, Duration::from_secs(5)).await;
    }

    #[tokio::test]
    async fn last_finished_waits_for_the_pass_running_now() {
        let signals = Signals::default();
        let running = signals.pass_started();
        let seen = signals.last_finished();
        assert_eq!(seen, 0);
        signals.pass_finished(running);
        tokio::time::timeout(
            Duration::from_millis(50),
            signals.pass_after(seen, Duration::from_secs(5)),
        )
        .await
        .expect("the running pass finishing is enough");
    }
}
