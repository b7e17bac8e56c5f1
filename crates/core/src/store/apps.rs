//! [`AppStore`]: apps, their desired state and the tombstones deleted apps
//! leave behind.

use async_trait::async_trait;
use uuid::Uuid;

use super::{Page, StoreResult};
use crate::change::DesiredChange;
use crate::model::{App, AppTraffic, Build, Config, Release, Timestamp, Tombstone, User};

#[async_trait]
pub trait AppStore: Send + Sync {
    /// Creates the app with its initial config, optional first build and
    /// releases (v1, and v2 when a workload arrives whole), atomically.
    async fn create_app(
        &self,
        app: &App,
        config: &Config,
        build: Option<&Build>,
        releases: &[Release],
    ) -> StoreResult<()>;
    async fn get_app(&self, id: &str) -> StoreResult<Option<App>>;
    async fn get_app_by_uuid(&self, uuid: Uuid) -> StoreResult<Option<App>>;
    /// Apps the user may see (own, granted, or all for administrators), by id.
    async fn list_apps(&self, user: &User, offset: i64, limit: i64) -> StoreResult<Page<App>>;
    /// Deletes the app and everything of it, keeping `tombstone`, atomically.
    async fn delete_app(&self, id: &str, tombstone: &Tombstone) -> StoreResult<()>;
    /// Tombstones deleted after `since` that the user may see, newest first.
    async fn list_tombstones(&self, user: &User, since: Timestamp) -> StoreResult<Vec<Tombstone>>;
    async fn get_tombstone(&self, app_uuid: Uuid) -> StoreResult<Option<Tombstone>>;
    async fn purge_tombstones(&self, before: Timestamp) -> StoreResult<()>;
    /// Turns off every app whose stop time has come; returns their event
    /// objects (`app:<uuid>`, as [`crate::service::app_object`] names them).
    async fn expire_apps(&self, now: Timestamp) -> StoreResult<Vec<String>>;
    async fn set_app_error(&self, id: &str, error: Option<&str>) -> StoreResult<()>;
    /// The instances the owner's apps that are on ask for together: the
    /// sum of their process counts (what the containers quota counts).
    async fn owner_desired_instances(&self, owner_id: i64) -> StoreResult<u64>;
    /// Writes every part of the change, its new release (as the app's next
    /// version) and its events in one transaction; fails with
    /// [`super::StoreError::Stale`] and writes nothing when a guard does not
    /// hold. Returns the new release, if the change made one.
    async fn apply_change(&self, change: &DesiredChange) -> StoreResult<Option<Release>>;
    /// Every app with its current config and domains: what the route table is built from.
    async fn app_traffic(&self) -> StoreResult<Vec<AppTraffic>>;
}
