//! [`JobStore`]: script jobs in the `jobs` table (kind `script`).

use async_trait::async_trait;
use berth_core::jobs::{JobObservation, JobStore, MetricsSample, SCRIPT_JOB_KIND, ScriptJob};
use berth_core::model::Timestamp;
use berth_core::store::StoreResult;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::{SqliteStore, db_err, get, get_opt_json, get_opt_ts, job_from, json, ts};

fn script_job_from(row: &SqliteRow) -> StoreResult<ScriptJob> {
    Ok(ScriptJob {
        job: job_from(row)?,
        script_name: get::<Option<String>>(row, "script_name")?.unwrap_or_default(),
        dataset: get(row, "dataset")?,
        container_id: get(row, "container_id")?,
        node: get(row, "node")?,
        started: get_opt_ts(row, "started")?,
        metrics: get_opt_json(row, "metrics")?,
    })
}

impl SqliteStore {
    /// Script jobs matching `condition`, in which `?2` is `value`.
    async fn script_jobs_where<T>(&self, condition: &str, value: T) -> StoreResult<Vec<ScriptJob>>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + 'static,
    {
        let query =
            format!("SELECT * FROM jobs WHERE kind = ?1 AND {condition} ORDER BY created, uuid");
        let rows = sqlx::query(&query)
            .bind(SCRIPT_JOB_KIND)
            .bind(value)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(script_job_from).collect()
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn insert_script_job(&self, j: &ScriptJob) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO jobs (uuid, owner_id, app_id, kind, image, command, state, exit_code, \
             output, created, finished, script_name, dataset, container_id, node, started) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(j.job.uuid.to_string())
        .bind(j.job.owner_id)
        .bind(&j.job.app_id)
        .bind(&j.job.kind)
        .bind(&j.job.image)
        .bind(&j.job.command)
        .bind(j.job.state.as_str())
        .bind(j.job.exit_code)
        .bind(&j.job.output)
        .bind(ts(j.job.created))
        .bind(j.job.finished.map(ts))
        .bind(&j.script_name)
        .bind(&j.dataset)
        .bind(&j.container_id)
        .bind(&j.node)
        .bind(j.started.map(ts))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_script_job(&self, uuid: Uuid) -> StoreResult<Option<ScriptJob>> {
        Ok(self
            .script_jobs_where("uuid = ?2", uuid.to_string())
            .await?
            .pop())
    }

    async fn script_jobs_by_container(&self, prefix: &str) -> StoreResult<Vec<ScriptJob>> {
        // substr, not LIKE: a prefix is matched literally.
        self.script_jobs_where(
            "substr(container_id, 1, length(?2)) = ?2",
            prefix.to_string(),
        )
        .await
    }

    async fn list_script_jobs(&self, owner_id: i64) -> StoreResult<Vec<ScriptJob>> {
        self.script_jobs_where("owner_id = ?2", owner_id).await
    }

    async fn script_jobs_created_before(&self, before: Timestamp) -> StoreResult<Vec<ScriptJob>> {
        self.script_jobs_where("created < ?2", ts(before)).await
    }

    async fn set_job_container(&self, uuid: Uuid, container_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE jobs SET container_id = ? WHERE uuid = ?")
            .bind(container_id)
            .bind(uuid.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn record_job_observation(&self, uuid: Uuid, obs: &JobObservation) -> StoreResult<()> {
        sqlx::query(
            "UPDATE jobs SET state = ?, exit_code = ?, node = ?, started = ?, finished = ? \
             WHERE uuid = ?",
        )
        .bind(obs.state.as_str())
        .bind(obs.exit_code)
        .bind(&obs.node)
        .bind(obs.started.map(ts))
        .bind(obs.finished.map(ts))
        .bind(uuid.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn record_job_metrics(&self, uuid: Uuid, sample: &MetricsSample) -> StoreResult<()> {
        sqlx::query("UPDATE jobs SET metrics = ? WHERE uuid = ?")
            .bind(json(sample))
            .bind(uuid.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_script_job(&self, uuid: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM jobs WHERE uuid = ? AND kind = ?")
            .bind(uuid.to_string())
            .bind(SCRIPT_JOB_KIND)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }
}
