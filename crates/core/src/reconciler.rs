//! The reconcile loop: level-triggered, woken by desired-state writes and
//! engine events, with a periodic resync. Each pass reads the whole desired
//! state and every Berth container, plans per app ([`crate::plan`]) and acts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::model::{Build, Config, Instance, InstanceState, Timestamp, now};
use crate::plan::{Action, DesiredApp, Observation, plan_app};
use crate::rules::{DEFAULT_PROC_TYPE, parse_memory, restart_backoff_secs};
use crate::runtime::*;
use crate::store::Store;

pub const RESYNC: Duration = Duration::from_secs(5);
/// How long a deleted app stays listed (Tutum shows it as Terminated).
pub const TOMBSTONE_KEEP: time::Duration = time::Duration::minutes(5);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const PULL_TIMEOUT: Duration = Duration::from_secs(20);
/// Containers created or started at once: enough for a scale to 10 or 16
/// in one wave; the engine serialises much of the work anyway.
const PARALLEL_ACTIONS: usize = 16;

/// How requests and the reconciler signal each other.
#[derive(Debug)]
pub struct Signals {
    wake: Notify,
    /// Number of the last pass that started.
    started: AtomicU64,
    /// Number of the last pass that finished.
    finished: watch::Sender<u64>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            wake: Notify::new(),
            started: AtomicU64::new(0),
            finished: watch::channel(0).0,
        }
    }
}

impl Signals {
    /// Asks for a pass soon; called after every desired-state write.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Marks "now": a pass that starts after this ticket sees every write
    /// made before it.
    pub fn ticket(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    /// The number of the last finished pass: waiting past it waits for the
    /// pass running now, if any, whose writes may postdate a read made now.
    pub fn last_finished(&self) -> u64 {
        *self.finished.borrow()
    }

    /// Waits until a pass numbered above `ticket` has finished, or `timeout`.
    pub async fn pass_after(&self, ticket: u64, timeout: Duration) {
        let mut rx = self.finished.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|n| *n > ticket)).await;
    }

    fn pass_started(&self) -> u64 {
        self.started.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn pass_finished(&self, number: u64) {
        self.finished.send_replace(number);
    }
}

/// A container to create for an instance, resolved from its release.
pub fn instance_spec(
    app_id: &str,
    instance: &Instance,
    build: &Build,
    config: &Config,
) -> ContainerSpec {
    let mut spec = ContainerSpec {
        name: format!(
            "berth_{app_id}_{}.{}_{}",
            instance.proc_type,
            instance.num,
            &instance.uuid.simple().to_string()[..8]
        ),
        image: build.image.clone(),
        env: release_env(app_id, instance.release, config),
        labels: BTreeMap::from([
            (LABEL_APP.to_string(), app_id.to_string()),
            (LABEL_INSTANCE.to_string(), instance.uuid.to_string()),
            (LABEL_RELEASE.to_string(), instance.release.to_string()),
            (LABEL_PROC.to_string(), instance.proc_type.clone()),
            (LABEL_NUM.to_string(), instance.num.to_string()),
        ]),
        memory_bytes: config
            .values
            .memory
            .get(&instance.proc_type)
            .and_then(|m| parse_memory(m).ok()),
        cpu_shares: config
            .values
            .cpu
            .get(&instance.proc_type)
            .map(|c| i64::from(*c)),
        ports: config.values.policy.ports.clone(),
        nano_cpus: config
            .values
            .policy
            .cpu_limit_millis
            .map(|m| i64::from(m) * 1_000_000),
        ..ContainerSpec::default()
    };
    if let Some(command) = build.procfile.get(&instance.proc_type) {
        spec.entrypoint = Some(Vec::new());
        spec.cmd = Some(shell_command(command));
    } else if build.command.is_some() || build.entrypoint.is_some() {
        spec.cmd = build.command.clone();
        spec.entrypoint = build.entrypoint.clone();
    } else if instance.proc_type != DEFAULT_PROC_TYPE {
        tracing::warn!(app = app_id, proc = %instance.proc_type, "process type missing from procfile");
    }
    spec
}

/// Procfile entries and `run` commands are command lines for the image's shell.
pub fn shell_command(command: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), command.into()]
}

/// The environment every container of a release gets: the config values
/// plus the names Deis apps rely on.
pub fn release_env(app_id: &str, release: i64, config: &Config) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = config
        .values
        .values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    env.push(("DEIS_APP".into(), app_id.into()));
    env.push(("DEIS_RELEASE".into(), format!("v{release}")));
    env
}

pub struct Reconciler {
    store: Arc<dyn Store>,
    runtime: Arc<dyn Runtime>,
    signals: Arc<Signals>,
}

impl Reconciler {
    pub fn new(store: Arc<dyn Store>, runtime: Arc<dyn Runtime>, signals: Arc<Signals>) -> Self {
        Reconciler {
            store,
            runtime,
            signals,
        }
    }

