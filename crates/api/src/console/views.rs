//! Core types rendered as the console's JSON: flat objects with the fields
//! the page shows, timestamps in RFC 3339. Each is a `Serialize + ToSchema`
//! type, so the wire and `/openapi.json` come from one definition; fields
//! are declared in alphabetical order, the order the page has always
//! received them in.

use std::collections::BTreeMap;

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
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// What the page shows instead of a secret-looking config value.
pub const MASKED: &str = "••••••";

/// Config keys whose values the page never shows.
const SECRET_WORDS: [&str; 4] = ["SECRET", "PASSWORD", "TOKEN", "KEY"];

pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// One page of a list: `?page=` (from 1) of `size` rows out of `total`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Page)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// The page number, from 1.
    pub page: i64,
    /// Rows per page.
    pub size: i64,
    /// Rows in the whole list.
    pub total: i64,
}

pub fn page<T, V>(page: Page<T>, number: i64, size: i64, item: impl Fn(&T) -> V) -> PageOf<V> {
    PageOf {
        items: page.items.iter().map(item).collect(),
        page: number,
        size,
        total: page.total,
    }
}

/// A Berth account. Fields are in alphabetical order, as the page has
/// always received them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::User)]
pub struct UserView {
    pub active: bool,
    pub admin: bool,
    pub email: String,
    /// RFC 3339; null before the first login.
    #[schema(format = DateTime)]
    pub last_login: Option<String>,
    pub username: String,
}

pub fn user(u: &User) -> UserView {
    UserView {
        active: u.is_active,
        admin: u.is_admin,
        email: u.email.clone(),
        last_login: u.last_login.map(rfc3339),
        username: u.username.clone(),
    }
}

/// An app (a Deis app, or a Tapis pod: `kind`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::App)]
pub struct AppView {
    /// What the app should be doing, e.g. `running` or `stopped`.
    pub desired: &'static str,
    /// Why the app last failed, if it did.
    pub error: Option<String>,
    pub id: String,
    #[schema(value_type = String, pattern = "^(app|pod)$")]
    pub kind: &'static str,
    pub owner: String,
    /// The current release's version (0 before the first).
    pub release: i64,
    /// Process type → instances asked for.
    pub structure: BTreeMap<String, u32>,
    #[schema(format = DateTime)]
    pub updated: String,
}

pub fn app(a: &App) -> AppView {
    AppView {
        desired: a.desired.as_str(),
        error: a.error.clone(),
        id: a.id.clone(),
        kind: match a.kind {
            AppKind::App => "app",
            AppKind::Pod => "pod",
        },
        owner: a.owner.clone(),
        release: a.release,
        structure: a.structure.clone(),
        updated: rfc3339(a.updated),
    }
}

/// An app in a list: the app, its phase and how many of its instances of
/// the current release there are and are up.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::ListedApp)]
pub struct ListedAppView {
    pub desired: &'static str,
    pub error: Option<String>,
    pub id: String,
    /// Instances of the current release.
    pub instances: usize,
    #[schema(value_type = String, pattern = "^(app|pod)$")]
    pub kind: &'static str,
    pub owner: String,
    pub release: i64,
    /// The app's phase, e.g. `running`, `scaling` or `error`.
    pub state: &'static str,
    pub structure: BTreeMap<String, u32>,
    /// Instances of the current release that are up.
    pub up: usize,
    #[schema(format = DateTime)]
    pub updated: String,
}

