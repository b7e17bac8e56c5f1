//! [`ReleaseStore`]: an app's builds, configs and the numbered releases
//! that pair them.

use async_trait::async_trait;
use uuid::Uuid;

use super::{Page, StoreResult};
use crate::model::{Build, Config, Release};

#[async_trait]
pub trait ReleaseStore: Send + Sync {
    async fn get_release(&self, app_id: &str, version: i64) -> StoreResult<Option<Release>>;
    async fn list_releases(
        &self,
        app_id: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Release>>;
    async fn get_build(&self, uuid: Uuid) -> StoreResult<Option<Build>>;
    async fn list_builds(&self, app_id: &str, offset: i64, limit: i64) -> StoreResult<Page<Build>>;
    async fn get_config(&self, uuid: Uuid) -> StoreResult<Option<Config>>;
}
