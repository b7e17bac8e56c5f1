//! Persistence as the core needs it. The SQLite driver lives in
//! `berth-store`; nothing here assumes SQL.

use async_trait::async_trait;
use thiserror::Error;
use uuid::Uuid;

use crate::change::DesiredChange;
use crate::model::*;
use crate::plan::{DesiredApp, Observation};

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A uniqueness rule was broken; the text names what is taken.
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    /// A compare-and-set write found the app changed since it was read.
    #[error("{0} changed meanwhile")]
    Stale(String),
    #[error("store: {0}")]
    Backend(String),
}

impl From<StoreError> for crate::CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => crate::CoreError::Conflict(m),
            StoreError::NotFound(m) => crate::CoreError::NotFound(format!("{m} not found")),
            StoreError::Stale(m) => crate::CoreError::Conflict(format!(
                "{m} was changed by another request at the same time; try again"
            )),
            StoreError::Backend(m) => crate::CoreError::Internal(m),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a listing with the total it was cut from.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

#[async_trait]
pub trait Store:
    crate::jobs::JobStore + crate::catalog::CatalogStore + crate::templates::TemplateStore + Send + Sync
{
    async fn ping(&self) -> StoreResult<()>;

    // identity
    async fn count_users(&self) -> StoreResult<i64>;
    /// Creates a user; the first one ever created is made administrator.
    async fn create_user(
        &self,
        username: &str,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<User>;
    async fn user_by_name(&self, username: &str) -> StoreResult<Option<User>>;
    async fn set_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()>;
    async fn set_admin(&self, user_id: i64, is_admin: bool) -> StoreResult<()>;
    async fn list_admins(&self) -> StoreResult<Vec<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn touch_login(&self, user_id: i64) -> StoreResult<()>;
    /// Deletes a user with everything they own; returns the ids of their apps.
    async fn delete_user(&self, user_id: i64) -> StoreResult<Vec<String>>;
    async fn create_token(&self, token: &Token, secret_hash: &str) -> StoreResult<()>;
    async fn token_user(
        &self,
        secret_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Token, User)>>;
    async fn revoke_user_tokens(&self, user_id: i64) -> StoreResult<()>;

    // apps
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

    /// Writes every part of the change, its new release (as the app's next
    /// version) and its events in one transaction; fails with
    /// [`StoreError::Stale`] and writes nothing when a guard does not hold.
    /// Returns the new release, if the change made one.
    async fn apply_change(&self, change: &DesiredChange) -> StoreResult<Option<Release>>;

    // builds, configs, releases
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

    // instances, for the reconciler and the container listings
    async fn desired_apps(&self) -> StoreResult<Vec<DesiredApp>>;
    async fn desired_app(&self, id: &str) -> StoreResult<Option<DesiredApp>>;
    async fn list_instances(&self, app_id: Option<&str>) -> StoreResult<Vec<Instance>>;
    async fn get_instance(&self, uuid: Uuid) -> StoreResult<Option<Instance>>;
    /// Inserts the instance only while its app still exists at the
    /// instance's release; returns whether it did.
    async fn insert_instance(&self, instance: &Instance) -> StoreResult<bool>;
    async fn observe_instance(&self, obs: &Observation) -> StoreResult<()>;
    async fn delete_instance(&self, uuid: Uuid) -> StoreResult<()>;
    /// Deletes the instance row and lowers its type's count by one, atomically.
    async fn destroy_instance(&self, uuid: Uuid) -> StoreResult<()>;
    async fn clear_restart(&self, uuid: Uuid) -> StoreResult<()>;

    // events
    async fn add_event(&self, object: &str, actor: &str, message: &str) -> StoreResult<()>;
    /// The newest `limit` events of an object, oldest first.
    async fn list_events(&self, object: &str, limit: i64) -> StoreResult<Vec<Event>>;

    // grants
    async fn grant(&self, object: &str, user_id: i64, level: Level) -> StoreResult<()>;
    async fn revoke(&self, object: &str, user_id: i64) -> StoreResult<bool>;
    async fn grant_level(&self, object: &str, user_id: i64) -> StoreResult<Option<Level>>;
    async fn grantees(&self, object: &str) -> StoreResult<Vec<(String, Level)>>;

    // domains and keys
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

    // jobs
    async fn insert_job(&self, job: &Job) -> StoreResult<()>;
    async fn finish_job(
        &self,
        uuid: Uuid,
        state: JobState,
        exit_code: Option<i64>,
        output: &str,
    ) -> StoreResult<()>;
    async fn get_job(&self, uuid: Uuid) -> StoreResult<Option<Job>>;
    /// Marks jobs that were running when the server died as failed; returns them.
    async fn fail_interrupted_jobs(&self, message: &str) -> StoreResult<Vec<Uuid>>;
}
