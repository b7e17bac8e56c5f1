//! The reconcile plan: a pure function from what should run (store) and what
//! runs (engine) to the actions that close the gap. No I/O here, so every
//! rule is unit-tested on its own.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use time::Duration;
use uuid::Uuid;

use crate::model::{
    AutoDestroy, Desired, Instance, InstanceState, PublishedPort, RestartPolicy, Structure,
    Timestamp,
};
use crate::rules::restart_backoff_secs;
use crate::runtime::{ContainerInfo, EngineState, LABEL_INSTANCE};

/// An instance that stayed up this long has its crash count forgiven.
pub const STABLE_AFTER: Duration = Duration::seconds(60);

/// What the store says one app should be running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredApp {
    pub app_id: String,
    pub owner_id: i64,
    pub desired: Desired,
    pub structure: Structure,
    pub release: i64,
    /// False while the current release has no build: nothing can run yet.
    pub runnable: bool,
    /// Why the app cannot run, as last recorded.
    pub error: Option<String>,
    pub restart: RestartPolicy,
    pub autodestroy: AutoDestroy,
    /// The current release declares a health check: a call that waits for
    /// the app waits for it to pass. Without one, a new instance that is up
    /// is enough for the answer (the router still waits for its port), and
    /// only a rollout, which stops an old instance once its successor is
    /// ready, waits for readiness.
    pub health_checked: bool,
}

impl DesiredApp {
    /// The (type, number) slots that should exist. Numbers are sticky: the
    /// lowest numbers already taken are kept and free ones are filled from 1
    /// up, so removing one instance (Tutum's terminate) never renumbers or
    /// replaces the others, and shrinking drops the highest numbers.
    fn slots(&self, rows: &[Instance]) -> BTreeSet<(String, u32)> {
        if !self.runnable {
            return BTreeSet::new();
        }
        let mut slots = BTreeSet::new();
        for (proc_type, count) in &self.structure {
            let count = *count as usize;
            let taken: BTreeSet<u32> = rows
                .iter()
                .filter(|r| &r.proc_type == proc_type)
                .map(|r| r.num)
                .collect();
            let mut nums: Vec<u32> = taken.iter().copied().take(count).collect();
            let mut candidate = 1;
            while nums.len() < count {
                if !taken.contains(&candidate) {
                    nums.push(candidate);
                }
                candidate += 1;
            }
            slots.extend(nums.into_iter().map(|n| (proc_type.clone(), n)));
        }
        slots
    }

    fn wants_running(&self) -> bool {
        self.desired != Desired::Off
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Insert a new instance row for the slot, then create and start its container.
    Create {
        proc_type: String,
        num: u32,
        release: i64,
    },
    /// The row exists but its container does not (yet): create it and start it.
    Ensure { instance: Uuid },
    /// The container exists but has never been started, or crashed and its backoff passed.
    Start {
        instance: Uuid,
        container_id: String,
        is_restart: bool,
    },
    Stop {
        instance: Uuid,
        container_id: String,
    },
    /// A user-requested restart: stop (if running) and start again.
    Restart {
        instance: Uuid,
        container_id: Option<String>,
    },
    /// An exited instance its policy destroys: remove it and lower its type's count.
    Destroy {
        instance: Uuid,
        proc_type: String,
        container_id: Option<String>,
    },
    /// Remove the container (if any), then the row.
    Remove {
        instance: Uuid,
        container_id: Option<String>,
    },
    /// A Berth-labelled container with no row: remove it.
    RemoveOrphan { container_id: String },
}

/// Observed fields of an instance row that the reconciler writes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub instance: Uuid,
    pub state: InstanceState,
    pub exit_code: Option<i64>,
    pub message: Option<String>,
    pub engine_id: Option<String>,
    pub node: Option<String>,
    pub restarts: u32,
    pub next_restart: Option<Timestamp>,
    pub ports: Vec<PublishedPort>,
    pub address: Option<String>,
}

impl Observation {
    /// The row as stopped by Berth: its container exited because Berth
    /// asked it to, so it is down, not crashed.
    pub fn stopped(row: &Instance) -> Self {
        Observation {
            instance: row.uuid,
            state: InstanceState::Down,
            exit_code: row.exit_code,
            message: None,
            engine_id: row.engine_id.clone(),
            node: row.node.clone(),
            restarts: row.restarts,
            next_restart: None,
            ports: row.ports.clone(),
            address: row.address.clone(),
        }
    }

