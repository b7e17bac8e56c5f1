//! The reconcile loop: level-triggered, woken by desired-state writes and
//! engine events, with a periodic resync. Each pass reads the whole desired
//! state and every Berth container, plans per app ([`crate::plan`]) and acts.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use thiserror::Error;
use tokio::sync::watch;
use uuid::Uuid;

use crate::feed::{Change, ChangeKind};
use crate::metrics::{
    RECONCILE_ERRORS, RECONCILE_LAG_SECONDS, RECONCILE_PASS_SECONDS, STORE_READ_SECONDS,
};
use crate::model::{
    Build, Config, Instance, InstanceState, JobState, TOMBSTONE_KEEP, Timestamp, now,
};
use crate::plan::{Action, DesiredApp, Observation, plan_app};
use crate::runtime::*;
use crate::signals::Signals;
use crate::spec::instance_spec;
use crate::store::{Store, StoreError};
use crate::traffic::TrafficControl;

pub const RESYNC: Duration = Duration::from_secs(5);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const PULL_TIMEOUT: Duration = Duration::from_secs(20);
/// Containers created or started at once: enough for a scale to 10 or 16
/// in one wave; the engine serialises much of the work anyway.
const PARALLEL_ACTIONS: usize = 16;

/// Why one step of a pass failed. A pass that fails is retried; an
/// instance whose container could not be made shows the error as its state.
#[derive(Debug, Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] RuntimeError),
    /// A part of the instance's release (release, build, config) is gone.
    #[error("{0}")]
    MissingPart(String),
    #[error("container name {0} is taken")]
    NameTaken(String),
}

impl ReconcileError {
    /// A short fixed name for counting failures by kind.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ReconcileError::Store(_) => "store",
            ReconcileError::Engine(_) => "engine",
            ReconcileError::MissingPart(_) => "missing_part",
            ReconcileError::NameTaken(_) => "name_taken",
        }
    }
}

/// What a pass will do, app by app.
#[derive(Default)]
struct Planned {
    /// With the app and its owner (whose network the container joins).
    starts: Vec<(String, i64, Action)>,
    removals: Vec<Action>,
    wake_at: Option<Timestamp>,
}

pub struct Reconciler {
    store: Arc<dyn Store>,
    runtime: Arc<dyn Runtime>,
    signals: Arc<Signals>,
    pulls: Arc<Mutex<HashMap<String, Pull>>>,
    /// The router's side; without one (tests of the plan alone) an instance
    /// is ready as soon as it is up.
    traffic: Option<TrafficControl>,
    /// Job containers (NDS jobs, `run`) running longer are stopped.
    max_job_runtime: Option<Duration>,
}

/// An image pull running beside the passes, or one that failed and has not
/// been reported to an instance yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pull {
    Running,
    Failed,
}

impl Reconciler {
    pub fn new(store: Arc<dyn Store>, runtime: Arc<dyn Runtime>, signals: Arc<Signals>) -> Self {
        Reconciler {
            store,
            runtime,
            signals,
            pulls: Arc::default(),
            traffic: None,
            max_job_runtime: None,
        }
    }

    /// Routes traffic to the instances this reconciler runs.
    pub fn with_traffic(mut self, traffic: TrafficControl) -> Self {
        self.traffic = Some(traffic);
        self
    }

    /// Stops job containers that have run for longer than `limit` and
    /// marks their jobs failed; `None`: jobs run as long as they like.
    pub fn with_max_job_runtime(mut self, limit: Option<Duration>) -> Self {
        self.max_job_runtime = limit;
        self
    }

