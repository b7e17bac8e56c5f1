//! Use cases. Every dialect calls these; each one authorises the actor,
//! validates, and changes desired state through the one write path
//! ([`changes`]), which wakes the reconciler.

mod access;
mod apps;
mod changes;
mod follow;
mod identity;
mod logs;
mod nodes;
mod quotas;
mod releases;
mod run;
mod scale;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{LoginLimits, PasswordGate, Registration};
use crate::datasets::Datasets;
use crate::model::*;
use crate::quota::{InFlight, OwnerLocks, Quotas};
use crate::runtime::Runtime;
use crate::signals::Signals;
use crate::spec::ContainerLimits;
use crate::store::Store;
use crate::volume_files::VolumeFiles;

pub use changes::Applied;
pub use identity::ensure_admin;
pub use logs::{LogEntry, LogSource};
pub(crate) use quotas::QuotaHold;

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
    /// Who may create accounts through the API.
    pub registration: Registration,
    /// How long a token without a lifetime of its own is valid; `None`: until revoked.
    pub token_ttl: Option<Duration>,
    /// How many failed logins are allowed before further attempts are refused.
    pub login_limits: LoginLimits,
    /// The base URL clients reach this server at (`scheme://host[:port]`),
    /// for the links answers carry.
    pub public_url: String,
    /// How much one user may hold at once.
    pub quotas: Quotas,
    /// How long an NDS job or a `run` container may run before it is
    /// stopped; `None`: as long as it likes.
    pub max_job_runtime: Option<Duration>,
    /// Whether Tapis pods may only use images on the allow-list
    /// (`/pods/images`); when off, any image the engine can run.
    pub pod_image_allow_list: bool,
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
            registration: Registration::Open,
            token_ttl: None,
            login_limits: LoginLimits::default(),
            public_url: "http://localhost".into(),
            quotas: Quotas::default(),
            max_job_runtime: Some(Duration::from_secs(24 * 3600)),
            pod_image_allow_list: false,
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
    pub(crate) volume_files: Arc<dyn VolumeFiles>,
    pub signals: Arc<Signals>,
    pub settings: Settings,
    pub(crate) passwords: PasswordGate,
    /// Tapis pod login codes waiting to be redeemed on the pod's host.
    pub(crate) pod_auth_codes: crate::pods::PodAuthCodes,
    /// Held while a quota is checked and the write it allows is made.
    pub(crate) quota_locks: OwnerLocks,
    /// Data-set uploads arriving now, per user.
    pub(crate) uploads: InFlight,
    /// The last health probe and when it was taken.
    health: tokio::sync::Mutex<Option<(std::time::Instant, Result<String, String>)>>,
}

/// How long one health probe answers for every `/healthz` caller.
const HEALTH_TTL: Duration = Duration::from_secs(1);
/// A probe the engine does not answer within this long counts as an outage.
const HEALTH_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

impl Berth {
    pub fn new(
        store: Arc<dyn Store>,
        runtime: Arc<dyn Runtime>,
        datasets: Arc<dyn Datasets>,
        volume_files: Arc<dyn VolumeFiles>,
        signals: Arc<Signals>,
        settings: Settings,
    ) -> Self {
        Berth {
            store,
            runtime,
            datasets,
            volume_files,
            signals,
            passwords: PasswordGate::new(settings.login_limits),
            pod_auth_codes: Default::default(),
            quota_locks: OwnerLocks::default(),
            uploads: InFlight::default(),
            settings,
            health: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether Berth can serve: the engine's description when the store and
    /// the engine both answer; else which of them did not, and why. One
    /// probe answers every caller for a second, so many probes cost one.
    pub async fn health(&self) -> Result<String, String> {
        let mut last = self.health.lock().await;
        if let Some((at, answer)) = last.as_ref()
            && at.elapsed() < HEALTH_TTL
        {
            return answer.clone();
        }
        let answer = self.probe_health().await;
        if let Err(reason) = &answer {
            tracing::warn!(%reason, "health check failed");
        }
        *last = Some((std::time::Instant::now(), answer.clone()));
        answer
    }

    async fn probe_health(&self) -> Result<String, String> {
        if let Err(e) = self.store.ping().await {
            return Err(format!("store: {e}"));
        }
        match tokio::time::timeout(HEALTH_PROBE_TIMEOUT, self.runtime.ping()).await {
            Ok(answer) => answer.map_err(|e| format!("engine: {e}")),
            Err(_) => Err("engine: no answer in time".into()),
        }
    }
}
