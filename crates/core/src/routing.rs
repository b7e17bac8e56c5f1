//! The route table: which host names reach which instances, on which port,
//! and behind which check. Core derives it from the store after every
//! reconcile pass and hands it to the [`Traffic`] port (the router), so the
//! request path never asks the store or the engine.
//!
//! Also the rules that decide traffic: which process type of an app serves
//! HTTP, on which port, and how its health is checked.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use crate::model::{AppKind, ConfigValues, Instance, InstanceState};
use crate::networking::PodEndpoint;

/// The port an app's web process listens on when nothing says otherwise
/// (Deis and Tutum set `PORT` to it; Tapis pods default to it too).
pub const DEFAULT_PORT: u16 = 5000;

/// How the router learns where traffic goes, and how the reconciler asks it
/// about the traffic an instance carries.
#[async_trait]
pub trait Traffic: Send + Sync {
    /// Replaces the table the router serves from.
    fn publish(&self, table: RouteTable);
    /// Waits until no request is in flight to `instance`, or `deadline` passed.
    async fn drain(&self, instance: Uuid, deadline: Duration);
    /// Runs one health check against an instance's address.
    async fn probe(&self, addr: SocketAddr, check: &HealthCheck) -> bool;
}

/// How an instance is found healthy: a TCP connect, or an HTTP GET of a path
/// answering below 400 (Deis v1's `HEALTHCHECK_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `None`: the port accepts a TCP connection.
    pub path: Option<String>,
    pub timeout: Duration,
    /// How long after the instance came up the first check runs.
    pub initial_delay: Duration,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            path: None,
            timeout: Duration::from_secs(1),
            initial_delay: Duration::ZERO,
        }
    }
}

impl HealthCheck {
    /// The check an app's config asks for, Deis v1's names:
    /// `HEALTHCHECK_URL`, `HEALTHCHECK_TIMEOUT`, `HEALTHCHECK_INITIAL_DELAY` (seconds).
    pub fn from_config(values: &BTreeMap<String, String>) -> Self {
        let seconds = |key: &str| {
            values
                .get(key)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(3600.0)))
        };
        let path = values
            .get("HEALTHCHECK_URL")
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(|p| {
                if p.starts_with('/') {
                    p.to_string()
                } else {
                    format!("/{p}")
                }
            });
        let default = HealthCheck::default();
        HealthCheck {
            path,
            timeout: seconds("HEALTHCHECK_TIMEOUT")
                .filter(|d| !d.is_zero())
                .unwrap_or(default.timeout),
            initial_delay: seconds("HEALTHCHECK_INITIAL_DELAY").unwrap_or(default.initial_delay),
        }
    }
}

/// Whether an app declared a health check (any `HEALTHCHECK_*` setting):
/// then failing it is an error, and a deploy waits for it to pass.
pub fn declares_health_check(values: &BTreeMap<String, String>) -> bool {
    values.keys().any(|k| k.starts_with("HEALTHCHECK_"))
}

/// Who may pass a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteAuth {
    Open,
    /// A Tapis pod endpoint with `tapis_auth`, CORS or an address
    /// allow-list: the server's gate decides each request.
    TapisPod {
        pod_id: String,
        endpoint: Arc<PodEndpoint>,
    },
}

/// One ready instance a route spreads requests over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub instance: Uuid,
    pub addr: SocketAddr,
}

/// What one host name reaches.
#[derive(Debug)]
pub struct Route {
    pub app_id: String,
    pub backends: Vec<Backend>,
    pub auth: RouteAuth,
    /// Instances of the app are being created, starting, or up but not
    /// health-checked yet: a request that finds no backend may wait for the
    /// next table instead of a 503.
    pub starting: bool,
    cursor: AtomicUsize,
}

impl Route {
    pub fn new(app_id: &str, backends: Vec<Backend>, auth: RouteAuth) -> Self {
        Route {
            app_id: app_id.to_string(),
            backends,
            auth,
            starting: false,
            cursor: AtomicUsize::new(0),
        }
    }

