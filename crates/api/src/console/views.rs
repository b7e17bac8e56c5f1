//! Core types rendered as the console's JSON: flat objects with the fields
//! the page shows, timestamps in RFC 3339.

use berth_core::feed::{Change, ChangeKind};
use berth_core::jobs::ObservedJob;
use berth_core::model::catalog::ImageRepo;
use berth_core::model::{
    App, AppKind, Config, Domain, Instance, InstanceState, Release, User, rfc3339,
};
use berth_core::plan::Phase;
use berth_core::runtime::NodeInfo;
use berth_core::service::{LogEntry, LogSource};
use berth_core::store::Page;
use berth_core::workload::ListedApp;
use serde_json::{Value, json};

/// What the page shows instead of a secret-looking config value.
pub const MASKED: &str = "••••••";

/// Config keys whose values the page never shows.
const SECRET_WORDS: [&str; 4] = ["SECRET", "PASSWORD", "TOKEN", "KEY"];

pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

pub fn page<T>(page: Page<T>, number: i64, size: i64, item: impl Fn(&T) -> Value) -> Value {
    json!({
        "items": page.items.iter().map(item).collect::<Vec<_>>(),
        "total": page.total,
        "page": number,
        "size": size,
    })
}

pub fn user(u: &User) -> Value {
    json!({
        "username": u.username,
        "email": u.email,
        "admin": u.is_admin,
        "active": u.is_active,
        "last_login": u.last_login.map(rfc3339),
    })
}

pub fn app(a: &App) -> Value {
    json!({
        "id": a.id,
        "owner": a.owner,
        "kind": match a.kind {
            AppKind::App => "app",
            AppKind::Pod => "pod",
        },
        "desired": a.desired.as_str(),
        "structure": a.structure,
        "release": a.release,
        "error": a.error,
        "updated": rfc3339(a.updated),
    })
}

/// An app in a list: the app, its phase and how many of its instances
/// of the current release are up.
pub fn listed_app(w: &ListedApp) -> Value {
    let current = |i: &&Instance| i.release == w.app.release && i.state != InstanceState::Destroyed;
    let mut view = app(&w.app);
    view["state"] = json!(phase_name(w.phase));
    view["instances"] = json!(w.instances.iter().filter(current).count());
    view["up"] = json!(
        w.instances
            .iter()
            .filter(current)
            .filter(|i| i.state == InstanceState::Up)
            .count()
    );
    view
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Creating => "creating",
        Phase::Running => "running",
        Phase::Partial => "partial",
        Phase::Scaling => "scaling",
        Phase::Redeploying => "redeploying",
        Phase::Stopping => "stopping",
        Phase::Stopped => "stopped",
        Phase::Error => "error",
    }
}

pub fn instance(i: &Instance) -> Value {
    json!({
        "name": format!("{}.{}", i.proc_type, i.num),
        "type": i.proc_type,
        "num": i.num,
        "release": i.release,
        "state": i.state.as_str(),
        "exit_code": i.exit_code,
        "message": i.message,
        "node": i.node,
    })
}

pub fn release(r: &Release) -> Value {
    json!({
        "version": r.version,
        "summary": r.summary,
        "created": rfc3339(r.created),
    })
}

/// An app's config with secret-looking values masked.
pub fn config(c: &Config) -> Value {
    let values: serde_json::Map<String, Value> = c
        .values
        .values
        .iter()
        .map(|(k, v)| {
            let shown = if is_secret_key(k) { MASKED } else { v.as_str() };
            (k.clone(), json!(shown))
        })
        .collect();
    json!({
        "values": values,
        "memory": c.values.memory,
        "cpu": c.values.cpu,
        "tags": c.values.tags,
    })
}

pub fn domain(d: &Domain) -> Value {
    json!({ "domain": d.domain, "created": rfc3339(d.created) })
}

pub fn log_line(l: &LogEntry) -> Value {
    let source = match &l.source {
        LogSource::Platform => "berth".to_string(),
        LogSource::Instance { proc_type, num, .. } => format!("{proc_type}.{num}"),
    };
    json!({ "time": l.time.map(rfc3339), "source": source, "text": l.text })
}

pub fn change(c: &Change) -> Value {
    let mut view = json!({
        "type": c.kind.name(),
        "app": c.app,
        "at": rfc3339(c.at),
    });
    match &c.kind {
        ChangeKind::AppCreated | ChangeKind::AppDestroyed => {}
        ChangeKind::ReleaseCreated { version } => view["version"] = json!(version),
        ChangeKind::Scaled { structure } => view["structure"] = json!(structure),
        ChangeKind::InstanceState {
            instance,
            release,
            state,
        } => {
            view["instance"] = json!(instance);
            view["release"] = json!(release);
            view["state"] = json!(state.as_str());
        }
    }
    view
}

pub fn job(o: &ObservedJob) -> Value {
    let j = &o.job;
    json!({
        "id": j.job.uuid,
        "container": j.container_id,
        "script": j.script_name,
        "image": j.job.image,
        "state": j.job.state.as_str(),
        "exit_code": j.job.exit_code,
        "created": rfc3339(j.job.created),
        "finished": j.job.finished.map(rfc3339),
    })
}

pub fn image_repo(r: &ImageRepo) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "kind": r.kind.as_str(),
        "public": r.is_public,
        "status": r.status.as_str(),
        "owner": r.owner,
        "updated": rfc3339(r.updated),
    })
}

pub fn node(n: &NodeInfo) -> Value {
    json!({
        "name": n.name,
        "state": if n.ready { "ready" } else { "down" },
        "availability": n.availability,
        "role": n.role,
        "address": n.address,
        "tasks": n.tasks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_keys() {
        for key in ["DB_PASSWORD", "api_key", "SecretThing", "GITHUB_TOKEN"] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["PORT", "DEBUG", "GREETING"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }
}
