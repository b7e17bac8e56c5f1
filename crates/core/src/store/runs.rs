//! [`RunStore`]: the job rows every job kind shares, as Deis `run` writes
//! them: inserted running, finished with output, and failed when a server
//! restart interrupted them.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::model::{Job, JobState};

#[async_trait]
pub trait RunStore: Send + Sync {
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
