//! [`JobStore`]: script jobs in the `jobs` table (kind `script`).

use async_trait::async_trait;
use berth_core::jobs::{JobObservation, MetricsSample, SCRIPT_JOB_KIND, ScriptJob};
use berth_core::model::{JobState, Timestamp};
use berth_core::store::{JobStore, StoreResult};
use uuid::Uuid;

use crate::{SqliteStore, json, rows, ts};

impl SqliteStore {
    /// Script jobs matching `condition`, in which `?2` is `value`.
    async fn script_jobs_where<T>(&self, condition: &str, value: T) -> StoreResult<Vec<ScriptJob>>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + 'static,
    {
        let query =
            format!("SELECT * FROM jobs WHERE kind = ?1 AND {condition} ORDER BY created, uuid");
        self.fetch_all(
            sqlx::query(&query).bind(SCRIPT_JOB_KIND).bind(value),
            rows::script_job,
        )
        .await
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn insert_script_job(&self, j: &ScriptJob) -> StoreResult<()> {
        self.exec(
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
            .bind(j.started.map(ts)),
        )
        .await
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

    async fn running_script_jobs(&self) -> StoreResult<Vec<ScriptJob>> {
        self.script_jobs_where("state = ?2", JobState::Running.as_str().to_string())
            .await
    }

    async fn script_jobs_created_before(&self, before: Timestamp) -> StoreResult<Vec<ScriptJob>> {
        self.script_jobs_where("created < ?2", ts(before)).await
    }

    async fn set_job_container(&self, uuid: Uuid, container_id: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE jobs SET container_id = ? WHERE uuid = ?")
                .bind(container_id)
                .bind(uuid.to_string()),
        )
        .await
    }

    async fn record_job_observation(&self, uuid: Uuid, obs: &JobObservation) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE jobs SET state = ?, exit_code = ?, node = ?, started = ?, finished = ? \
                 WHERE uuid = ?",
            )
            .bind(obs.state.as_str())
            .bind(obs.exit_code)
            .bind(&obs.node)
            .bind(obs.started.map(ts))
            .bind(obs.finished.map(ts))
            .bind(uuid.to_string()),
        )
        .await
    }

    async fn record_job_metrics(&self, uuid: Uuid, sample: &MetricsSample) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE jobs SET metrics = ? WHERE uuid = ?")
                .bind(json(sample))
                .bind(uuid.to_string()),
        )
        .await
    }

    async fn delete_script_job(&self, uuid: Uuid) -> StoreResult<bool> {
        let deleted = self
            .exec_count(
                sqlx::query("DELETE FROM jobs WHERE uuid = ? AND kind = ?")
                    .bind(uuid.to_string())
                    .bind(SCRIPT_JOB_KIND),
            )
            .await?;
        Ok(deleted > 0)
    }
}

#[cfg(test)]
mod tests {
    use berth_core::model::{Job, JobState, now};
    use berth_core::store::prelude::*;

    use super::*;
    use crate::testing::store;

    fn script_job(owner_id: i64) -> ScriptJob {
        ScriptJob {
            job: Job {
                uuid: Uuid::new_v4(),
                owner_id,
                app_id: None,
                kind: SCRIPT_JOB_KIND.into(),
                image: "busybox:latest".into(),
                command: "/bin/sh script.sh".into(),
                state: JobState::Pending,
                exit_code: None,
                output: String::new(),
                created: now(),
                finished: None,
            },
            script_name: "script.sh".into(),
            dataset: Some("genomes".into()),
            container_id: None,
            node: None,
            started: None,
            metrics: None,
        }
    }

    #[tokio::test]
    async fn script_jobs_round_trip_and_go_with_their_owner() {
        let (_d, s) = store().await;
        let alice = s.create_user("alice", "", "h").await.unwrap();
        let bob = s.create_user("bob", "", "h").await.unwrap();
        let mut job = script_job(alice.id);
        s.insert_script_job(&job).await.unwrap();
        s.insert_script_job(&script_job(bob.id)).await.unwrap();
        assert_eq!(
            s.get_script_job(job.job.uuid).await.unwrap(),
            Some(job.clone())
        );

        let container = "4eea6d5d7f8c25d65de1cf2621d36873ca4448a9a013448b74adf225a129bc1c";
        s.set_job_container(job.job.uuid, container).await.unwrap();
        let obs = JobObservation {
            state: JobState::Completed,
            exit_code: Some(0),
            node: Some("vm".into()),
            started: Some(now()),
            finished: Some(now()),
        };
        s.record_job_observation(job.job.uuid, &obs).await.unwrap();
        let sample = MetricsSample {
            sampled: now(),
            cpu_percent: 1.5,
            memory_usage: 10,
            memory_limit: 20,
            net_rx: 1,
            net_tx: 2,
            block_read: 3,
            block_write: 4,
        };
        s.record_job_metrics(job.job.uuid, &sample).await.unwrap();
        job.container_id = Some(container.into());
        job.job.state = obs.state;
        job.job.exit_code = obs.exit_code;
        job.job.finished = obs.finished;
        job.node = obs.node.clone();
        job.started = obs.started;
        job.metrics = Some(sample);

        assert_eq!(
            s.script_jobs_by_container(&container[..12]).await.unwrap(),
            [job.clone()]
        );
        // A prefix is literal: LIKE wildcards match nothing.
        assert!(
            s.script_jobs_by_container("4eea%")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.list_script_jobs(alice.id).await.unwrap(), [job.clone()]);
        let later = now() + time::Duration::seconds(1);
        assert_eq!(s.script_jobs_created_before(later).await.unwrap().len(), 2);
        assert!(
            s.script_jobs_created_before(job.job.created)
                .await
                .unwrap()
                .is_empty()
        );
        // The core job view sees the same row.
        assert_eq!(
            s.get_job(job.job.uuid).await.unwrap(),
            Some(job.job.clone())
        );

        s.delete_user(bob.id).await.unwrap();
        assert_eq!(s.script_jobs_created_before(later).await.unwrap().len(), 1);
        assert!(s.delete_script_job(job.job.uuid).await.unwrap());
        assert!(!s.delete_script_job(job.job.uuid).await.unwrap());
        assert_eq!(s.get_script_job(job.job.uuid).await.unwrap(), None);
    }
}