pub fn listed_app(w: &ListedApp) -> ListedAppView {
    let current = |i: &&Instance| i.release == w.app.release && i.state != InstanceState::Destroyed;
    let AppView {
        desired,
        error,
        id,
        kind,
        owner,
        release,
        structure,
        updated,
    } = app(&w.app);
    ListedAppView {
        desired,
        error,
        id,
        instances: w.instances.iter().filter(current).count(),
        kind,
        owner,
        release,
        state: phase_name(w.phase),
        structure,
        up: w
            .instances
            .iter()
            .filter(current)
            .filter(|i| i.state == InstanceState::Up)
            .count(),
        updated,
    }
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

/// One container of an app.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Instance)]
pub struct InstanceView {
    pub exit_code: Option<i64>,
    pub message: Option<String>,
    /// `<type>.<num>`, e.g. `web.1`.
    pub name: String,
    pub node: Option<String>,
    pub num: u32,
    /// The release it runs.
    pub release: i64,
    /// e.g. `starting`, `up`, `crashed`.
    pub state: &'static str,
    /// The process type.
    #[serde(rename = "type")]
    pub proc_type: String,
}

pub fn instance(i: &Instance) -> InstanceView {
    InstanceView {
        exit_code: i.exit_code,
        message: i.message.clone(),
        name: format!("{}.{}", i.proc_type, i.num),
        node: i.node.clone(),
        num: i.num,
        release: i.release,
        state: i.state.as_str(),
        proc_type: i.proc_type.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Release)]
pub struct ReleaseView {
    #[schema(format = DateTime)]
    pub created: String,
    pub summary: String,
    pub version: i64,
}

pub fn release(r: &Release) -> ReleaseView {
    ReleaseView {
        created: rfc3339(r.created),
        summary: r.summary.clone(),
        version: r.version,
    }
}

/// An app's config; secret-looking values read `••••••`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Config)]
pub struct ConfigView {
    /// Process type → CPU shares.
    pub cpu: BTreeMap<String, u32>,
    /// Process type → memory limit as written ("512M").
    pub memory: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// Environment variables, secret-looking ones masked.
    pub values: BTreeMap<String, String>,
}

/// An app's config with secret-looking values masked.
pub fn config(c: &Config) -> ConfigView {
    let values = c
        .values
        .values
        .iter()
        .map(|(k, v)| {
            let shown = if is_secret_key(k) { MASKED } else { v.as_str() };
            (k.clone(), shown.to_string())
        })
        .collect();
    ConfigView {
        cpu: c.values.cpu.clone(),
        memory: c.values.memory.clone(),
        tags: c.values.tags.clone(),
        values,
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Domain)]
pub struct DomainView {
    #[schema(format = DateTime)]
    pub created: String,
    pub domain: String,
}

pub fn domain(d: &Domain) -> DomainView {
    DomainView {
        created: rfc3339(d.created),
        domain: d.domain.clone(),
    }
}

/// One line of an app's log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::LogLine)]
pub struct LogLineView {
    /// `berth` for the platform's own lines, else `<type>.<num>`.
    pub source: String,
    pub text: String,
    #[schema(format = DateTime)]
    pub time: Option<String>,
}

pub fn log_line(l: &LogEntry) -> LogLineView {
    let source = match &l.source {
        LogSource::Platform => "berth".to_string(),
        LogSource::Instance { proc_type, num, .. } => format!("{proc_type}.{num}"),
    };
    LogLineView {
        source,
        text: l.text.clone(),
        time: l.time.map(rfc3339),
    }
}

/// An NDS script job.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Job)]
pub struct JobView {
    /// Its container's id, once it has one.
    pub container: Option<String>,
    #[schema(format = DateTime)]
    pub created: String,
    pub exit_code: Option<i64>,
    #[schema(format = DateTime)]
    pub finished: Option<String>,
    #[schema(value_type = String)]
    pub id: Uuid,
    pub image: String,
    /// The script's name.
    pub script: String,
    pub state: &'static str,
}

pub fn job(o: &ObservedJob) -> JobView {
    let j = &o.job;
    JobView {
        container: j.container_id.clone(),
        created: rfc3339(j.job.created),
        exit_code: j.job.exit_code,
        finished: j.job.finished.map(rfc3339),
        id: j.job.uuid,
        image: j.job.image.clone(),
        script: j.script_name.clone(),
        state: j.job.state.as_str(),
    }
}

/// A catalog image (an RCABench container).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Image)]
pub struct ImageRepoView {
    pub id: i64,
    pub kind: &'static str,
    pub name: String,
    pub owner: String,
    pub public: bool,
    pub status: &'static str,
    #[schema(format = DateTime)]
    pub updated: String,
}

pub fn image_repo(r: &ImageRepo) -> ImageRepoView {
    ImageRepoView {
        id: r.id,
        kind: r.kind.as_str(),
        name: r.name.clone(),
        owner: r.owner.clone(),
        public: r.is_public,
        status: r.status.as_str(),
        updated: rfc3339(r.updated),
    }
}

/// A node of the engine (administrators only).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Node)]
pub struct NodeView {
    pub address: Option<String>,
    pub availability: String,
    pub name: String,
    pub role: String,
    #[schema(value_type = String, pattern = "^(ready|down)$")]
    pub state: &'static str,
    pub tasks: usize,
}

pub fn node(n: &NodeInfo) -> NodeView {
    NodeView {
        address: n.address.clone(),
        availability: n.availability.clone(),
        name: n.name.clone(),
        role: n.role.clone(),
        state: if n.ready { "ready" } else { "down" },
        tasks: n.tasks,
    }
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
