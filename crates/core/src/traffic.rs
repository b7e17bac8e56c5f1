//! The reconciler's side of HTTP traffic: after each pass it publishes the
//! route table to the router, health-checks instances that came up before
//! they get traffic (and before the instances they replace go), and drains
//! an instance before it is stopped.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;

use crate::model::{AppKind, AppTraffic, Desired, Instance, InstanceState, now};
use crate::networking::PodEndpoint;
use crate::plan::Observation;
use crate::pods::app_endpoints;
use crate::routing::{
    HealthCheck, RouteAuth, RouteSource, Traffic, app_port, build_table, declares_health_check,
    instance_endpoint, serves_traffic,
};
use crate::signals::Signals;
use crate::store::Store;

/// How long a declared health check may keep failing before the instance is
/// an error (and a synchronous release call reverts).
const HEALTH_WINDOW: Duration = Duration::from_secs(30);
/// How often a failing check is tried again.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// How long an instance's in-flight requests may take to finish before it is
/// stopped anyway.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// What the reconciler needs to route: the router, the domain app hosts
/// live under, and how long an app without a declared health check may take
/// to open its port before it is taken as not serving HTTP at all.
pub struct TrafficControl {
    port: Arc<dyn Traffic>,
    domain: String,
    grace: Duration,
    probing: Arc<Mutex<HashSet<Uuid>>>,
}

impl TrafficControl {
    pub fn new(port: Arc<dyn Traffic>, domain: &str, grace: Duration) -> Self {
        TrafficControl {
            port,
            domain: domain.to_string(),
            grace,
            probing: Arc::default(),
        }
    }

    /// Publishes the table from the store as it is now, and starts a health
    /// check for every routed instance that came up and is not ready yet.
    /// Instances that get no traffic are ready as soon as they are up.
    pub async fn refresh(&self, store: &Arc<dyn Store>, signals: &Arc<Signals>) {
        let (apps, rows) = match (store.app_traffic().await, store.list_instances(None).await) {
            (Ok(apps), Ok(rows)) => (apps, rows),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "could not read the route table's sources");
                return;
            }
        };
        let sources: Vec<RouteSource> = apps.iter().map(|a| self.source(a)).collect();
        let by_app: HashMap<&str, (&RouteSource, &AppTraffic)> = sources
            .iter()
            .zip(&apps)
            .map(|(s, a)| (s.app_id.as_str(), (s, a)))
            .collect();
        let mut readied = false;
        for row in rows
            .iter()
            .filter(|r| r.state == InstanceState::Up && !r.ready && !r.stopped)
        {
            let Some((source, app)) = by_app.get(row.app_id.as_str()) else {
                continue;
            };
            if !serves_traffic(source.kind, &row.proc_type, source.proc_types.len()) {
                readied |= store.set_instance_ready(row.uuid, true).await.is_ok();
                continue;
            }
            self.start_probe(row, source, app, store, signals);
        }
        self.port.publish(build_table(&sources, &rows));
        if readied {
            signals.wake();
        }
    }

    /// Takes the instance out of rotation and waits for its requests to finish.
    pub async fn drain(&self, store: &Arc<dyn Store>, row: &Instance) {
        if !row.ready {
            return;
        }
        let _ = store.set_instance_ready(row.uuid, false).await;
        self.port.drain(row.uuid, DRAIN_DEADLINE).await;
    }

    /// An app's hosts: `<app>.<domain>` and its domains on the app's port; a
    /// pod's networking entries each on their own host and port.
    fn source(&self, traffic: &AppTraffic) -> RouteSource {
        let app = &traffic.app;
        let hosts = match app.kind {
            AppKind::Pod => pod_hosts(&app.id, app_endpoints(app, &self.domain)),
            AppKind::App => {
                let port = app_port(&traffic.config);
                std::iter::once(format!("{}.{}", app.id, self.domain))
                    .chain(traffic.domains.iter().cloned())
                    .map(|host| (host, port, RouteAuth::Open))
                    .collect()
            }
        };
        RouteSource {
            app_id: app.id.clone(),
            kind: app.kind,
            on: app.desired != Desired::Off,
            proc_types: app.structure.keys().cloned().collect(),
            hosts,
        }
    }

    fn start_probe(
        &self,
        row: &Instance,
        source: &RouteSource,
        app: &AppTraffic,
        store: &Arc<dyn Store>,
        signals: &Arc<Signals>,
    ) {
        let Some((_, port, _)) = source.hosts.first() else {
            return;
        };
        let Some(addr) = instance_endpoint(row, *port) else {
            // Its address shows at a later pass.
            return;
        };
        if !self
            .probing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(row.uuid)
        {
            return;
        }
        let declared = declares_health_check(&app.config.values);
        let check = HealthCheck::from_config(&app.config.values);
        let probe = Probe {
            row: row.clone(),
            addr,
            check,
            declared,
            grace: self.grace,
        };
        let (port, store, signals, probing) = (
            self.port.clone(),
            store.clone(),
            signals.clone(),
            self.probing.clone(),
        );
        tokio::spawn(async move {
            probe.run(port.as_ref(), &store).await;
            probing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&probe.row.uuid);
            signals.wake();
        });
    }
}

/// One instance's health check, repeated until it passes or its time is up.
struct Probe {
    row: Instance,
    addr: SocketAddr,
    check: HealthCheck,
    /// The app asked for a check: failing it is an error. Otherwise an
    /// instance that never opens its port is taken as one that serves no HTTP.
    declared: bool,
    grace: Duration,
}

impl Probe {
    async fn run(&self, traffic: &dyn Traffic, store: &Arc<dyn Store>) {
        tokio::time::sleep(self.check.initial_delay).await;
        let window = if self.declared {
            HEALTH_WINDOW
        } else {
            self.grace
        };
        let deadline = tokio::time::Instant::now() + window;
        loop {
            if traffic.probe(self.addr, &self.check).await {
                let _ = store.set_instance_ready(self.row.uuid, true).await;
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
            match store.get_instance(self.row.uuid).await {
                Ok(Some(r)) if r.state == InstanceState::Up && !r.ready => {}
                // Gone, down or already ready: nothing left to check.
                _ => return,
            }
        }
        if !self.declared {
            let _ = store.set_instance_ready(self.row.uuid, true).await;
            return;
        }
        let what = match &self.check.path {
            Some(path) => format!("GET http://{}{path}", self.addr),
            None => format!("a connection to {}", self.addr),
        };
        let message = format!(
            "health check failed: {what} did not succeed within {} s",
            window.as_secs()
        );
        tracing::warn!(instance = %self.row.uuid, "{message}");
        let _ = store
            .observe_instance(&Observation::error(&self.row, message, now()))
            .await;
    }
}

/// A pod's hosts: one per networking entry, each on its port; an entry
/// with Tapis auth, CORS or an address allow-list goes through the gate.
fn pod_hosts(pod_id: &str, endpoints: Vec<PodEndpoint>) -> Vec<(String, u16, RouteAuth)> {
    endpoints
        .into_iter()
        .map(|endpoint| {
            let gated = endpoint.auth.enabled
                || !endpoint.ip_allow_list.is_empty()
                || !endpoint.cors.allow_origins.is_empty();
            let (host, port) = (endpoint.host.clone(), endpoint.port);
            let auth = if gated {
                RouteAuth::TapisPod {
                    pod_id: pod_id.to_string(),
                    endpoint: Arc::new(endpoint),
                }
            } else {
                RouteAuth::Open
            };
            (host, port, auth)
        })
        .collect()
}
