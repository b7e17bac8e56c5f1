//! [`RunStore`]: the job rows every kind of job shares, as Deis `run`
//! writes them, and the sweep that fails jobs a server restart interrupted.

use async_trait::async_trait;
use berth_core::model::{Job, JobState, now};
use berth_core::store::{RunStore, StoreResult};
use uuid::Uuid;

use crate::{SqliteStore, rows, ts};

#[async_trait]
impl RunStore for SqliteStore {
    async fn insert_job(&self, j: &Job) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO jobs (uuid, owner_id, app_id, kind, image, command, state, output, created) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(j.uuid.to_string())
            .bind(j.owner_id)
            .bind(&j.app_id)
            .bind(&j.kind)
            .bind(&j.image)
            .bind(&j.command)
            .bind(j.state.as_str())
            .bind(&j.output)
            .bind(ts(j.created)),
        )
        .await
    }

    async fn finish_job(
        &self,
        uuid: Uuid,
        state: JobState,
        exit_code: Option<i64>,
        output: &str,
    ) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE jobs SET state = ?, exit_code = ?, output = ?, finished = ? WHERE uuid = ?",
            )
            .bind(state.as_str())
            .bind(exit_code)
            .bind(output)
            .bind(ts(now()))
            .bind(uuid.to_string()),
        )
        .await
    }

    async fn get_job(&self, uuid: Uuid) -> StoreResult<Option<Job>> {
        self.fetch_optional(
            sqlx::query("SELECT * FROM jobs WHERE uuid = ?").bind(uuid.to_string()),
            rows::job,
        )
        .await
    }

    async fn fail_interrupted_jobs(&self, message: &str) -> StoreResult<Vec<Uuid>> {
        self.fetch_all(
            sqlx::query(
                "UPDATE jobs SET state = 'FAILED', output = output || ?, finished = ? \
                 WHERE state IN ('RUNNING', 'PENDING') RETURNING uuid",
            )
            .bind(message)
            .bind(ts(now())),
            rows::job_uuid,
        )
        .await
    }
}