    /// Runs passes until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let watcher = tokio::spawn(watch_engine(self.runtime.clone(), self.signals.clone()));
        loop {
            let woken_at = self.signals.take_woken_at();
            let number = self.signals.pass_started();
            let began = std::time::Instant::now();
            let passed = self.pass().await;
            let outcome = if passed.is_ok() { "ok" } else { "failed" };
            self.signals
                .metrics
                .observe(RECONCILE_PASS_SECONDS, &[outcome], began.elapsed());
            if let Some(woken_at) = woken_at {
                self.signals
                    .metrics
                    .observe(RECONCILE_LAG_SECONDS, &[], woken_at.elapsed());
            }
            let wake_at = match passed {
                Ok(w) => w,
                Err(e) => {
                    self.count_error(&e);
                    tracing::warn!(error = %e, "reconcile pass failed; retrying");
                    None
                }
            };
            self.signals.pass_finished(number);
            let mut sleep = RESYNC;
            if let Some(t) = wake_at {
                let until = (t - now())
                    .whole_milliseconds()
                    .clamp(10, RESYNC.as_millis() as i128);
                sleep = Duration::from_millis(until as u64);
            }
            tokio::select! {
                _ = self.signals.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        watcher.abort();
    }

    /// One level-triggered pass over every app: gather what should run and
    /// what runs, plan each app, act. Returns when it must run again.
    pub async fn pass(&self) -> Result<Option<Timestamp>, ReconcileError> {
        let metrics = &self.signals.metrics;
        let began = std::time::Instant::now();
        let apps = self.store.desired_apps().await?;
        metrics.observe(STORE_READ_SECONDS, &["desired_apps"], began.elapsed());
        let began = std::time::Instant::now();
        let rows = self.store.list_instances(None).await?;
        metrics.observe(STORE_READ_SECONDS, &["list_instances"], began.elapsed());
        let containers = self.runtime.list(&[(LABEL_INSTANCE, None)]).await?;
        self.housekeeping().await;
        let planned = self.plan_all(&apps, &rows, containers).await;
        let row_index: HashMap<Uuid, &Instance> = rows.iter().map(|r| (r.uuid, r)).collect();
        futures::stream::iter(planned.starts)
            .for_each_concurrent(PARALLEL_ACTIONS, |(app_id, owner_id, action)| {
                let row = match &action {
                    Action::Ensure { instance }
                    | Action::Start { instance, .. }
                    | Action::Restart { instance, .. } => row_index.get(instance).copied(),
                    _ => None,
                };
                async move { self.act_start(&app_id, owner_id, action, row).await }
            })
            .await;
        // Every instance about to stop leaves the route table first, all at
        // once; the table is published anew before, so that the instances
        // that replace them (ready since the last pass) are in it.
        if planned.removals.iter().any(|a| {
            removed_instance(a)
                .and_then(|u| row_index.get(&u))
                .is_some_and(|r| r.ready)
        }) {
            self.route(&rows).await;
        }
        futures::stream::iter(&planned.removals)
            .filter_map(|action| async { removed_instance(action).and_then(|u| row_index.get(&u)) })
            .for_each_concurrent(PARALLEL_ACTIONS, |row| self.drain(row))
            .await;
        for action in planned.removals {
            let row = removed_instance(&action).and_then(|u| row_index.get(&u).copied());
            self.act_remove(action, row).await;
        }
        self.route(&rows).await;
        Ok(planned.wake_at)
    }

    fn count_error(&self, error: &ReconcileError) {
        self.signals
            .metrics
            .count(RECONCILE_ERRORS, &[error.metric_label()]);
    }

    /// Tells followers of the change feed that `row` entered `state`.
    fn report_state(&self, row: &Instance, owner_id: Option<i64>, state: InstanceState) {
        if row.state == state && state != InstanceState::Destroyed {
            return;
        }
        let instance = format!("{}.{}", row.proc_type, row.num);
        self.signals.changes.send(Change::new(
            &row.app_id,
            owner_id,
            ChangeKind::InstanceState {
                instance,
                release: row.release,
                state,
            },
        ));
    }

    async fn drain(&self, row: &Instance) {
        if let Some(traffic) = &self.traffic {
            traffic.drain(&self.store, row).await;
        }
    }

    /// Publishes the route table and health-checks what came up; with no
    /// router, whatever came up is ready.
    async fn route(&self, rows: &[Instance]) {
        match &self.traffic {
            Some(traffic) => traffic.refresh(&self.store, &self.signals).await,
            None => {
                let mut readied = false;
                for row in rows
                    .iter()
                    .filter(|r| r.state == InstanceState::Up && !r.ready)
                {
                    readied |= self.store.set_instance_ready(row.uuid, true).await.is_ok();
                }
                if readied {
                    self.signals.wake();
                }
            }
        }
    }

    /// Work of the pass that is not about instances: job containers, apps
    /// whose stop time came, tombstones past their keep.
    async fn housekeeping(&self) {
        self.sweep_jobs().await;
        match self.store.expire_apps(now()).await {
            Ok(expired) => {
                for object in expired {
                    tracing::info!(app = %object, "time to stop reached; turned off");
                    let _ = self
                        .store
                        .add_event(&object, "berth", "time to stop reached: turned off")
                        .await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not expire apps"),
        }
        if let Err(e) = self.store.purge_tombstones(now() - TOMBSTONE_KEEP).await {
            tracing::warn!(error = %e, "could not purge tombstones");
        }
    }

    /// Plans every app that is desired, has rows or has containers; records
    /// what the plans observed and each app's first instance error.
    async fn plan_all(
        &self,
        apps: &[DesiredApp],
        rows: &[Instance],
        containers: Vec<ContainerInfo>,
    ) -> Planned {
        let mut row_groups: HashMap<&str, Vec<Instance>> = HashMap::new();
        for r in rows {
            row_groups
                .entry(r.app_id.as_str())
                .or_default()
                .push(r.clone());
        }
        let mut container_groups: HashMap<String, Vec<ContainerInfo>> = HashMap::new();
        for c in containers {
            let app = c.label(LABEL_APP).unwrap_or_default().to_string();
            container_groups.entry(app).or_default().push(c);
        }
        let by_id: HashMap<&str, &DesiredApp> =
            apps.iter().map(|a| (a.app_id.as_str(), a)).collect();
        let mut app_ids: BTreeSet<&str> = by_id.keys().copied().collect();
        app_ids.extend(row_groups.keys().copied());
        app_ids.extend(container_groups.keys().map(String::as_str));

        let t = now();
        let mut planned = Planned::default();
        for id in app_ids {
            let desired = by_id.get(id).copied();
            let app_rows = row_groups.get(id).map(Vec::as_slice).unwrap_or_default();
            let app_containers = container_groups
                .get(id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let plan = plan_app(desired, app_rows, app_containers, t);
            for obs in &plan.observations {
                match self.store.observe_instance(obs).await {
                    Ok(()) => {
                        if let Some(row) = app_rows.iter().find(|r| r.uuid == obs.instance) {
                            self.report_state(row, desired.map(|d| d.owner_id), obs.state);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not record instance state"),
                }
            }
            if let Some(w) = plan.wake_at {
                planned.wake_at = Some(planned.wake_at.map_or(w, |x: Timestamp| x.min(w)));
            }
            if let Some(desired) = desired {
                let first_error = app_rows
                    .iter()
                    .filter_map(|r| {
                        let obs = plan.observations.iter().find(|o| o.instance == r.uuid);
                        let (state, msg) =
                            obs.map_or((r.state, &r.message), |o| (o.state, &o.message));
                        (state == InstanceState::Error).then(|| msg.clone().unwrap_or_default())
                    })
                    .next();
                if desired.error != first_error
                    && let Err(e) = self.store.set_app_error(id, first_error.as_deref()).await
                {
                    tracing::warn!(error = %e, "could not record app error");
                }
            }
            for action in plan.actions {
                match action {
                    Action::Remove { .. }
                    | Action::RemoveOrphan { .. }
                    | Action::Stop { .. }
                    | Action::Destroy { .. } => planned.removals.push(action),
                    // Only a desired app is planned anything but removals.
                    _ => {
                        if let Some(desired) = desired {
                            planned
                                .starts
                                .push((id.to_string(), desired.owner_id, action));
                        }
                    }
                }
            }
        }
        planned
    }

    async fn act_start(&self, app_id: &str, owner_id: i64, action: Action, row: Option<&Instance>) {
        let result = match action {
            Action::Create {
                proc_type,
                num,
                release,
            } => {
                let instance = Instance::new(app_id, release, &proc_type, num);
                // The row is written before the container exists, so a crash in
                // between leaves a row that the next pass completes, never a stray.
                match self.store.insert_instance(&instance).await {
                    Ok(true) => {
                        self.signals.changes.send(Change::new(
                            app_id,
                            Some(owner_id),
                            ChangeKind::InstanceState {
                                instance: format!("{}.{}", instance.proc_type, instance.num),
                                release: instance.release,
                                state: instance.state,
                            },
                        ));
                        self.ensure(app_id, owner_id, &instance).await
                    }
                    Ok(false) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
            Action::Ensure { .. } => match row {
                Some(r) => self.ensure(app_id, owner_id, r).await,
                None => Ok(()),
            },
            Action::Start { container_id, .. } => match row {
                Some(r) => self.start(r, &container_id).await,
                None => Ok(()),
            },
            Action::Restart {
                instance,
                container_id,
            } => match row {
                Some(r) => {
                    self.drain(r).await;
                    let restarted = match container_id {
                        Some(id) => match self.runtime.stop(&id, STOP_TIMEOUT).await {
                            Ok(()) => self.start(r, &id).await,
                            Err(e) => Err(e.into()),
                        },
                        None => self.ensure(app_id, owner_id, r).await,
                    };
                    // Done or failed, the request is answered: a failure shows as the instance's state.
                    let cleared = self.store.clear_restart(instance).await;
                    restarted.and(cleared.map_err(ReconcileError::from))
                }
                None => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.count_error(&e);
            tracing::warn!(app = app_id, error = %e, kind = e.metric_label(), "instance action failed");
        }
    }

    /// Creates the instance's container (adopting one a previous run left) and starts it.
    async fn ensure(
        &self,
        app_id: &str,
        owner_id: i64,
        row: &Instance,
    ) -> Result<(), ReconcileError> {
        let (build, config) = match self.release_parts(app_id, row.release).await {
            Ok(parts) => parts,
            Err(e) => return self.record_error(row, e).await,
        };
        let spec = instance_spec(app_id, owner_id, row, &build, &config);
        let created = self.runtime.create(&spec).await;
        if let Err(RuntimeError::ImageNotFound(_)) = &created
            && self.pull_in_background(&spec.image) == Pull::Running
        {
            // The row waits, as it is; the pull wakes the next pass.
            return Ok(());
        }
        let id = match created {
            Ok(id) => id,
            Err(RuntimeError::Conflict(_)) => {
                let uuid = row.uuid.to_string();
                let found = self
                    .runtime
                    .list(&[(LABEL_INSTANCE, Some(uuid.as_str()))])
                    .await?;
                match found.into_iter().next() {
                    Some(c) => c.id,
                    None => return Err(ReconcileError::NameTaken(spec.name)),
                }
            }
            Err(e) => return self.record_error(row, e.into()).await,
        };
        self.start(row, &id).await
    }

    /// Pulls a missing image outside the pass, one pull per image, so that
    /// an image that is slow or impossible to pull delays only the instances
    /// that need it. Returns `Failed` once for a pull that failed, so that an
    /// instance reports it (and its backoff schedules the next try).
    fn pull_in_background(&self, image: &str) -> Pull {
        let mut pulls = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        match pulls.get(image).copied() {
            Some(Pull::Running) => Pull::Running,
            Some(Pull::Failed) => {
                pulls.remove(image);
                Pull::Failed
            }
            None => {
                pulls.insert(image.to_string(), Pull::Running);
                let (runtime, signals, pulls) = (
                    self.runtime.clone(),
                    self.signals.clone(),
                    self.pulls.clone(),
                );
                let image = image.to_string();
                tokio::spawn(async move {
                    let pulled = runtime.pull(&image, PULL_TIMEOUT).await;
                    if let Err(e) = &pulled {
                        tracing::warn!(%image, error = %e, "image pull failed");
                    }
                    let mut pulls = pulls.lock().unwrap_or_else(|e| e.into_inner());
                    match pulled {
                        Ok(()) => pulls.remove(&image),
                        Err(_) => pulls.insert(image, Pull::Failed),
                    };
                    drop(pulls);
                    signals.wake();
                });
                Pull::Running
            }
        }
    }

    async fn start(&self, row: &Instance, container_id: &str) -> Result<(), ReconcileError> {
        match self.runtime.start(container_id).await {
            Ok(()) => {
                let obs = Observation {
                    instance: row.uuid,
                    // The engine started the process: it is up until an event says otherwise.
                    state: InstanceState::Up,
                    exit_code: None,
                    message: None,
                    engine_id: Some(container_id.to_string()),
                    node: row.node.clone(),
                    restarts: row.restarts,
                    next_restart: None,
                    ports: row.ports.clone(),
                    address: row.address.clone(),
                };
                self.store.observe_instance(&obs).await?;
                self.report_state(row, None, InstanceState::Up);
                Ok(())
            }
            // The engine may still be finishing a create a dead server asked for:
            // the container is listed but cannot be started yet. That is not
            // the instance's fault; the next pass tries again.
            Err(e @ RuntimeError::NotFound(_)) => Err(e.into()),
            Err(e) => self.record_error(row, e.into()).await,
        }
    }

    /// Shows `error` as the instance's state, with a backoff before its next try.
    async fn record_error(
        &self,
        row: &Instance,
        error: ReconcileError,
    ) -> Result<(), ReconcileError> {
        let obs = Observation::error(row, error.to_string(), now());
        self.store.observe_instance(&obs).await?;
        self.report_state(row, None, obs.state);
        Err(error)
    }

    async fn release_parts(
        &self,
        app_id: &str,
        version: i64,
    ) -> Result<(Build, Config), ReconcileError> {
        let missing = |what: String| ReconcileError::MissingPart(what);
        let release = self
            .store
            .get_release(app_id, version)
            .await?
            .ok_or_else(|| missing(format!("release v{version} of {app_id} is gone")))?;
        let build_id = release
            .build
            .ok_or_else(|| missing(format!("release v{version} has no build")))?;
        let build = self
            .store
            .get_build(build_id)
            .await?
            .ok_or_else(|| missing("build is gone".into()))?;
        let config = self
            .store
            .get_config(release.config)
            .await?
            .ok_or_else(|| missing("config is gone".into()))?;
        Ok((build, config))
    }

    async fn act_remove(&self, action: Action, row: Option<&Instance>) {
        let result: Result<(), ReconcileError> = match action {
            // Recorded at once: a start that comes before the next pass
            // must find the exit Berth caused, not a crash.
            Action::Stop { container_id, .. } => {
                match self.runtime.stop(&container_id, STOP_TIMEOUT).await {
                    Ok(()) => match row {
                        Some(r) => {
                            let stopped = Observation::stopped(r);
                            let observed = self.store.observe_instance(&stopped).await;
                            if observed.is_ok() {
                                self.report_state(r, None, stopped.state);
                            }
                            observed.map_err(Into::into)
                        }
                        None => Ok(()),
                    },
                    Err(e) => Err(e.into()),
                }
            }
            Action::RemoveOrphan { container_id } => {
                self.runtime.remove(&container_id).await.map_err(Into::into)
            }
            Action::Remove {
                instance,
                container_id,
            } => {
                let removed = match container_id {
                    Some(id) => self.runtime.remove(&id).await,
                    None => Ok(()),
                };
                match removed {
                    Ok(()) => {
                        let deleted = self.store.delete_instance(instance).await;
                        if let (Ok(()), Some(r)) = (&deleted, row) {
                            self.report_state(r, None, InstanceState::Destroyed);
                        }
                        deleted.map_err(Into::into)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Action::Destroy {
                instance,
                container_id,
                ..
            } => {
                // Row and count go in one transaction first: the container is
                // then an orphan the next pass removes even after a crash here.
                let destroyed = self.store.destroy_instance(instance).await;
                if let (Ok(()), Some(r)) = (&destroyed, row) {
                    self.report_state(r, None, InstanceState::Destroyed);
                }
                match destroyed {
                    Ok(()) => match container_id {
                        Some(id) => self.runtime.remove(&id).await.map_err(Into::into),
                        None => Ok(()),
                    },
                    Err(e) => Err(e.into()),
                }
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.count_error(&e);
            tracing::warn!(error = %e, kind = e.metric_label(), "removal failed; will retry");
        }
    }

    /// Job containers whose job row is gone are removed, and one-off job
    /// containers whose job is no longer running (the server died while
    /// waiting on them). Script jobs keep theirs until they are deleted.
    async fn sweep_jobs(&self) {
        let Ok(containers) = self.runtime.list(&[(LABEL_JOB, None)]).await else {
            return;
        };
        for c in containers {
            let job = c.label(LABEL_JOB).and_then(|s| Uuid::parse_str(s).ok());
            let keep = match job {
                Some(uuid) => match self.store.get_job(uuid).await {
                    Ok(Some(j)) if self.past_runtime_limit(&j) => {
                        self.stop_overdue_job(&j, &c.id).await;
                        j.keeps_container()
                    }
                    Ok(Some(j)) => j.state == JobState::Running || j.keeps_container(),
                    Ok(None) => false,
                    // Unsure: the next pass decides.
                    Err(_) => true,
                },
                None => false,
            };
            if !keep {
                let _ = self.runtime.remove(&c.id).await;
            }
        }
    }

    /// Whether an unfinished job has run for longer than the operator allows.
    fn past_runtime_limit(&self, job: &crate::model::Job) -> bool {
        let Some(limit) = self.max_job_runtime else {
            return false;
        };
        matches!(job.state, JobState::Pending | JobState::Running)
            && (now() - job.created).whole_seconds() >= limit.as_secs() as i64
    }

    /// Stops the container of a job past the runtime limit and records why.
    async fn stop_overdue_job(&self, job: &crate::model::Job, container_id: &str) {
        let limit = self.max_job_runtime.unwrap_or_default().as_secs();
        if let Err(e) = self.runtime.stop(container_id, STOP_TIMEOUT).await {
            tracing::warn!(job = %job.uuid, error = %e, "cannot stop a job past the runtime limit");
            return;
        }
        let exit_code = self
            .runtime
            .inspect(container_id)
            .await
            .ok()
            .and_then(|c| c.exit_code);
        let note = format!(
            "{}\n(stopped: the runtime limit of {limit} s was reached)",
            job.output
        );
        let _ = self
            .store
            .finish_job(job.uuid, JobState::Failed, exit_code, note.trim_start())
            .await;
        tracing::info!(job = %job.uuid, limit_s = limit, "job stopped at the runtime limit");
    }
}

/// The instance an action stops or removes, if it is one of Berth's rows.
fn removed_instance(action: &Action) -> Option<Uuid> {
    match action {
        Action::Remove { instance, .. }
        | Action::Stop { instance, .. }
        | Action::Destroy { instance, .. } => Some(*instance),
        _ => None,
    }
}

/// Wakes the reconciler on every container event, resubscribing when the
/// engine drops the stream.
async fn watch_engine(runtime: Arc<dyn Runtime>, signals: Arc<Signals>) {
    loop {
        match runtime.events().await {
            Ok(mut events) => {
                while let Some(ev) = events.next().await {
                    match ev {
                        Ok(_) => signals.wake(),
                        Err(e) => {
                            tracing::debug!(error = %e, "engine event stream ended");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "engine events unavailable"),
        }
        signals.wake();
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