    /// The row as an error with `message`, its next try after the backoff
    /// its crash count earns.
    pub fn error(row: &Instance, message: String, now: Timestamp) -> Self {
        Observation {
            instance: row.uuid,
            state: InstanceState::Error,
            exit_code: None,
            message: Some(message),
            engine_id: row.engine_id.clone(),
            node: row.node.clone(),
            restarts: row.restarts.saturating_add(1),
            next_restart: Some(now + Duration::seconds(restart_backoff_secs(row.restarts) as i64)),
            ports: row.ports.clone(),
            address: row.address.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub observations: Vec<Observation>,
    pub actions: Vec<Action>,
    /// When a pass must run again even if nothing wakes it (a pending backoff).
    pub wake_at: Option<Timestamp>,
}

/// What an instance's container tells about its state.
/// Whether an instance that exited with `exit_code` is started again.
pub fn restarts_after(policy: RestartPolicy, exit_code: Option<i64>) -> bool {
    match policy {
        RestartPolicy::Always => true,
        RestartPolicy::OnFailure => exit_code != Some(0),
        RestartPolicy::Never => false,
    }
}

/// Whether an instance that exited with `exit_code` is destroyed.
pub fn destroyed_after(policy: AutoDestroy, exit_code: Option<i64>) -> bool {
    match policy {
        AutoDestroy::Off => false,
        AutoDestroy::OnSuccess => exit_code == Some(0),
        AutoDestroy::OnFailure => exit_code != Some(0),
        AutoDestroy::Always => true,
    }
}

pub fn observed_state(
    row: &Instance,
    container: Option<&ContainerInfo>,
    wants_running: bool,
) -> InstanceState {
    match container {
        None if row.state == InstanceState::Error => InstanceState::Error,
        None => InstanceState::Created,
        Some(c) => match c.state {
            EngineState::Running => InstanceState::Up,
            EngineState::Restarting => InstanceState::Starting,
            EngineState::Created if row.state == InstanceState::Error => InstanceState::Error,
            EngineState::Created => InstanceState::Created,
            EngineState::Paused => InstanceState::Down,
            EngineState::Removing => InstanceState::Destroyed,
            EngineState::Exited | EngineState::Dead if !wants_running || stopped_by_berth(row) => {
                InstanceState::Down
            }
            EngineState::Exited | EngineState::Dead => InstanceState::Crashed,
        },
    }
}

/// Whether the row's container was last stopped by Berth itself (the app
/// was turned off, or the instance stopped on request): its exit is then
/// the stop Berth asked for, never a crash, even once the app is on again.
fn stopped_by_berth(row: &Instance) -> bool {
    row.stopped || row.state == InstanceState::Down
}

fn container_instance(c: &ContainerInfo) -> Option<Uuid> {
    c.label(LABEL_INSTANCE)
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// Plans one app. `app` is `None` when the app no longer exists: then every
/// row and container of it goes.
pub fn plan_app(
    app: Option<&DesiredApp>,
    rows: &[Instance],
    containers: &[ContainerInfo],
    now: Timestamp,
) -> Plan {
    let mut plan = Plan::default();
    let by_instance: HashMap<Uuid, &ContainerInfo> = containers
        .iter()
        .filter_map(|c| container_instance(c).map(|u| (u, c)))
        .collect();
    let known: BTreeSet<Uuid> = rows.iter().map(|r| r.uuid).collect();
    for c in containers {
        if !container_instance(c).is_some_and(|u| known.contains(&u)) {
            plan.actions.push(Action::RemoveOrphan {
                container_id: c.id.clone(),
            });
        }
    }

    let Some(app) = app else {
        for row in rows {
            plan.actions.push(Action::Remove {
                instance: row.uuid,
                container_id: by_instance.get(&row.uuid).map(|c| c.id.clone()),
            });
        }
        return plan;
    };

    let slots = app.slots(rows);
    let running = app.wants_running();
    // A slot's current-release instance has started once it is up and ready
    // (health-checked, when it gets traffic) or has run and exited.
    let started_current: BTreeSet<(String, u32)> = rows
        .iter()
        .filter(|r| r.release == app.release)
        .filter(|r| {
            let c = by_instance.get(&r.uuid).copied();
            match observed_state(r, c, running) {
                InstanceState::Up => r.ready,
                InstanceState::Crashed | InstanceState::Down => true,
                _ => false,
            }
        })
        .map(|r| (r.proc_type.clone(), r.num))
        .collect();
    let mut current_rows: BTreeSet<(String, u32)> = BTreeSet::new();

    // Removals go highest number first, so a shrinking app keeps its low numbers.
    let mut ordered: Vec<&Instance> = rows.iter().collect();
    ordered.sort_by(|a, b| b.num.cmp(&a.num).then(a.proc_type.cmp(&b.proc_type)));
    let mut removals = Vec::new();

    for row in ordered {
        let slot = (row.proc_type.clone(), row.num);
        let container = by_instance.get(&row.uuid).copied();
        let container_id = container.map(|c| c.id.clone());
        let in_slots = slots.contains(&slot);
        let is_current = row.release == app.release;
        let duplicate = is_current && current_rows.contains(&slot);
        let replaced = !is_current && started_current.contains(&slot);
        if !in_slots || duplicate || replaced {
            removals.push(Action::Remove {
                instance: row.uuid,
                container_id,
            });
            continue;
        }
        if is_current {
            current_rows.insert(slot);
        }

        let mut obs = observe(row, container, running, now);
        let decision = decide(app, row, &mut obs, container_id, is_current, now);
        if let Some(action) = decision.action {
            plan.actions.push(action);
        }
        if let Some(due) = decision.wake_at {
            plan.wake_at = Some(plan.wake_at.map_or(due, |w| w.min(due)));
        }
        if decision.record && differs(row, &obs) {
            plan.observations.push(obs);
        }
    }

    for (proc_type, num) in &slots {
        if !current_rows.contains(&(proc_type.clone(), *num)) {
            plan.actions.push(Action::Create {
                proc_type: proc_type.clone(),
                num: *num,
                release: app.release,
            });
        }
    }
    plan.actions.extend(removals);
    plan
}

/// What one pass sees of a kept row: its state, exit code, message, engine
/// id, node and ports, from its container where there is one.
fn observe(
    row: &Instance,
    container: Option<&ContainerInfo>,
    running: bool,
    now: Timestamp,
) -> Observation {
    let state = observed_state(row, container, running);
    let mut obs = Observation {
        instance: row.uuid,
        state,
        exit_code: container.and_then(|c| c.exit_code).or(row.exit_code),
        message: container
            .and_then(|c| c.error.clone().filter(|e| !e.is_empty()))
            .or_else(|| {
                (state == InstanceState::Error)
                    .then(|| row.message.clone())
                    .flatten()
            }),
        engine_id: container.map(|c| c.id.clone()).or(row.engine_id.clone()),
        node: container.and_then(|c| c.node.clone()).or(row.node.clone()),
        restarts: row.restarts,
        next_restart: row.next_restart,
        ports: container
            .map(|c| c.ports.clone())
            .unwrap_or_else(|| row.ports.clone()),
        address: container
            .map(|c| c.address.clone())
            .unwrap_or_else(|| row.address.clone()),
    };
    if state == InstanceState::Up {
        obs.exit_code = None;
        obs.message = None;
        obs.next_restart = None;
        // Up at the last pass too and unchanged since: the crash count is forgiven.
        let stable = row.state == InstanceState::Up && now - row.updated >= STABLE_AFTER;
        if stable {
            obs.restarts = 0;
        }
    }
    if state == InstanceState::Crashed && obs.message.is_none() {
        obs.message = obs.exit_code.map(|c| format!("exited with code {c}"));
    }
    obs
}

/// What the plan does with one kept row.
#[derive(Default)]
struct RowDecision {
    action: Option<Action>,
    /// When the row's next restart is due, if it is waiting for one.
    wake_at: Option<Timestamp>,
    /// False for a row that is destroyed: nothing of it is recorded.
    record: bool,
}

/// Decides one kept row's action from what was observed, and settles its
/// restart bookkeeping in `obs`.
fn decide(
    app: &DesiredApp,
    row: &Instance,
    obs: &mut Observation,
    container_id: Option<String>,
    is_current: bool,
    now: Timestamp,
) -> RowDecision {
    let state = obs.state;
    let stop = |container_id: Option<String>| {
        container_id
            .filter(|_| state == InstanceState::Up)
            .map(|id| Action::Stop {
                instance: row.uuid,
                container_id: id,
            })
    };
    let act = |action: Option<Action>| RowDecision {
        action,
        wake_at: None,
        record: true,
    };
    if !app.wants_running() || !is_current {
        // An old release keeps running until its replacement has started;
        // a stopped app keeps its containers, stopped.
        return act(if app.wants_running() {
            None
        } else {
            stop(container_id)
        });
    }
    if row.restart_requested {
        return act(Some(Action::Restart {
            instance: row.uuid,
            container_id,
        }));
    }
    if row.stopped {
        return act(stop(container_id));
    }
    if state == InstanceState::Crashed && destroyed_after(app.autodestroy, obs.exit_code) {
        return RowDecision {
            action: Some(Action::Destroy {
                instance: row.uuid,
                proc_type: row.proc_type.clone(),
                container_id,
            }),
            wake_at: None,
            record: false,
        };
    }
    if state == InstanceState::Crashed && !restarts_after(app.restart, obs.exit_code) {
        // It stays exited, as its policy says: nothing to schedule.
        obs.next_restart = None;
        return act(None);
    }
    match (state, container_id) {
        (InstanceState::Created, None) => act(Some(Action::Ensure { instance: row.uuid })),
        // Created, or stopped by Berth while the app was off: start it now.
        (InstanceState::Created | InstanceState::Down, Some(id)) => act(Some(Action::Start {
            instance: row.uuid,
            container_id: id,
            is_restart: false,
        })),
        (InstanceState::Crashed | InstanceState::Error, id) => {
            let due = *obs
                .next_restart
                .get_or_insert(now + Duration::seconds(restart_backoff_secs(row.restarts) as i64));
            if due > now {
                return RowDecision {
                    action: None,
                    wake_at: Some(due),
                    record: true,
                };
            }
            obs.next_restart = None;
            obs.restarts = row.restarts.saturating_add(1);
            act(Some(match id {
                Some(id) if state == InstanceState::Crashed => Action::Start {
                    instance: row.uuid,
                    container_id: id,
                    is_restart: true,
                },
                Some(id) => Action::Remove {
                    instance: row.uuid,
                    container_id: Some(id),
                },
                None => Action::Ensure { instance: row.uuid },
            }))
        }
        _ => act(None),
    }
}

fn differs(row: &Instance, obs: &Observation) -> bool {
    row.state != obs.state
        || row.exit_code != obs.exit_code
        || row.message != obs.message
        || row.engine_id != obs.engine_id
        || row.node != obs.node
        || row.restarts != obs.restarts
        || row.next_restart != obs.next_restart
        || row.address != obs.address
}

/// Whether an app has reached what its owner asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convergence {
    Converged,
    Pending,
    Failed(String),
}

pub fn convergence(app: &DesiredApp, rows: &[Instance]) -> Convergence {
    let slots = app.slots(rows);
    let running = app.wants_running();
    // A refused instance of the release fails the change, also while the
    // instances it was to replace still run (a rollout keeps them until
    // their successors are ready, which a refused one never is).
    let refused = rows.iter().find(|row| {
        row.release == app.release
            && !row.restart_requested
            && row.state == InstanceState::Error
            && slots.contains(&(row.proc_type.clone(), row.num))
    });
    if let Some(row) = refused {
        let why = row
            .message
            .clone()
            .unwrap_or_else(|| "the engine refused the container".into());
        return Convergence::Failed(format!("{}.{}: {why}", row.proc_type, row.num));
    }
    let mut done: BTreeMap<(String, u32), bool> = BTreeMap::new();
    for row in rows {
        let slot = (row.proc_type.clone(), row.num);
        if row.release != app.release || !slots.contains(&slot) {
            return Convergence::Pending;
        }
        if row.restart_requested {
            return Convergence::Pending;
        }
        let settled = if running && !row.stopped {
            (row.state == InstanceState::Up && (row.ready || !app.health_checked))
                || row.state == InstanceState::Crashed
        } else {
            !matches!(row.state, InstanceState::Up | InstanceState::Starting)
        };
        done.insert(slot, settled);
    }
    if slots.iter().all(|s| done.get(s) == Some(&true)) {
        Convergence::Converged
    } else {
        Convergence::Pending
    }
}

/// Where an app is, from desired state and instances: one state machine,
/// rendered per dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing has started yet.
    Creating,
    Running,
    /// Converged, but some instances are not up.
    Partial,
    /// Instances being added or removed.
    Scaling,
    /// Instances of an older release being replaced.
    Redeploying,
    Stopping,
    Stopped,
    /// An instance could not be created (missing image, engine refusal).
    Error,
}

/// The phase of an app given its desired state and instance rows.
pub fn phase(app: &DesiredApp, rows: &[Instance]) -> Phase {
    let target: u32 = if app.runnable {
        app.structure.values().sum()
    } else {
        0
    };
    let live = |r: &&Instance| !matches!(r.state, InstanceState::Destroyed);
    let current: Vec<&Instance> = rows
        .iter()
        .filter(live)
        .filter(|r| r.release == app.release)
        .collect();
    let running = |r: &&&Instance| r.state == InstanceState::Up;
    let up = current.iter().filter(running).count() as u32;
    if app.desired == Desired::Off {
        return if rows
            .iter()
            .any(|r| matches!(r.state, InstanceState::Up | InstanceState::Starting))
        {
            Phase::Stopping
        } else {
            Phase::Stopped
        };
    }
    if current.iter().any(|r| r.state == InstanceState::Error) {
        return Phase::Error;
    }
    if rows.iter().any(|r| r.release != app.release) {
        return Phase::Redeploying;
    }
    if target == 0 {
        return if current.is_empty() {
            Phase::Stopped
        } else {
            Phase::Scaling
        };
    }
    let pending = current
        .iter()
        .any(|r| matches!(r.state, InstanceState::Created | InstanceState::Starting));
    if current.len() as u32 != target || (pending && up > 0) {
        return if up == 0 && rows.iter().all(|r| r.state != InstanceState::Crashed) {
            Phase::Creating
        } else {
            Phase::Scaling
        };
    }
    if pending {
        return Phase::Creating;
    }
    let user_stopped = current.iter().filter(|r| r.stopped).count() as u32;
    match up {
        n if n == target => Phase::Running,
        0 if user_stopped == target => Phase::Stopped,
        0 => Phase::Stopped,
        _ => Phase::Partial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::now;
    use crate::runtime::LABEL_APP;

    fn app(structure: &[(&str, u32)], release: i64) -> DesiredApp {
        DesiredApp {
            app_id: "demo".into(),
            owner_id: 1,
            desired: Desired::On,
            structure: structure.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            release,
            runnable: true,
            error: None,
            restart: RestartPolicy::Always,
            autodestroy: AutoDestroy::Off,
            health_checked: false,
        }
    }

    fn row(proc_type: &str, num: u32, release: i64, state: InstanceState) -> Instance {
        Instance {
            state,
            ..Instance::new("demo", release, proc_type, num)
        }
    }

    fn container(row: &Instance, state: EngineState) -> ContainerInfo {
        ContainerInfo {
            id: format!("c-{}", row.uuid),
            name: format!("demo-{}-{}", row.proc_type, row.num),
            labels: [
                (LABEL_APP.to_string(), "demo".to_string()),
                (LABEL_INSTANCE.to_string(), row.uuid.to_string()),
            ]
            .into(),
            state,
            exit_code: matches!(state, EngineState::Exited).then_some(1),
            error: None,
            started_at: Some(now()),
            finished_at: None,
            node: None,
            ports: Vec::new(),
            address: None,
        }
    }

    fn creates(plan: &Plan) -> Vec<(String, u32)> {
        plan.actions
            .iter()
            .filter_map(|a| match a {
                Action::Create { proc_type, num, .. } => Some((proc_type.clone(), *num)),
                _ => None,
            })
            .collect()
    }

    fn removed(plan: &Plan) -> Vec<Uuid> {
        plan.actions
            .iter()
            .filter_map(|a| match a {
                Action::Remove { instance, .. } => Some(*instance),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn creates_missing_slots() {
        let plan = plan_app(Some(&app(&[("web", 2), ("worker", 1)], 2)), &[], &[], now());
        assert_eq!(
            creates(&plan),
            vec![("web".into(), 1), ("web".into(), 2), ("worker".into(), 1)]
        );
    }

    #[test]
    fn nothing_runs_without_a_build() {
        let mut a = app(&[("web", 2)], 1);
        a.runnable = false;
        assert!(plan_app(Some(&a), &[], &[], now()).actions.is_empty());
    }

    #[test]
    fn removes_extra_highest_number_first() {
        let rows: Vec<_> = (1..=3)
            .map(|n| row("web", n, 2, InstanceState::Up))
            .collect();
        let cs: Vec<_> = rows
            .iter()
            .map(|r| container(r, EngineState::Running))
            .collect();
        let plan = plan_app(Some(&app(&[("web", 1)], 2)), &rows, &cs, now());
        assert_eq!(removed(&plan), vec![rows[2].uuid, rows[1].uuid]);
        assert!(creates(&plan).is_empty());
    }

    #[test]
    fn replaces_old_release_only_after_new_started() {
        let old = row("web", 1, 2, InstanceState::Up);
        let old_c = container(&old, EngineState::Running);
        let a = app(&[("web", 1)], 3);
        // First pass: the new one is created, the old one stays.
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&old),
            std::slice::from_ref(&old_c),
            now(),
        );
        assert_eq!(creates(&plan), vec![("web".into(), 1)]);
        assert!(removed(&plan).is_empty());
        // New one created but not yet started: old still stays.
        let new = row("web", 1, 3, InstanceState::Created);
        let rows = vec![old.clone(), new.clone()];
        let plan = plan_app(Some(&a), &rows, std::slice::from_ref(&old_c), now());
        assert!(removed(&plan).is_empty());
        assert!(
            plan.actions
                .contains(&Action::Ensure { instance: new.uuid })
        );
        // New one up but not health-checked yet: the old one still serves.
        let new_c = container(&new, EngineState::Running);
        let plan = plan_app(Some(&a), &rows, &[old_c.clone(), new_c.clone()], now());
        assert!(removed(&plan).is_empty());
        // New one ready: the old one goes.
        let ready = Instance {
            ready: true,
            ..new.clone()
        };
        let rows = vec![old.clone(), ready];
        let plan = plan_app(Some(&a), &rows, &[old_c, new_c], now());
        assert_eq!(removed(&plan), vec![old.uuid]);
        assert!(creates(&plan).is_empty());
    }

    #[test]
    fn adopts_existing_containers_and_removes_orphans() {
        let r = row("web", 1, 1, InstanceState::Created);
        let adopted = container(&r, EngineState::Running);
        let stray = row("web", 1, 1, InstanceState::Up);
        let orphan = container(&stray, EngineState::Running);
        let plan = plan_app(
            Some(&app(&[("web", 1)], 1)),
            std::slice::from_ref(&r),
            &[adopted.clone(), orphan.clone()],
            now(),
        );
        assert_eq!(
            plan.actions,
            vec![Action::RemoveOrphan {
                container_id: orphan.id
            }]
        );
        assert_eq!(plan.observations.len(), 1);
        assert_eq!(plan.observations[0].state, InstanceState::Up);
        assert_eq!(plan.observations[0].engine_id, Some(adopted.id));
    }

    #[test]
    fn a_deleted_app_loses_everything() {
        let r = row("web", 1, 1, InstanceState::Up);
        let c = container(&r, EngineState::Running);
        let plan = plan_app(
            None,
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert_eq!(
            plan.actions,
            vec![Action::Remove {
                instance: r.uuid,
                container_id: Some(c.id)
            }]
        );
    }

    #[test]
    fn crashed_instances_restart_after_backoff() {
        let t0 = now();
        let r = row("web", 1, 1, InstanceState::Up);
        let c = container(&r, EngineState::Exited);
        let a = app(&[("web", 1)], 1);
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            t0,
        );
        assert!(plan.actions.is_empty(), "backoff not yet passed");
        let obs = &plan.observations[0];
        assert_eq!(obs.state, InstanceState::Crashed);
        assert_eq!(obs.exit_code, Some(1));
        let due = obs.next_restart.unwrap();
        assert_eq!(plan.wake_at, Some(due));

        let mut crashed = r.clone();
        crashed.state = InstanceState::Crashed;
        crashed.next_restart = Some(due);
        crashed.exit_code = Some(1);
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&crashed),
            std::slice::from_ref(&c),
            due,
        );
        assert_eq!(
            plan.actions,
            vec![Action::Start {
                instance: r.uuid,
                container_id: c.id.clone(),
                is_restart: true
            }]
        );
        assert_eq!(plan.observations[0].restarts, 1);
    }

    #[test]
    fn duplicate_rows_for_a_slot_are_removed() {
        let a1 = row("web", 1, 1, InstanceState::Up);
        let a2 = row("web", 1, 1, InstanceState::Up);
        let plan = plan_app(Some(&app(&[("web", 1)], 1)), &[a1, a2.clone()], &[], now());
        assert_eq!(removed(&plan).len(), 1);
        assert!(creates(&plan).is_empty());
    }

    #[test]
    fn stopped_apps_stop_but_keep_containers() {
        let r = row("web", 1, 1, InstanceState::Up);
        let c = container(&r, EngineState::Running);
        let mut a = app(&[("web", 1)], 1);
        a.desired = Desired::Off;
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert_eq!(
            plan.actions,
            vec![Action::Stop {
                instance: r.uuid,
                container_id: c.id
            }]
        );
    }

    #[test]
    fn an_exit_berth_caused_is_never_a_crash() {
        // Stopped while the app was off; the app is on again.
        let mut r = row("web", 1, 1, InstanceState::Down);
        let mut c = container(&r, EngineState::Exited);
        c.exit_code = Some(143);
        let mut a = app(&[("web", 1)], 1);
        a.restart = RestartPolicy::Never;
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert!(
            plan.observations
                .iter()
                .all(|o| o.state == InstanceState::Down)
        );
        assert_eq!(
            plan.actions,
            vec![Action::Start {
                instance: r.uuid,
                container_id: c.id.clone(),
                is_restart: false
            }]
        );
        // A restart asked for while it was down: restarted, still not a crash.
        r.restart_requested = true;
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert!(
            plan.observations
                .iter()
                .all(|o| o.state == InstanceState::Down)
        );
        assert!(matches!(plan.actions[..], [Action::Restart { .. }]));
        // Up when it exited: its own doing, a crash.
        r.state = InstanceState::Up;
        r.restart_requested = false;
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert_eq!(plan.observations[0].state, InstanceState::Crashed);
    }

    #[test]
    fn requested_restarts_are_planned_and_pending() {
        let mut r = row("web", 1, 1, InstanceState::Up);
        r.restart_requested = true;
        let c = container(&r, EngineState::Running);
        let a = app(&[("web", 1)], 1);
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert_eq!(
            plan.actions,
            vec![Action::Restart {
                instance: r.uuid,
                container_id: Some(c.id)
            }]
        );
        assert_eq!(convergence(&a, &[r]), Convergence::Pending);
    }

    #[test]
    fn numbers_are_sticky_after_one_instance_goes() {
        let a = app(&[("web", 2)], 1);
        let rows = vec![
            row("web", 2, 1, InstanceState::Up),
            row("web", 3, 1, InstanceState::Up),
        ];
        let plan = plan_app(Some(&a), &rows, &[], now());
        assert!(creates(&plan).is_empty() && removed(&plan).is_empty());
        let grown = app(&[("web", 3)], 1);
        assert_eq!(
            creates(&plan_app(Some(&grown), &rows, &[], now())),
            vec![("web".into(), 1)]
        );
    }

    #[test]
    fn exit_policies_decide_restart_and_destroy() {
        let r = row("web", 1, 1, InstanceState::Up);
        let mut c = container(&r, EngineState::Exited);
        c.exit_code = Some(0);
        let mut a = app(&[("web", 1)], 1);
        a.restart = RestartPolicy::OnFailure;
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert!(
            plan.actions.is_empty(),
            "a clean exit is not restarted under on_failure"
        );
        assert_eq!(plan.observations[0].next_restart, None);
        a.autodestroy = AutoDestroy::OnSuccess;
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert_eq!(
            plan.actions,
            vec![Action::Destroy {
                instance: r.uuid,
                proc_type: "web".into(),
                container_id: Some(c.id.clone())
            }]
        );
    }

    #[test]
    fn user_stopped_instances_stay_stopped() {
        let mut r = row("web", 1, 1, InstanceState::Up);
        r.stopped = true;
        let c = container(&r, EngineState::Running);
        let a = app(&[("web", 1)], 1);
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
            now(),
        );
        assert_eq!(
            plan.actions,
            vec![Action::Stop {
                instance: r.uuid,
                container_id: c.id.clone()
            }]
        );
        let exited = container(&r, EngineState::Exited);
        let plan = plan_app(
            Some(&a),
            std::slice::from_ref(&r),
            std::slice::from_ref(&exited),
            now(),
        );
        assert!(plan.actions.is_empty());
        let mut settled = r.clone();
        settled.state = InstanceState::Crashed;
        assert_eq!(convergence(&a, &[settled]), Convergence::Converged);
    }

