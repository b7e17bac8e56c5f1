//! [`JobStore`]: script jobs (NDS Labs) with their container, observations
//! and resource samples.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::model::Timestamp;
use crate::model::job::{JobObservation, MetricsSample, ScriptJob};

#[async_trait]
pub trait JobStore: Send + Sync {
    async fn insert_script_job(&self, job: &ScriptJob) -> StoreResult<()>;
    async fn get_script_job(&self, uuid: Uuid) -> StoreResult<Option<ScriptJob>>;
    /// Script jobs whose container id starts with `prefix`.
    async fn script_jobs_by_container(&self, prefix: &str) -> StoreResult<Vec<ScriptJob>>;
    /// The owner's script jobs, oldest first.
    async fn list_script_jobs(&self, owner_id: i64) -> StoreResult<Vec<ScriptJob>>;
    /// Every user's script jobs last seen running.
    async fn running_script_jobs(&self) -> StoreResult<Vec<ScriptJob>>;
    /// Every user's script jobs created before `before`.
    async fn script_jobs_created_before(&self, before: Timestamp) -> StoreResult<Vec<ScriptJob>>;
    async fn set_job_container(&self, uuid: Uuid, container_id: &str) -> StoreResult<()>;
    async fn record_job_observation(&self, uuid: Uuid, obs: &JobObservation) -> StoreResult<()>;
    async fn record_job_metrics(&self, uuid: Uuid, sample: &MetricsSample) -> StoreResult<()>;
    /// Deletes the job row; false when there was none.
    async fn delete_script_job(&self, uuid: Uuid) -> StoreResult<bool>;
}