    /// The same route, marked as having instances that are still starting.
    pub fn starting(mut self, starting: bool) -> Self {
        self.starting = starting;
        self
    }

    /// The backends in the order a request should try them: round robin,
    /// so each request starts one further along.
    pub fn rotation(&self) -> impl Iterator<Item = &Backend> {
        let n = self.backends.len();
        let start = if n == 0 {
            0
        } else {
            self.cursor.fetch_add(1, Ordering::Relaxed) % n
        };
        self.backends.iter().cycle().skip(start).take(n)
    }
}

/// Host name → route. Hosts are kept lower-case without a port.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: HashMap<String, Arc<Route>>,
}

impl RouteTable {
    pub fn insert(&mut self, host: &str, route: Arc<Route>) {
        self.routes.insert(normalize_host(host), route);
    }

    /// The route for a request's `Host` (port and trailing dot ignored).
    pub fn lookup(&self, host: &str) -> Option<&Arc<Route>> {
        self.routes.get(&normalize_host(host))
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn routes(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.routes.values()
    }
}

/// `Example.COM.:8080` → `example.com`; IPv6 literals keep their brackets.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let without_port = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host, |(h, _)| &host[..h.len() + 1])
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

/// The port an app's web process serves on: its `PORT` setting, else its
/// first published TCP port (Tutum's `container_ports`), else 5000.
pub fn app_port(values: &ConfigValues) -> u16 {
    values
        .values
        .get("PORT")
        .and_then(|p| p.trim().parse::<u16>().ok())
        .filter(|p| *p > 0)
        .or_else(|| {
            values
                .policy
                .ports
                .iter()
                .find(|p| p.protocol == "tcp")
                .map(|p| p.inner)
        })
        .unwrap_or(DEFAULT_PORT)
}

/// Whether a process type of an app gets HTTP traffic: `web` (or `cmd`, a
/// Dockerfile app's single process, as Deis routed them), or the only type
/// an app has (a Tutum application, a Tapis pod).
pub fn serves_traffic(kind: AppKind, proc_type: &str, proc_types: usize) -> bool {
    kind == AppKind::Pod || proc_types <= 1 || proc_type == "web" || proc_type == "cmd"
}

/// What the table is built from for one app.
#[derive(Debug, Clone)]
pub struct RouteSource {
    pub app_id: String,
    pub kind: AppKind,
    /// False while the app is turned off: its hosts answer 503.
    pub on: bool,
    pub proc_types: Vec<String>,
    /// Hosts → port and auth, from the app's name, domains and endpoints.
    pub hosts: Vec<(String, u16, RouteAuth)>,
}

/// Where the router and the health checks reach `instance` for traffic to
/// its `port`. An address is either the instance's own IP (the instance
/// listens on `port` there) or an `ip:port` endpoint where the engine
/// published the app's port on the instance's node; another port of the
/// instance is then found among its published ports on the same IP.
pub fn instance_endpoint(instance: &Instance, port: u16) -> Option<SocketAddr> {
    let address = instance.address.as_deref()?;
    if let Ok(ip) = address.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    let published: SocketAddr = address.parse().ok()?;
    let other = instance
        .ports
        .iter()
        .find(|p| p.inner == port && p.protocol == "tcp")
        .and_then(|p| p.outer);
    Some(other.map_or(published, |outer| SocketAddr::new(published.ip(), outer)))
}

/// Builds the table from each app's hosts and the instances that are ready:
/// up, on the current release, health-checked, with an address.
pub fn build_table(sources: &[RouteSource], instances: &[Instance]) -> RouteTable {
    let mut by_app: HashMap<&str, Vec<&Instance>> = HashMap::new();
    let mut starting: HashMap<&str, Vec<&Instance>> = HashMap::new();
    for i in instances {
        if i.stopped {
            continue;
        }
        let group = match i.state {
            InstanceState::Up if i.ready && i.address.is_some() => &mut by_app,
            InstanceState::Created | InstanceState::Starting | InstanceState::Up => &mut starting,
            _ => continue,
        };
        group.entry(i.app_id.as_str()).or_default().push(i);
    }
    let mut table = RouteTable::default();
    for source in sources {
        let ready: Vec<&Instance> = if source.on {
            by_app
                .get(source.app_id.as_str())
                .map(|rows| {
                    rows.iter()
                        .copied()
                        .filter(|i| {
                            serves_traffic(source.kind, &i.proc_type, source.proc_types.len())
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let serving_soon = source.on
            && starting.get(source.app_id.as_str()).is_some_and(|rows| {
                rows.iter()
                    .any(|i| serves_traffic(source.kind, &i.proc_type, source.proc_types.len()))
            });
        for (host, port, auth) in &source.hosts {
            let mut backends: Vec<Backend> = ready
                .iter()
                .filter_map(|i| {
                    Some(Backend {
                        instance: i.uuid,
                        addr: instance_endpoint(i, *port)?,
                    })
                })
                .collect();
            backends.sort_by_key(|b| b.instance);
            table.insert(
                host,
                Arc::new(Route::new(&source.app_id, backends, auth.clone()).starting(serving_soon)),
            );
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PortSpec, PublishedPort};

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(normalize_host("Web.Berth.Local:8080"), "web.berth.local");
        assert_eq!(normalize_host("web.berth.local."), "web.berth.local");
        assert_eq!(normalize_host("[::1]:80"), "[::1]");
        assert_eq!(normalize_host("plain"), "plain");
    }

    #[test]
    fn port_comes_from_config_then_ports_then_default() {
        let mut values = ConfigValues::default();
        assert_eq!(app_port(&values), DEFAULT_PORT);
        values.policy.ports.push(PortSpec {
            inner: 53,
            protocol: "udp".into(),
        });
        values.policy.ports.push(PortSpec {
            inner: 80,
            protocol: "tcp".into(),
        });
        assert_eq!(app_port(&values), 80);
        values.values.insert("PORT".into(), "8000".into());
        assert_eq!(app_port(&values), 8000);
        values.values.insert("PORT".into(), "nope".into());
        assert_eq!(app_port(&values), 80);
    }

    #[test]
    fn health_checks_read_deis_names() {
        let mut values = BTreeMap::new();
        assert_eq!(HealthCheck::from_config(&values), HealthCheck::default());
        values.insert("HEALTHCHECK_URL".into(), "healthz".into());
        values.insert("HEALTHCHECK_TIMEOUT".into(), "3".into());
        values.insert("HEALTHCHECK_INITIAL_DELAY".into(), "0.5".into());
        let check = HealthCheck::from_config(&values);
        assert_eq!(check.path.as_deref(), Some("/healthz"));
        assert_eq!(check.timeout, Duration::from_secs(3));
        assert_eq!(check.initial_delay, Duration::from_millis(500));
        values.insert("HEALTHCHECK_TIMEOUT".into(), "-1".into());
        assert_eq!(
            HealthCheck::from_config(&values).timeout,
            Duration::from_secs(1)
        );
    }

    #[test]
    fn a_route_whose_instances_are_on_their_way_is_starting() {
        let mut row = Instance {
            state: InstanceState::Up,
            address: Some("10.0.0.2".into()),
            ..Instance::new("web", 1, "web", 1)
        };
        let source = RouteSource {
            app_id: "web".into(),
            kind: AppKind::App,
            on: true,
            proc_types: vec!["web".into()],
            hosts: vec![("web.berth.local".into(), 5000, RouteAuth::Open)],
        };
        let table = build_table(std::slice::from_ref(&source), std::slice::from_ref(&row));
        let route = table.lookup("web.berth.local").unwrap();
        assert!(route.backends.is_empty() && route.starting);
        row.state = InstanceState::Created;
        let table = build_table(std::slice::from_ref(&source), std::slice::from_ref(&row));
        assert!(table.lookup("web.berth.local").unwrap().starting);
        row.state = InstanceState::Up;
        row.ready = true;
        let table = build_table(std::slice::from_ref(&source), std::slice::from_ref(&row));
        let route = table.lookup("web.berth.local").unwrap();
        assert_eq!(route.backends.len(), 1);
        assert!(!route.starting);
        let off = RouteSource {
            on: false,
            ..source
        };
        row.ready = false;
        let table = build_table(&[off], &[row]);
        assert!(!table.lookup("web.berth.local").unwrap().starting);
    }

    #[test]
    fn web_and_single_types_serve_traffic() {
        assert!(serves_traffic(AppKind::App, "web", 2));
        assert!(serves_traffic(AppKind::App, "cmd", 1));
        assert!(serves_traffic(AppKind::App, "worker", 1));
        assert!(!serves_traffic(AppKind::App, "worker", 2));
        assert!(serves_traffic(AppKind::Pod, "pod", 1));
    }

    fn ready(app: &str, proc_type: &str, address: &str) -> Instance {
        Instance {
            state: InstanceState::Up,
            ready: true,
            address: Some(address.into()),
            ..Instance::new(app, 1, proc_type, 1)
        }
    }

    #[test]
    fn table_holds_ready_web_instances_of_apps_that_are_on() {
        let source = |app: &str, on: bool| RouteSource {
            app_id: app.into(),
            kind: AppKind::App,
            on,
            proc_types: vec!["web".into(), "worker".into()],
            hosts: vec![
                (format!("{app}.berth.local"), 5000, RouteAuth::Open),
                (format!("www.{app}.example"), 5000, RouteAuth::Open),
            ],
        };
        let not_ready = Instance {
            ready: false,
            ..ready("a", "web", "10.0.0.4")
        };
        let instances = vec![
            ready("a", "web", "10.0.0.2"),
            ready("a", "worker", "10.0.0.3"),
            not_ready,
            ready("b", "web", "10.0.0.9"),
        ];
        let table = build_table(&[source("a", true), source("b", false)], &instances);
        assert_eq!(table.len(), 4);
        let a = table.lookup("A.berth.local:8080").unwrap();
        assert_eq!(a.backends.len(), 1);
        assert_eq!(a.backends[0].addr, "10.0.0.2:5000".parse().unwrap());
        assert_eq!(table.lookup("www.a.example").unwrap().app_id, "a");
        assert!(table.lookup("b.berth.local").unwrap().backends.is_empty());
        assert!(table.lookup("c.berth.local").is_none());
    }

    #[test]
    fn endpoints_are_an_ip_and_the_port_or_a_published_endpoint() {
        let at = |address: &str| ready("a", "web", address);
        assert_eq!(
            instance_endpoint(&at("10.0.0.2"), 5000),
            Some("10.0.0.2:5000".parse().unwrap())
        );
        let published = Instance {
            ports: vec![PublishedPort {
                inner: 8080,
                outer: Some(31002),
                protocol: "tcp".into(),
            }],
            ..at("10.99.0.12:31001")
        };
        assert_eq!(
            instance_endpoint(&published, 5000),
            Some("10.99.0.12:31001".parse().unwrap())
        );
        assert_eq!(
            instance_endpoint(&published, 8080),
            Some("10.99.0.12:31002".parse().unwrap())
        );
        assert_eq!(instance_endpoint(&at("not an address"), 5000), None);
        assert_eq!(
            instance_endpoint(&Instance::new("a", 1, "web", 1), 5000),
            None
        );
    }

    #[test]
    fn rotation_starts_one_further_each_time() {
        let backends: Vec<Backend> = (1..=3)
            .map(|n| Backend {
                instance: Uuid::from_u128(n),
                addr: SocketAddr::new([10, 0, 0, n as u8].into(), 80),
            })
            .collect();
        let route = Route::new("a", backends, RouteAuth::Open);
        let firsts: Vec<u128> = (0..4)
            .map(|_| route.rotation().next().unwrap().instance.as_u128())
            .collect();
        assert_eq!(firsts, vec![1, 2, 3, 1]);
        assert_eq!(route.rotation().count(), 3);
    }
}