    /// Runs passes until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let watcher = tokio::spawn(watch_engine(self.runtime.clone(), self.signals.clone()));
        loop {
            let number = self.signals.pass_started();
            let wake_at = match self.pass().await {
                Ok(w) => w,
                Err(e) => {
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

    /// One level-triggered pass over every app. Returns when it must run again.
    pub async fn pass(&self) -> Result<Option<Timestamp>, String> {
        let apps = self.store.desired_apps().await.map_err(|e| e.to_string())?;
        let rows = self
            .store
            .list_instances(None)
            .await
            .map_err(|e| e.to_string())?;
        let containers = self
            .runtime
            .list(&[(LABEL_INSTANCE, None)])
            .await
            .map_err(|e| e.to_string())?;
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

        let mut row_groups: HashMap<&str, Vec<Instance>> = HashMap::new();
        for r in &rows {
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
        let mut wake_at: Option<Timestamp> = None;
        let mut starts = Vec::new();
        let mut removals = Vec::new();
        let mut errors: Vec<(String, Option<String>)> = Vec::new();
        for id in app_ids {
            let desired = by_id.get(id).copied();
            let app_rows = row_groups.get(id).map(Vec::as_slice).unwrap_or_default();
            let app_containers = container_groups
                .get(id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let plan = plan_app(desired, app_rows, app_containers, t);
            for obs in &plan.observations {
                if let Err(e) = self.store.observe_instance(obs).await {
                    tracing::warn!(error = %e, "could not record instance state");
                }
            }
            if let Some(w) = plan.wake_at {
                wake_at = Some(wake_at.map_or(w, |x: Timestamp| x.min(w)));
            }
            if desired.is_some() {
                let first_error = app_rows
                    .iter()
                    .filter_map(|r| {
                        let obs = plan.observations.iter().find(|o| o.instance == r.uuid);
                        let (state, msg) =
                            obs.map_or((r.state, &r.message), |o| (o.state, &o.message));
                        (state == InstanceState::Error).then(|| msg.clone().unwrap_or_default())
                    })
                    .next();
                errors.push((id.to_string(), first_error));
            }
            for action in plan.actions {
                match action {
                    Action::Remove { .. }
                    | Action::RemoveOrphan { .. }
                    | Action::Stop { .. }
                    | Action::Destroy { .. } => removals.push(action),
                    _ => starts.push((id.to_string(), action)),
                }
            }
        }
        for (id, err) in errors {
            let recorded = by_id.get(id.as_str()).and_then(|a| a.error.clone());
            if recorded != err
                && let Err(e) = self.store.set_app_error(&id, err.as_deref()).await
            {
                tracing::warn!(error = %e, "could not record app error");
            }
        }

        let row_index: HashMap<Uuid, &Instance> = rows.iter().map(|r| (r.uuid, r)).collect();
        futures::stream::iter(starts)
            .for_each_concurrent(PARALLEL_ACTIONS, |(app_id, action)| {
                let row = match &action {
                    Action::Ensure { instance }
                    | Action::Start { instance, .. }
                    | Action::Restart { instance, .. } => row_index.get(instance).copied(),
                    _ => None,
                };
                async move { self.act_start(&app_id, action, row).await }
            })
            .await;
        for action in removals {
            self.act_remove(action).await;
        }
        Ok(wake_at)
    }

    async fn act_start(&self, app_id: &str, action: Action, row: Option<&Instance>) {
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
                    Ok(true) => self.ensure(app_id, &instance).await,
                    Ok(false) => Ok(()),
                    Err(e) => Err(e.to_string()),
                }
            }
            Action::Ensure { .. } => match row {
                Some(r) => self.ensure(app_id, r).await,
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
                    let restarted = match container_id {
                        Some(id) => match self.runtime.stop(&id, STOP_TIMEOUT).await {
                            Ok(()) => self.start(r, &id).await,
                            Err(e) => Err(e.to_string()),
                        },
                        None => self.ensure(app_id, r).await,
                    };
                    // Done or failed, the request is answered: a failure shows as the instance's state.
                    let cleared = self
                        .store
                        .clear_restart(instance)
                        .await
                        .map_err(|e| e.to_string());
                    restarted.and(cleared)
                }
                None => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(app = app_id, error = %e, "instance action failed");
        }
    }

    /// Creates the instance's container (adopting one a previous run left) and starts it.
    async fn ensure(&self, app_id: &str, row: &Instance) -> Result<(), String> {
        let (build, config) = match self.release_parts(app_id, row.release).await {
            Ok(parts) => parts,
            Err(e) => return self.record_error(row, e).await,
        };
        let spec = instance_spec(app_id, row, &build, &config);
        let mut created = self.runtime.create(&spec).await;
        if let Err(RuntimeError::ImageNotFound(_)) = &created
            && self.runtime.pull(&spec.image, PULL_TIMEOUT).await.is_ok()
        {
            created = self.runtime.create(&spec).await;
        }
        let id = match created {
            Ok(id) => id,
            Err(RuntimeError::Conflict(_)) => {
                let uuid = row.uuid.to_string();
                let found = self
                    .runtime
                    .list(&[(LABEL_INSTANCE, Some(uuid.as_str()))])
                    .await
                    .map_err(|e| e.to_string())?;
                match found.into_iter().next() {
                    Some(c) => c.id,
                    None => return Err(format!("container name {} is taken", spec.name)),
                }
            }
            Err(e) => return self.record_error(row, e.to_string()).await,
        };
        self.start(row, &id).await
    }

    async fn start(&self, row: &Instance, container_id: &str) -> Result<(), String> {
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
                };
                self.store
                    .observe_instance(&obs)
                    .await
                    .map_err(|e| e.to_string())
            }
            // The engine may still be finishing a create a dead server asked for:
            // the container is listed but cannot be started yet. That is not
            // the instance's fault; the next pass tries again.
            Err(e @ RuntimeError::NotFound(_)) => Err(e.to_string()),
            Err(e) => self.record_error(row, e.to_string()).await,
        }
    }

    async fn record_error(&self, row: &Instance, message: String) -> Result<(), String> {
        let obs = Observation {
            instance: row.uuid,
            state: InstanceState::Error,
            exit_code: None,
            message: Some(message.clone()),
            engine_id: row.engine_id.clone(),
            node: row.node.clone(),
            restarts: row.restarts.saturating_add(1),
            next_restart: Some(
                now() + time::Duration::seconds(restart_backoff_secs(row.restarts) as i64),
            ),
            ports: row.ports.clone(),
        };
        self.store
            .observe_instance(&obs)
            .await
            .map_err(|e| e.to_string())?;
        Err(message)
    }

    async fn release_parts(&self, app_id: &str, version: i64) -> Result<(Build, Config), String> {
        let release = self
            .store
            .get_release(app_id, version)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("release v{version} of {app_id} is gone"))?;
        let build_id = release
            .build
            .ok_or_else(|| format!("release v{version} has no build"))?;
        let build = self
            .store
            .get_build(build_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("build is gone")?;
        let config = self
            .store
            .get_config(release.config)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("config is gone")?;
        Ok((build, config))
    }

    async fn act_remove(&self, action: Action) {
        let result = match action {
            Action::Stop { container_id, .. } => self
                .runtime
                .stop(&container_id, STOP_TIMEOUT)
                .await
                .map_err(|e| e.to_string()),
            Action::RemoveOrphan { container_id } => self
                .runtime
                .remove(&container_id)
                .await
                .map_err(|e| e.to_string()),
            Action::Remove {
                instance,
                container_id,
            } => {
                let removed = match container_id {
                    Some(id) => self.runtime.remove(&id).await.map_err(|e| e.to_string()),
                    None => Ok(()),
                };
                match removed {
                    Ok(()) => self
                        .store
                        .delete_instance(instance)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                }
            }
            Action::Destroy {
                instance,
                container_id,
                ..
            } => {
                // Row and count go in one transaction first: the container is
                // then an orphan the next pass removes even after a crash here.
                match self.store.destroy_instance(instance).await {
                    Ok(()) => match container_id {
                        Some(id) => self.runtime.remove(&id).await.map_err(|e| e.to_string()),
                        None => Ok(()),
                    },
                    Err(e) => Err(e.to_string()),
                }
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "removal failed; will retry");
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
                    Ok(Some(j)) => {
                        j.state == crate::model::JobState::Running
                            || crate::jobs::keeps_container(&j)
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ticket_waits_for_a_pass_that_starts_after_it() {
        let signals = Signals::default();
        let running = signals.pass_started();
        let ticket = signals.ticket();
        signals.pass_finished(running);
        // The pass that was already running does not satisfy the ticket.
        let waited = tokio::time::timeout(
            Duration::from_millis(50),
            signals.pass_after(ticket, Duration::from_secs(5)),
        )
        .await;
        assert!(waited.is_err());
        let next = signals.pass_started();
        signals.pass_finished(next);
        signals.pass_after(ticket, Duration::from_secs(5)).await;
    }

    #[tokio::test]
    async fn last_finished_waits_for_the_pass_running_now() {
        let signals = Signals::default();
        let running = signals.pass_started();
        let seen = signals.last_finished();
        assert_eq!(seen, 0);
        signals.pass_finished(running);
        tokio::time::timeout(
            Duration::from_millis(50),
            signals.pass_after(seen, Duration::from_secs(5)),
        )
        .await
        .expect("the running pass finishing is enough");
    }
}
