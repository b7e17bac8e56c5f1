//! Use cases. Every dialect calls these; each one authorises the actor,
//! validates, and changes desired state through the one write path
//! ([`changes`]), which wakes the reconciler.

mod access;
mod apps;
mod changes;
mod identity;
mod logs;
mod releases;
mod run;
mod scale;

use std::sync::Arc;
use std::time::Duration;

use crate::datasets::Datasets;
use crate::model::*;
use crate::runtime::Runtime;
use crate::signals::Signals;
use crate::spec::ContainerLimits;
use crate::store::Store;

pub use changes::Applied;
pub use logs::{LogEntry, LogSource};

#[derive(Debug, Clone)]
pub struct Settings {
    /// App URLs are `<app>.<domain>`.
    pub domain: String,
    /// How long synchronous dialects wait for the engine to converge.
    pub converge_timeout: Duration,
    pub run_timeout: Duration,
    pub pull_timeout: Duration,
    /// Signs the JWTs Tapis clients get; kept in the data dir.
    pub jwt_key: Vec<u8>,
    /// Tenant named in JWT claims and Tapis answers.
    pub tenant: String,
    /// How long a finished script job is kept (logs, diff, files) before it is removed.
    pub job_retention: Duration,
    /// Whether image builds may clone from host paths, `file://` URLs and
    /// loopback, link-local or private addresses.
    pub build_allow_local_sources: bool,
    /// The resource limits per-app settings may tighten but not exceed.
    pub limits: ContainerLimits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            domain: "berth.local".into(),
            converge_timeout: Duration::from_secs(120),
            run_timeout: Duration::from_secs(600),
            pull_timeout: Duration::from_secs(20),
            jwt_key: Vec::new(),
            tenant: "dev".into(),
            job_retention: Duration::from_secs(7 * 24 * 3600),
            build_allow_local_sources: false,
            limits: ContainerLimits::default(),
        }
    }
}

/// The grant object name of an app; by uuid, so a reused id never inherits.
pub fn app_object(app: &App) -> String {
    format!("app:{}", app.uuid)
}

pub struct Berth {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) runtime: Arc<dyn Runtime>,
    pub(crate) datasets: Arc<dyn Datasets>,
    pub signals: Arc<Signals>,
    pub settings: Settings,
}

impl Berth {
    pub fn new(
        store: Arc<dyn Store>,
        runtime: Arc<dyn Runtime>,
        datasets: Arc<dyn Datasets>,
        signals: Arc<Signals>,
        settings: Settings,
    ) -> Self {
        Berth {
            store,
            runtime,
            datasets,
            signals,
            settings,
        }
    }

    /// Whether Berth can serve: the engine's description when the store and
    /// the engine both answer; else which of them did not, and why.
    pub async fn health(&self) -> Result<String, String> {
        if let Err(e) = self.store.ping().await {
            return Err(format!("store: {e}"));
        }
        self.runtime
            .ping()
            .await
            .map_err(|e| format!("engine: {e}"))
    }
}
