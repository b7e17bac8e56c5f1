//! The containers quota (see [`crate::quota`]) applied to app changes:
//! a change or a new app that asks for more instances is checked against
//! what the owner's apps ask for already, under the owner's quota lock,
//! which the caller holds until the write is made.

use tokio::sync::OwnedMutexGuard;

use super::Berth;
use crate::change::DesiredChange;
use crate::error::{CoreError, CoreResult};
use crate::model::{App, Desired};
use crate::quota::{Resource, desired_instances};

/// Held until the write a quota check allowed is made.
pub(crate) type QuotaHold = Option<OwnedMutexGuard<()>>;

impl Berth {
    /// Checks that the owner's apps may ask for `more` instances on top of
    /// what they ask for now; returns the owner's quota lock, to be held
    /// until the write that adds them is made.
    pub(crate) async fn hold_containers_quota(
        &self,
        owner_id: i64,
        more: u64,
    ) -> CoreResult<QuotaHold> {
        if more == 0 || self.settings.quotas.containers == 0 {
            return Ok(None);
        }
        let hold = self.quota_locks.lock(owner_id).await;
        let used = self.store.owner_desired_instances(owner_id).await?;
        self.settings
            .quotas
            .check(Resource::Containers, used, more)?;
        Ok(Some(hold))
    }

    /// The containers quota for `change` to `app`: nothing to check when
    /// the change asks for no more instances than the app does (as read
    /// under the lock, so a concurrent change is seen).
    pub(super) async fn hold_quota_for_change(
        &self,
        app: &App,
        change: &DesiredChange,
    ) -> CoreResult<QuotaHold> {
        let asked = |app: &App| {
            let on = change.desired.unwrap_or(app.desired) == Desired::On;
            desired_instances(on, change.structure.as_ref().unwrap_or(&app.structure))
        };
        let holds = |app: &App| desired_instances(app.desired == Desired::On, &app.structure);
        if asked(app) <= holds(app) || self.settings.quotas.containers == 0 {
            return Ok(None);
        }
        let hold = self.quota_locks.lock(app.owner_id).await;
        let fresh = self
            .store
            .get_app(&app.id)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("app {} not found", app.id)))?;
        let more = asked(&fresh).saturating_sub(holds(&fresh));
        if more > 0 {
            let used = self.store.owner_desired_instances(fresh.owner_id).await?;
            self.settings
                .quotas
                .check(Resource::Containers, used, more)?;
        }
        Ok(Some(hold))
    }
}