    #[test]
    fn convergence_rules() {
        let a = DesiredApp {
            health_checked: true,
            ..app(&[("web", 2)], 2)
        };
        let mut rows = vec![
            row("web", 1, 2, InstanceState::Up),
            row("web", 2, 2, InstanceState::Created),
        ];
        assert_eq!(convergence(&a, &rows), Convergence::Pending);
        rows[1].state = InstanceState::Crashed;
        // Up is not enough: its declared health check has not passed yet.
        assert_eq!(convergence(&a, &rows), Convergence::Pending);
        // Without a declared check, up is enough for the answer.
        assert_eq!(
            convergence(&app(&[("web", 2)], 2), &rows),
            Convergence::Converged
        );
        rows[0].ready = true;
        assert_eq!(convergence(&a, &rows), Convergence::Converged);
        rows[1].state = InstanceState::Error;
        rows[1].message = Some("image nope not found".into());
        assert!(matches!(convergence(&a, &rows), Convergence::Failed(m) if m.contains("nope")));
        // Also while an instance of the release before still runs.
        let mut rollout = vec![row("web", 1, 1, InstanceState::Up)];
        rollout.extend(rows.iter().cloned());
        assert!(matches!(convergence(&a, &rollout), Convergence::Failed(m) if m.contains("nope")));
        rows.pop();
        rows[0].release = 1;
        assert_eq!(convergence(&a, &rows), Convergence::Pending);
        assert_eq!(convergence(&app(&[], 2), &[]), Convergence::Converged);
    }
}

