//! Berth's router: a Host-based reverse proxy inside `berth serve`. Core
//! publishes the route table ([`berth_core::routing`]); the router sends
//! each request to a ready instance of the app the Host names, straight to
//! the container's address on its tenant network, over pooled keep-alive
//! connections. It also answers the reconciler's health checks and drains.
//!
//! The listener (connections, timeouts) is the server's; this crate is what
//! one request meets ([`Router::handle`]) and the certificates a TLS
//! connection is served with, by SNI ([`tls`]).

mod body;
mod gate;
mod pages;
mod pod_gate;
mod probe;
mod proxy;
pub mod tls;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use berth_core::metrics::Metrics;
use berth_core::routing::{HealthCheck, RouteTable, Traffic};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use uuid::Uuid;

pub use body::ProxyBody;
pub use gate::{Admission, Gate, GateRequest};
pub use pod_gate::PodGate;

/// Whether a request came over TLS: it decides `X-Forwarded-Proto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The proxy: the table it routes by, the pool it reaches instances over,
/// and the requests in flight to each instance.
pub struct Router {
    table: RwLock<Arc<RouteTable>>,
    /// Pooled keep-alive connections to instances.
    client: Client<HttpConnector, ProxyBody>,
    loads: Mutex<HashMap<Uuid, Arc<Load>>>,
    gate: Option<Arc<dyn Gate>>,
    /// Where requests and upstream latencies are counted, if anywhere.
    metrics: Option<Arc<Metrics>>,
    /// Bumped on every publish: requests waiting for a starting app's
    /// first ready instance look again.
    published: tokio::sync::watch::Sender<u64>,
}

/// What the router knows of one instance's traffic.
#[derive(Debug, Default)]
pub(crate) struct Load {
    /// Requests sent to it whose answers have not been passed on yet.
    pub(crate) in_flight: AtomicUsize,
    /// It is being drained: no new request goes to it.
    pub(crate) draining: AtomicBool,
}

impl Default for Router {
    fn default() -> Self {
        Router::new(None)
    }
}

impl Router {
    /// A router with an empty table; `gate` admits requests to routes that
    /// need more than the Host (Tapis `tapis_auth`). Without one those routes
    /// refuse every request.
    pub fn new(gate: Option<Arc<dyn Gate>>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(3)));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build(connector);
        Router {
            table: RwLock::default(),
            client,
            loads: Mutex::default(),
            gate,
            metrics: None,
            published: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Counts every request by status, and times instances' answers, in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The table requests are routed by now.
    pub fn table(&self) -> Arc<RouteTable> {
        self.table.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The loads of `instances`, in their order, under one lock.
    pub(crate) fn loads<'b>(&self, instances: impl Iterator<Item = &'b Uuid>) -> Vec<Arc<Load>> {
        let mut loads = self.loads.lock().unwrap_or_else(|e| e.into_inner());
        instances
            .map(|id| loads.entry(*id).or_default().clone())
            .collect()
    }
}

#[async_trait]
impl Traffic for Router {
    fn publish(&self, table: RouteTable) {
        let live: HashSet<Uuid> = table
            .routes()
            .flat_map(|r| r.backends.iter().map(|b| b.instance))
            .collect();
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
        self.published.send_modify(|n| *n = n.wrapping_add(1));
        // Instances that left the table need a load only while answers to
        // them are still on their way, and no drain mark should they return.
        self.loads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, load| {
                if live.contains(id) {
                    return true;
                }
                load.draining.store(false, Ordering::Relaxed);
                load.in_flight.load(Ordering::Relaxed) > 0
            });
    }

    async fn drain(&self, instance: Uuid, deadline: Duration) {
        let load = self.loads(std::iter::once(&instance)).remove(0);
        load.draining.store(true, Ordering::Release);
        let until = tokio::time::Instant::now() + deadline;
        // A request that chose the instance just before the mark counts itself
        // a moment later: look again after that moment.
        tokio::time::sleep(Duration::from_millis(20)).await;
        while load.in_flight.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn probe(&self, addr: SocketAddr, check: &HealthCheck) -> bool {
        self.check(addr, check).await
    }
}
