//! [`AccessStore`]: grants on objects, app domains and users' SSH keys.

use async_trait::async_trait;

use super::{Page, StoreResult};
use crate::model::{Domain, Level, SshKey};

#[async_trait]
pub trait AccessStore: Send + Sync {
    async fn grant(&self, object: &str, user_id: i64, level: Level) -> StoreResult<()>;
    async fn revoke(&self, object: &str, user_id: i64) -> StoreResult<bool>;
    async fn grant_level(&self, object: &str, user_id: i64) -> StoreResult<Option<Level>>;
    async fn grantees(&self, object: &str) -> StoreResult<Vec<(String, Level)>>;

    async fn add_domain(&self, domain: &Domain) -> StoreResult<()>;
    async fn list_domains(
        &self,
        app_id: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Domain>>;
    async fn remove_domain(&self, app_id: &str, domain: &str) -> StoreResult<bool>;

    async fn add_key(&self, user_id: i64, key: &SshKey) -> StoreResult<()>;
    async fn list_keys(&self, user_id: i64, offset: i64, limit: i64) -> StoreResult<Page<SshKey>>;
    async fn remove_key(&self, user_id: i64, id: &str) -> StoreResult<bool>;
}