#[cfg(test)]
mod phase_tests {
    use super::*;

    fn desired(count: u32, on: bool) -> DesiredApp {
        DesiredApp {
            app_id: "a".into(),
            owner_id: 1,
            desired: if on { Desired::On } else { Desired::Off },
            structure: [("cmd".to_string(), count)].into(),
            release: 2,
            runnable: true,
            error: None,
            restart: RestartPolicy::Always,
            autodestroy: AutoDestroy::Off,
            health_checked: false,
        }
    }

    fn row(num: u32, release: i64, state: InstanceState) -> Instance {
        Instance {
            state,
            ..Instance::new("a", release, "cmd", num)
        }
    }

    #[test]
    fn phases() {
        use InstanceState::*;
        assert_eq!(phase(&desired(2, true), &[]), Phase::Creating);
        assert_eq!(
            phase(&desired(2, true), &[row(1, 2, Up), row(2, 2, Up)]),
            Phase::Running
        );
        assert_eq!(
            phase(&desired(2, true), &[row(1, 2, Up), row(2, 2, Crashed)]),
            Phase::Partial
        );
        assert_eq!(
            phase(&desired(3, true), &[row(1, 2, Up), row(2, 2, Up)]),
            Phase::Scaling
        );
        assert_eq!(
            phase(&desired(1, true), &[row(1, 1, Up), row(1, 2, Starting)]),
            Phase::Redeploying
        );
        assert_eq!(phase(&desired(1, true), &[row(1, 2, Error)]), Phase::Error);
        assert_eq!(phase(&desired(2, false), &[row(1, 2, Up)]), Phase::Stopping);
        assert_eq!(
            phase(&desired(2, false), &[row(1, 2, Down)]),
            Phase::Stopped
        );
        assert_eq!(phase(&desired(0, true), &[]), Phase::Stopped);
    }
}
