//! The script-job use cases on [`Berth`]: submit, observe, list, stop,
//! inspect (output, diff, metrics, files), delete and expire jobs, and the
//! images a job may run in.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use uuid::Uuid;

use super::rules::{
    download_path, image_reference, is_final, observed_state, read_download, script_archive,
    validate_file_name,
};
use super::{
    DATA_MOUNT, DEFAULT_SCRIPT_NAME, JOB_DIR, JobObservation, MetricsSample, NewScriptJob,
    ObservedJob, SCRIPT_JOB_KIND, ScriptJob, StopOutcome,
};
use crate::archive::Download;
use crate::catalog::{CatalogStatus, RepoListQuery};
use crate::error::{CoreError, CoreResult};
use crate::image;
use crate::model::{Job, JobState, User, now};
use crate::quota::Resource;
use crate::runtime::{BindMount, ContainerInfo, ContainerSpec, FsChange, LABEL_JOB, RuntimeError};
use crate::service::{Berth, QuotaHold};

const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_SCRIPT_BYTES: usize = 1 << 20;

fn job_not_found(what: &str) -> CoreError {
    CoreError::not_found(format!("job {what} not found"))
}

fn container_of(observed: &ObservedJob) -> CoreResult<&ContainerInfo> {
    observed
        .container
        .as_ref()
        .ok_or_else(|| CoreError::not_found("the job's container no longer exists"))
}

impl Berth {
    /// Jobs take no grants and are never public: only their owner and administrators see one.
    fn may_see(actor: &User, job: &ScriptJob) -> bool {
        crate::access::level(actor, job.job.owner_id, None, false).is_some()
    }

    /// Creates the job's container with the script in it and starts it.
    pub async fn submit_script_job(
        &self,
        actor: &User,
        request: NewScriptJob,
    ) -> CoreResult<ScriptJob> {
        if request.script.is_empty() {
            return Err(CoreError::invalid_field(
                "script",
                "give the script as 'script' (text) or 'file' (an uploaded file)",
            ));
        }
        if request.script.len() > MAX_SCRIPT_BYTES {
            return Err(CoreError::invalid_field(
                "script",
                "the script is too large",
            ));
        }
        let script_name = request
            .script_name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_SCRIPT_NAME.into());
        validate_file_name("scriptname", &script_name)?;
        let image = image_reference(request.image_name.as_deref(), request.image_tag.as_deref())?;
        let dataset = request.dataset.filter(|d| !d.is_empty());
        let mount = match &dataset {
            Some(name) => Some(self.dataset_dir(actor, name).await?),
            None => None,
        };
        self.require_image(actor, &image).await?;
        self.purge_expired_script_jobs().await;
        // Held until the job's row is written: the row is what the next check counts.
        let quota = self.hold_jobs_quota(actor).await?;

