//! The write path of every app change: one guarded store call, one wake of the reconciler, and for the dialects that answer only once the engine followed, the wait and the revert.

use std::time::Duration;

use super::Berth;
use crate::change::{DesiredChange, NewRelease};
use crate::error::{CoreError, CoreResult};
use crate::feed::{Change, ChangeKind};
use crate::metrics::CONVERGE_SECONDS;
use crate::model::*;
use crate::plan::{Convergence, convergence};
use crate::store::StoreError;

impl Berth {
    /// Waits for a new release to run. If it cannot, the app goes back to the
    /// release before it (as a new release) and the error says why.
    pub(super) async fn deploy(
        &self,
        actor: &User,
        app: &App,
        applied: Applied,
    ) -> CoreResult<Release> {
        let release = applied
            .release
            .clone()
            .ok_or_else(|| CoreError::Internal("a deploy without a release".into()))?;
        let why = match self.converge(&app.id, applied.ticket).await? {
            Convergence::Failed(why) => why,
            _ => return Ok(release),
        };
        let previous = self.store.get_release(&app.id, release.version - 1).await?;
        if let Some(previous) = previous {
            let mut undo = roll_to(app, &actor.username, &previous);
            undo.expect_release = Some(release.version);
            self.revert(undo).await?;
        }
        Err(CoreError::Failed(format!(
            "release v{} failed to deploy: {why}",
            release.version
        )))
    }

    /// Writes the inverse of a change that did not converge, unless another
    /// request changed the app since (its change then stands).
    pub(super) async fn revert(&self, undo: DesiredChange) -> CoreResult<()> {
        match self.store.apply_change(&undo).await {
            Ok(_) => {
                self.signals.wake();
                Ok(())
            }
            Err(StoreError::Stale(_) | StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a change computed from the app as last read, then wakes the
    /// reconciler once. When another request changed the app in between (the
    /// store's guard failed), the app is read again and the change computed
    /// anew, so concurrent changes never lose each other.
    pub(crate) async fn change_app<F, Fut>(&self, app: &App, mut compute: F) -> CoreResult<Applied>
    where
        F: FnMut(App) -> Fut,
        Fut: Future<Output = CoreResult<DesiredChange>>,
    {
        let mut current = app.clone();
        for _ in 0..CHANGE_ATTEMPTS {
            let change = compute(current.clone()).await?;
            let _quota = self.hold_quota_for_change(&current, &change).await?;
            match self.store.apply_change(&change).await {
                Ok(release) => {
                    // Taken after the write and before the wake, so the pass
                    // it triggers is one a waiter can tell from older ones.
                    let ticket = self.signals.ticket();
                    self.signals.wake();
                    self.report_change(&current, &change, release.as_ref());
                    return Ok(Applied {
                        release,
                        ticket,
                        change,
                    });
                }
                Err(StoreError::Stale(_)) => {
                    current =
                        self.store.get_app(&app.id).await?.ok_or_else(|| {
                            CoreError::not_found(format!("app {} not found", app.id))
                        })?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale(format!("app {}", app.id)).into())
    }

    /// Tells followers of the change feed about a written change's new
    /// release and process counts.
    fn report_change(&self, app: &App, change: &DesiredChange, release: Option<&Release>) {
        let owner = Some(app.owner_id);
        if let Some(release) = release {
            let version = release.version;
            self.signals.changes.send(Change::new(
                &app.id,
                owner,
                ChangeKind::ReleaseCreated { version },
            ));
        }
        if let Some(structure) = &change.structure {
            let structure = structure.clone();
            self.signals.changes.send(Change::new(
                &app.id,
                owner,
                ChangeKind::Scaled { structure },
            ));
        }
    }

    /// Checks the store after each reconciler pass that follows `ticket`
    /// until the app converged, failed, or the deadline passed (which counts
    /// as failure).
    pub async fn converge(&self, app_id: &str, ticket: u64) -> CoreResult<Convergence> {
        let began = std::time::Instant::now();
        let converged = self.converge_after(app_id, ticket).await;
        let outcome = match &converged {
            Ok(Convergence::Failed(_)) | Err(_) => "failed",
            Ok(_) => "ok",
        };
        self.signals
            .metrics
            .observe(CONVERGE_SECONDS, &[outcome], began.elapsed());
        converged
    }

    async fn converge_after(&self, app_id: &str, ticket: u64) -> CoreResult<Convergence> {
        let deadline = tokio::time::Instant::now() + self.settings.converge_timeout;
        let mut ticket = ticket;
        loop {
            let Some(desired) = self.store.desired_app(app_id).await? else {
                return Ok(Convergence::Converged);
            };
            let rows = self.store.list_instances(Some(app_id)).await?;
            match convergence(&desired, &rows) {
                Convergence::Pending => {}
                done => return Ok(done),
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Convergence::Failed(format!(
                    "not converged after {} s",
                    self.settings.converge_timeout.as_secs()
                )));
            }
            self.signals
                .pass_after(ticket, Duration::from_millis(250))
                .await;
            ticket = self.signals.last_finished();
        }
    }
}

/// How often a change is computed again when concurrent writers keep
/// replacing what it was computed from.
const CHANGE_ATTEMPTS: usize = 20;

/// A change the store took: what was written, its new release, if it made
/// one, and the ticket a caller waits on for the reconciler to act on it.
#[derive(Debug, Clone)]
pub struct Applied {
    pub change: DesiredChange,
    pub release: Option<Release>,
    pub ticket: u64,
}

/// The change that makes a new release copying `target`'s build and config.
pub(super) fn roll_to(app: &App, actor: &str, target: &Release) -> DesiredChange {
    let summary = format!("{actor} rolled back to v{}", target.version);
    DesiredChange {
        expect_release: Some(app.release),
        release: Some(NewRelease {
            new_build: None,
            build: target.build,
            new_config: None,
            config: target.config,
            summary: summary.clone(),
        }),
        ..DesiredChange::new(&app.id, actor).event(summary)
    }
}
