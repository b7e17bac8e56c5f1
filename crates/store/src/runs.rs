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

#[cfg(test)]
mod tests {
    use berth_core::store::prelude::*;

    use super::*;
    use crate::testing::store;

    fn run_job(owner_id: i64) -> Job {
        Job {
            uuid: Uuid::new_v4(),
            owner_id,
            app_id: Some("demo".into()),
            kind: "run".into(),
            image: "busybox:latest".into(),
            command: "echo hi".into(),
            state: JobState::Running,
            exit_code: None,
            output: String::new(),
            created: now(),
            finished: None,
        }
    }

    #[tokio::test]
    async fn runs_finish_or_fail_when_the_server_restarted() {
        let (_d, s) = store().await;
        let alice = s.create_user("alice", "", "h").await.unwrap();
        let done = run_job(alice.id);
        let interrupted = run_job(alice.id);
        s.insert_job(&done).await.unwrap();
        s.insert_job(&interrupted).await.unwrap();
        assert_eq!(s.get_job(done.uuid).await.unwrap(), Some(done.clone()));

        s.finish_job(done.uuid, JobState::Completed, Some(0), "hi\n")
            .await
            .unwrap();
        let failed = s.fail_interrupted_jobs(" (restarted)").await.unwrap();
        assert_eq!(failed, [interrupted.uuid]);

        let finished = s.get_job(done.uuid).await.unwrap().unwrap();
        assert_eq!(finished.state, JobState::Completed);
        assert_eq!(
            (finished.exit_code, finished.output.as_str()),
            (Some(0), "hi\n")
        );
        let failed = s.get_job(interrupted.uuid).await.unwrap().unwrap();
        assert_eq!(failed.state, JobState::Failed);
        assert_eq!(failed.output, " (restarted)");
        assert!(failed.finished.is_some());
    }
}