        let job = ScriptJob {
            job: Job {
                uuid: Uuid::new_v4(),
                owner_id: actor.id,
                app_id: None,
                kind: SCRIPT_JOB_KIND.into(),
                image: image.clone(),
                command: format!("/bin/sh {script_name}"),
                state: JobState::Pending,
                exit_code: None,
                output: String::new(),
                created: now(),
                finished: None,
            },
            script_name: script_name.clone(),
            dataset,
            container_id: None,
            node: None,
            started: None,
            metrics: None,
        };
        // The row comes first: a container whose job row is missing is an
        // orphan the reconciler removes.
        self.store.insert_script_job(&job).await?;
        drop(quota);
        let spec = ContainerSpec {
            name: format!("berth_job_{}", job.job.uuid.simple()),
            image: image.clone(),
            entrypoint: Some(Vec::new()),
            cmd: Some(vec!["/bin/sh".into(), script_name.clone()]),
            working_dir: Some(JOB_DIR.into()),
            labels: BTreeMap::from([(LABEL_JOB.to_string(), job.job.uuid.to_string())]),
            mounts: mount
                .map(|source| BindMount {
                    source: source.to_string_lossy().into_owned(),
                    target: DATA_MOUNT.into(),
                    read_only: true,
                })
                .into_iter()
                .collect(),
            owner: Some(actor.id),
            ..ContainerSpec::default()
        };
        let archive = script_archive(&script_name, &request.script)?;
        if let Err(e) = self.start_job_container(&job, &spec, archive).await {
            let _ = self.store.delete_script_job(job.job.uuid).await;
            return Err(match e {
                RuntimeError::ImageNotFound(i) => CoreError::invalid_field(
                    "image_name",
                    format!("image {i} not found on the engine"),
                ),
                other => CoreError::unavailable(other),
            });
        }
        tracing::info!(job = %job.job.uuid, by = %actor.username, %image, "script job started");
        self.note_image_used(&image).await;
        Ok(self.observe(job).await?.job)
    }

    /// Checks the jobs quota under the actor's quota lock, which the caller
    /// holds until the new job's row is written. When the rows decide it,
    /// the jobs they record as unfinished are looked at on the engine
    /// first: one may have ended since anybody asked.
    async fn hold_jobs_quota(&self, actor: &User) -> CoreResult<QuotaHold> {
        let quotas = self.settings.quotas;
        if quotas.jobs == 0 {
            return Ok(None);
        }
        let hold = self.quota_locks.lock(actor.id).await;
        let unfinished: Vec<ScriptJob> = self
            .store
            .list_script_jobs(actor.id)
            .await?
            .into_iter()
            .filter(|j| !is_final(j.job.state))
            .collect();
        let mut used = unfinished.len() as u64;
        if quotas.check(Resource::Jobs, used, 1).is_err() {
            used = 0;
            for job in unfinished {
                if !is_final(self.observe(job).await?.job.job.state) {
                    used += 1;
                }
            }
        }
        quotas.check(Resource::Jobs, used, 1)?;
        Ok(Some(hold))
    }

    /// Create, copy the script in, record the container, start; a failure
    /// removes the container again.
    async fn start_job_container(
        &self,
        job: &ScriptJob,
        spec: &ContainerSpec,
        archive: Vec<u8>,
    ) -> Result<(), RuntimeError> {
        let id = self.runtime.create(spec).await?;
        let started = async {
            self.runtime.put_archive(&id, "/", archive).await?;
            self.store
                .set_job_container(job.job.uuid, &id)
                .await
                .map_err(|e| RuntimeError::Engine(e.to_string()))?;
            self.runtime.start(&id).await
        }
        .await;
        if started.is_err() {
            let _ = self.runtime.remove(&id).await;
        }
        started
    }

    /// Reads the job's container and records what changed.
    async fn observe(&self, job: ScriptJob) -> CoreResult<ObservedJob> {
        let container = match &job.container_id {
            None => None,
            Some(id) => match self.runtime.inspect(id).await {
                Ok(c) => Some(c),
                Err(RuntimeError::NotFound(_)) => None,
                Err(e) => return Err(CoreError::unavailable(e)),
            },
        };
        self.settle(job, container).await
    }

    /// Records the state `container` shows (inspected: with its times).
    async fn settle(
        &self,
        mut job: ScriptJob,
        container: Option<ContainerInfo>,
    ) -> CoreResult<ObservedJob> {
        // No container recorded yet: submission is under way (or was cut
        // off, and the restart marked it failed).
        if job.container_id.is_none() {
            return Ok(ObservedJob { job, container });
        }
        let engine = container.as_ref().map(|c| (c.state, c.exit_code));
        let state = observed_state(job.job.state, engine);
        let finished = is_final(state);
        let obs = JobObservation {
            state,
            exit_code: match &container {
                Some(c) if finished => c.exit_code,
                Some(_) => None,
                None => job.job.exit_code,
            },
            node: container
                .as_ref()
                .and_then(|c| c.node.clone())
                .or(job.node.clone()),
            started: container
                .as_ref()
                .and_then(|c| c.started_at)
                .or(job.started),
            finished: if finished {
                container
                    .as_ref()
                    .and_then(|c| c.finished_at)
                    .or(job.job.finished)
                    .or_else(|| Some(now()))
            } else {
                None
            },
        };
        let recorded = JobObservation {
            state: job.job.state,
            exit_code: job.job.exit_code,
            node: job.node.clone(),
            started: job.started,
            finished: job.job.finished,
        };
        if obs != recorded {
            self.store
                .record_job_observation(job.job.uuid, &obs)
                .await?;
            job.job.state = obs.state;
            job.job.exit_code = obs.exit_code;
            job.node = obs.node;
            job.started = obs.started;
            job.job.finished = obs.finished;
        }
        Ok(ObservedJob { job, container })
    }

    /// A job the actor may see, by its id, as the engine shows it now.
    pub async fn script_job(&self, actor: &User, uuid: Uuid) -> CoreResult<ObservedJob> {
        let job = self
            .store
            .get_script_job(uuid)
            .await?
            .filter(|j| Self::may_see(actor, j))
            .ok_or_else(|| job_not_found(&uuid.to_string()))?;
        self.observe(job).await
    }

    /// A job the actor may see, by its container's id (or a prefix of at
    /// least 12 characters, as the engine shows them).
    pub async fn script_job_by_container(
        &self,
        actor: &User,
        container_id: &str,
    ) -> CoreResult<ObservedJob> {
        let id = container_id.trim().to_ascii_lowercase();
        if id.len() < 12 || id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(CoreError::invalid_field(
                "cont_id",
                "must be a container id (12 to 64 hex digits)",
            ));
        }
        let mut found: Vec<ScriptJob> = self
            .store
            .script_jobs_by_container(&id)
            .await?
            .into_iter()
            .filter(|j| Self::may_see(actor, j))
            .collect();
        if found.len() != 1 {
            return Err(CoreError::not_found(format!(
                "container {container_id} not found"
            )));
        }
        self.observe(found.remove(0)).await
    }

    /// The actor's own jobs, oldest first, observed with one engine listing.
    pub async fn script_jobs(&self, actor: &User) -> CoreResult<Vec<ObservedJob>> {
        self.purge_expired_script_jobs().await;
        let jobs = self.store.list_script_jobs(actor.id).await?;
        let containers: HashMap<String, ContainerInfo> = self
            .runtime
            .list(&[(LABEL_JOB, None)])
            .await
            .map_err(CoreError::unavailable)?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            let listed = job.container_id.as_ref().and_then(|id| containers.get(id));
            let unchanged = observed_state(job.job.state, listed.map(|c| (c.state, c.exit_code)))
                == job.job.state;
            if unchanged {
                out.push(ObservedJob {
                    container: listed.cloned(),
                    job,
                });
            } else {
                // A listing carries no times: inspect the ones that changed.
                out.push(self.observe(job).await?);
            }
        }
        Ok(out)
    }

    /// stdout and stderr of the job so far, as the engine interleaved them
    /// (the tail only, see [`crate::output_tail`]).
    pub async fn script_job_output(&self, actor: &User, container_id: &str) -> CoreResult<String> {
        let observed = self.script_job_by_container(actor, container_id).await?;
        let container = container_of(&observed)?;
        let lines = self
            .runtime
            .logs(&container.id, None, false)
            .await
            .map_err(CoreError::from)?;
        Ok(crate::output_tail::log_tail(lines).await?)
    }

    pub async fn stop_script_job(
        &self,
        actor: &User,
        container_id: &str,
    ) -> CoreResult<StopOutcome> {
        let observed = self.script_job_by_container(actor, container_id).await?;
        let Some(container) = &observed.container else {
            return Ok(StopOutcome::Gone);
        };
        if is_final(observed.job.job.state) {
            return Ok(StopOutcome::AlreadyFinished(observed.job.job.state));
        }
        if let Err(e) = self.runtime.stop(&container.id, STOP_TIMEOUT).await {
            return Ok(StopOutcome::Refused(e.to_string()));
        }
        let after = self.runtime.inspect(&container.id).await.ok();
        let obs = JobObservation {
            state: JobState::Cancelled,
            exit_code: after.as_ref().and_then(|c| c.exit_code),
            node: observed.job.node.clone(),
            started: observed.job.started,
            finished: after.and_then(|c| c.finished_at).or_else(|| Some(now())),
        };
        self.store
            .record_job_observation(observed.job.job.uuid, &obs)
            .await?;
        tracing::info!(job = %observed.job.job.uuid, by = %actor.username, "script job stopped");
        Ok(StopOutcome::Stopped)
    }

    /// The container's filesystem changes against its image.
    pub async fn script_job_diff(
        &self,
        actor: &User,
        container_id: &str,
    ) -> CoreResult<Vec<FsChange>> {
        let observed = self.script_job_by_container(actor, container_id).await?;
        let container = container_of(&observed)?;
        self.runtime
            .diff(&container.id)
            .await
            .map_err(CoreError::from)
    }

    /// Samples the resource use of every running script job, so that a job
    /// shows its last known use after it ended even if nobody asked while it
    /// ran. Called periodically by the server.
    pub async fn sample_running_script_jobs(&self) {
        let jobs = match self.store.running_script_jobs().await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "could not list running jobs");
                return;
            }
        };
        for job in jobs {
            let Ok(observed) = self.observe(job).await else {
                continue;
            };
            self.sample_metrics(&observed).await;
        }
    }

    /// One sample of a running job's resource use, recorded; `None` when the
    /// job does not run (or ended between the engine's two samples).
    async fn sample_metrics(&self, observed: &ObservedJob) -> Option<MetricsSample> {
        if observed.job.job.state != JobState::Running {
            return None;
        }
        let container = observed.container.as_ref()?;
        let stats = self.runtime.stats(&container.id).await.ok()?;
        let sample = MetricsSample::new(stats, now());
        if let Err(e) = self
            .store
            .record_job_metrics(observed.job.job.uuid, &sample)
            .await
        {
            tracing::warn!(job = %observed.job.job.uuid, error = %e, "could not record job metrics");
        }
        Some(sample)
    }

    /// Resource use now (two samples) while the job runs; afterwards the
    /// last sample taken, if any was.
    pub async fn script_job_metrics(
        &self,
        actor: &User,
        container_id: &str,
    ) -> CoreResult<ObservedJob> {
        let mut observed = self.script_job_by_container(actor, container_id).await?;
        if let Some(sample) = self.sample_metrics(&observed).await {
            observed.job.metrics = Some(sample);
        }
        Ok(observed)
    }

    /// A file of the job's container as bytes, or a directory as a tar.
    pub async fn download_from_script_job(
        &self,
        actor: &User,
        uuid: Uuid,
        path: Option<&str>,
    ) -> CoreResult<Download> {
        let path = download_path(path)?;
        let observed = self.script_job(actor, uuid).await?;
        let container = container_of(&observed)?;
        let tar = self
            .runtime
            .get_archive(&container.id, &path)
            .await
            .map_err(|e| match e {
                RuntimeError::NotFound(_) => {
                    CoreError::not_found(format!("{path} not found in the job's container"))
                }
                other => other.into(),
            })?;
        read_download(tar)
    }

    /// Deletes the job and its container.
    pub async fn delete_script_job(&self, actor: &User, uuid: Uuid) -> CoreResult<()> {
        let job = self
            .store
            .get_script_job(uuid)
            .await?
            .filter(|j| Self::may_see(actor, j))
            .ok_or_else(|| job_not_found(&uuid.to_string()))?;
        self.remove_script_job(&job).await;
        tracing::info!(job = %uuid, by = %actor.username, "script job deleted");
        Ok(())
    }

    /// Row first: if removing the container fails, the reconciler removes
    /// it later as a container whose job is gone.
    async fn remove_script_job(&self, job: &ScriptJob) {
        if let Err(e) = self.store.delete_script_job(job.job.uuid).await {
            tracing::warn!(job = %job.job.uuid, error = %e, "could not delete job");
            return;
        }
        if let Some(id) = &job.container_id
            && let Err(e) = self.runtime.remove(id).await
        {
            tracing::warn!(job = %job.job.uuid, error = %e, "could not remove job container; the reconciler will");
        }
    }

    /// Removes jobs that finished longer than the retention period ago.
    pub async fn purge_expired_script_jobs(&self) {
        let Ok(retention) = time::Duration::try_from(self.settings.job_retention) else {
            return;
        };
        let cutoff = now() - retention;
        let candidates = match self.store.script_jobs_created_before(cutoff).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "could not list expired jobs");
                return;
            }
        };
        for job in candidates {
            let Ok(observed) = self.observe(job).await else {
                continue;
            };
            if observed.job.job.finished.is_some_and(|f| f < cutoff) {
                self.remove_script_job(&observed.job).await;
                tracing::info!(job = %observed.job.job.uuid, "expired script job removed");
            }
        }
    }

    /// The images jobs can run in, as (name, tag): what the engine has,
    /// and the enabled versions of the catalog the actor can see, less the
    /// built images the actor may not use.
    pub async fn script_job_images(&self, actor: &User) -> CoreResult<Vec<(String, String)>> {
        let mut references = self
            .runtime
            .list_images()
            .await
            .map_err(CoreError::unavailable)?;
        const PAGE: i64 = 100;
        for page in 1.. {
            let query = RepoListQuery {
                page,
                size: PAGE,
                kind: None,
                is_public: None,
                status: Some(CatalogStatus::Enabled),
            };
            let repos = self.list_image_repos(actor, &query).await?;
            for repo in &repos.items {
                let versions = self.store.repo_versions(repo.id).await?;
                references.extend(
                    versions
                        .into_iter()
                        .filter(|v| v.status == CatalogStatus::Enabled)
                        .map(|v| v.image_ref),
                );
            }
            if page * PAGE >= repos.total {
                break;
            }
        }
        let references = self.usable_images(actor, references).await?;
        let mut images: Vec<(String, String)> = references
            .iter()
            .map(|r| {
                let (name, tag) = image::split_tag(r);
                (
                    name.to_string(),
                    tag.unwrap_or(image::DEFAULT_TAG).to_string(),
                )
            })
            .collect();
        images.sort();
        images.dedup();
        Ok(images)
    }
}
