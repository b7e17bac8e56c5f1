//! One-off commands in a fresh container of an app (Deis `run`).

use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;

use super::Berth;

use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::output_tail::log_tail;
use crate::runtime::{ContainerSpec, LABEL_APP, LABEL_JOB, RuntimeError};
use crate::spec::{release_env, shell_command};

impl Berth {
    /// Runs a command line in a one-off container of the current release with its config.
    pub async fn run(&self, actor: &User, id: &str, command: &str) -> CoreResult<(i64, String)> {
        let app = self.app(actor, id, Level::User).await?;
        self.may_run(actor, &app).await?;
        if command.trim().is_empty() {
            return Err(CoreError::blank_field("command"));
        }
        let build = self.current_build(&app).await?.ok_or_else(|| {
            CoreError::invalid("No build associated with this release to run this command")
        })?;
        let config = self.current_config(&app).await?;
        let job = Job {
            uuid: Uuid::new_v4(),
            owner_id: actor.id,
            app_id: Some(app.id.clone()),
            kind: "run".into(),
            image: build.image.clone(),
            command: command.to_string(),
            state: JobState::Running,
            exit_code: None,
            output: String::new(),
            created: now(),
            finished: None,
        };
        self.store.insert_job(&job).await?;
        let spec = ContainerSpec {
            name: format!(
                "berth_{}_run_{}",
                app.id,
                &job.uuid.simple().to_string()[..8]
            ),
            image: build.image.clone(),
            entrypoint: Some(Vec::new()),
            cmd: Some(shell_command(command)),
            env: release_env(&app.id, app.release, &config),
            labels: BTreeMap::from([
                (LABEL_APP.to_string(), app.id.clone()),
                (LABEL_JOB.to_string(), job.uuid.to_string()),
            ]),
            owner: Some(app.owner_id),
            ..ContainerSpec::default()
        };
        let timeout = match self.settings.max_job_runtime {
            Some(limit) => limit.min(self.settings.run_timeout),
            None => self.settings.run_timeout,
        };
        let result = self.run_container(&spec, timeout).await;
        let (state, code, output) = match &result {
            Ok(r) => (
                if r.exit_code == 0 {
                    JobState::Completed
                } else {
                    JobState::Failed
                },
                Some(r.exit_code),
                r.output.clone(),
            ),
            Err(e) => (JobState::Failed, None, e.to_string()),
        };
        self.store
            .finish_job(job.uuid, state, code, &output)
            .await?;
        self.event(
            &app,
            &actor.username,
            &format!(
                "{} ran '{}' (exit {})",
                actor.username,
                command,
                code.unwrap_or(-1)
            ),
        )
        .await;
        let r = result.map_err(|e| match e {
            RuntimeError::ImageNotFound(i) => {
                CoreError::invalid(format!("image {i} not found on the engine"))
            }
            RuntimeError::Timeout(m) => CoreError::Failed(format!("command timed out: {m}")),
            other => CoreError::unavailable(other),
        })?;
        Ok((r.exit_code, r.output))
    }

    /// Creates, starts and waits for a container, returns the tail of its
    /// output and always removes it.
    pub async fn run_container(
        &self,
        spec: &ContainerSpec,
        timeout: Duration,
    ) -> Result<crate::runtime::RunOutput, RuntimeError> {
        let id = self.runtime.create(spec).await?;
        let outcome = async {
            self.runtime.start(&id).await?;
            let code = tokio::time::timeout(timeout, self.runtime.wait(&id))
                .await
                .map_err(|_| RuntimeError::Timeout(format!("after {} s", timeout.as_secs())))??;
            let output = self.runtime.logs(&id, None, false).await?;
            Ok(crate::runtime::RunOutput {
                exit_code: code,
                output: log_tail(output).await?,
            })
        }
        .await;
        let _ = self.runtime.remove(&id).await;
        outcome
    }
}
