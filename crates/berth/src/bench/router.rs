//! The router rows of `berth bench`: HTTP load through Berth's router,
//! through nginx proxying to the same instances, and straight to the
//! instances, in one run with one load generator; and the memory a table of
//! many routes takes.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use berth_core::routing::{Backend, Route, RouteAuth, RouteTable, Traffic};
use berth_testkit::docker::{demo_image, docker_async};
use berth_testkit::{Api, Server};
use serde_json::{Value, json};
use uuid::Uuid;

use super::load::{Load, LoadReport, get_once};
use super::{Row, rss_bytes};

const APP: &str = "routed";
const INSTANCES: u32 = 2;
const APP_PORT: u16 = 5000;
const SMALL_PATH: &str = "/small";
const ROUTES_FOR_MEMORY: usize = 10_000;
const NGINX_START_TIMEOUT: Duration = Duration::from_secs(10);
// Targets from the router issue: at least nginx's rate, with a lower p99.
const MIN_RATE_RATIO: f64 = 1.0;

/// How the HTTP load is shaped.
#[derive(Debug, Clone, Copy)]
pub struct LoadShape {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// Deploys the demo app with two instances, then drives the same load
/// through the router, through nginx and straight to the instances.
pub async fn measure_http(api: &Api, server: &Server, shape: LoadShape) -> Result<Vec<Row>> {
    let image = build_demo_image().await?;
    api.try_create_app(APP).await.map_err(anyhow::Error::msg)?;
    let procfile = json!({ "web": "/usr/local/bin/berth-demo-app" });
    api.try_build(APP, &image, &procfile)
        .await
        .map_err(anyhow::Error::msg)?;
    api.try_scale(APP, "web", INSTANCES)
        .await
        .map_err(anyhow::Error::msg)?;
    let host = format!("{APP}.berth.local");
    let router = router_address(server)?;
    wait_until_routed(router, &host).await?;
    let instances = instance_addresses(server).await?;
    progress!(
        "{APP} runs at {}",
        instances
            .iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let load = |targets: Vec<SocketAddr>| Load {
        targets,
        host: host.clone(),
        path: SMALL_PATH.into(),
        connections: shape.connections,
        warmup: shape.warmup,
        duration: shape.duration,
    };

    progress!("load through the router at {router}");
    let through_router = load(vec![router]).run().await?;
    progress!("load straight to the instances");
    let direct = load(instances.clone()).run().await?;
    let through_nginx = match Nginx::start(&instances).await {
        Ok(nginx) => {
            progress!("load through nginx at {}", nginx.addr);
            let report = load(vec![nginx.addr]).run().await;
            nginx.stop().await;
            Some(report?)
        }
        Err(e) => {
            progress!("no nginx row: {e:#}");
            None
        }
    };
    Ok(http_rows(
        shape,
        &through_router,
        through_nginx.as_ref(),
        &direct,
    ))
}

fn http_rows(
    shape: LoadShape,
    router: &LoadReport,
    nginx: Option<&LoadReport>,
    direct: &LoadReport,
) -> Vec<Row> {
    let connections = shape.connections;
    let seconds = shape.duration.as_secs_f64();
    let rate = |r: &LoadReport| format!("{:.0}/s", r.rate());
    let mut rows = Vec::new();
    match nginx {
        Some(nginx) => {
            let ratio = router.rate() / nginx.rate();
            rows.push(Row::versus(
                format!("HTTP GET {SMALL_PATH}, {connections} keep-alive conns, {seconds:.0} s: router vs nginx, rate"),
                rate(router),
                rate(nginx),
                format!("{ratio:.2}×"),
                format!("≥ {MIN_RATE_RATIO}× nginx"),
                Some(ratio >= MIN_RATE_RATIO),
            ));
            for (p, target) in [(50.0, false), (99.0, true)] {
                let (ours, theirs) = (router.percentile(p), nginx.percentile(p));
                rows.push(Row::versus(
                    format!("  … p{p:.0} latency"),
                    super::fmt_duration(ours),
                    super::fmt_duration(theirs),
                    format!("{:.2}×", ours.as_secs_f64() / theirs.as_secs_f64()),
                    if target { "< nginx".into() } else { "—".into() },
                    target.then_some(ours < theirs),
                ));
            }
            rows.push(Row::versus(
                "  … failed requests".into(),
                router.errors.to_string(),
                nginx.errors.to_string(),
                "—".into(),
                "0".into(),
                Some(router.errors == 0),
            ));
        }
        None => rows.push(Row::versus(
            format!("HTTP GET {SMALL_PATH}, {connections} keep-alive conns: router rate (nginx missing: apt-get install nginx)"),
            rate(router),
            "—".into(),
            "—".into(),
            "—".into(),
            None,
        )),
    }
    rows.push(Row::versus(
        "  … straight to the instances (reference): rate, p99".into(),
        format!(
            "{}, {}",
            rate(direct),
            super::fmt_duration(direct.percentile(99.0))
        ),
        "—".into(),
        "—".into(),
        "—".into(),
        None,
    ));
    rows
}

/// The growth of this process's resident memory while a router holds a
/// table of `ROUTES_FOR_MEMORY` hosts with two instances each, measured
/// before the load runs so that nothing else allocates meanwhile.
pub fn router_memory_row() -> Result<Row> {
    let pid = std::process::id();
    let before = rss_bytes(pid)?;
    let router = berth_router::Router::new(None);
    let mut table = RouteTable::default();
    for n in 0..ROUTES_FOR_MEMORY {
        let backends = (0..2u8)
            .map(|i| Backend {
                instance: Uuid::new_v4(),
                addr: SocketAddr::new(IpAddr::from([10, 1, (n % 250) as u8, i + 2]), APP_PORT),
            })
            .collect();
        let app = format!("app-{n:05}");
        let route = Arc::new(Route::new(&app, backends, RouteAuth::Open));
        table.insert(&format!("{app}.berth.local"), route);
    }
    router.publish(table);
    let lookups = Instant::now();
    for n in 0..ROUTES_FOR_MEMORY {
        ensure!(
            router
                .table()
                .lookup(&format!("APP-{n:05}.berth.local:8080"))
                .is_some(),
            "route {n} is missing"
        );
    }
    let per_lookup = lookups.elapsed() / ROUTES_FOR_MEMORY as u32;
    let after = rss_bytes(pid)?;
    drop(router);
    Ok(Row::berth_only(
        format!(
            "router memory, {ROUTES_FOR_MEMORY} routes × 2 instances (lookup {per_lookup:.1?})"
        ),
        super::megabytes(after.saturating_sub(before)),
        None,
    ))
}

async fn build_demo_image() -> Result<String> {
    let exe = std::env::current_exe().context("cannot find the berth binary")?;
    let binary = exe.with_file_name("berth-demo-app");
    ensure!(
        binary.exists(),
        "{} is missing: build it with `cargo build --release -p berth`",
        binary.display()
    );
    progress!("building the demo image from {}", binary.display());
    tokio::task::spawn_blocking(move || demo_image(&binary))
        .await?
        .map_err(anyhow::Error::msg)
}

fn router_address(server: &Server) -> Result<SocketAddr> {
    server
        .router_url
        .trim_start_matches("http://")
        .parse()
        .with_context(|| format!("the router's address {:?}", server.router_url))
}

/// Waits until the router has every instance in its table: answers name
/// `INSTANCES` different instances.
async fn wait_until_routed(router: SocketAddr, host: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = std::collections::BTreeSet::new();
    while Instant::now() < deadline {
        if let Ok((200, body)) = get_once(router, host, "/").await
            && let Ok(body) = serde_json::from_slice::<Value>(&body)
            && let Some(instance) = body["instance"].as_str()
        {
            seen.insert(instance.to_string());
            if seen.len() == INSTANCES as usize {
                return Ok(());
            }
            continue;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{host} never reached {INSTANCES} instances through the router (saw {seen:?})")
}

/// The instances' addresses on their tenant network, from the engine.
async fn instance_addresses(server: &Server) -> Result<Vec<SocketAddr>> {
    let by_server = format!("label=berth.server={}", server.server_id);
    let by_app = format!("label=berth.app={APP}");
    let ids = docker_async(&["ps", "-q", "--filter", &by_server, "--filter", &by_app])
        .await
        .map_err(anyhow::Error::msg)?;
    let mut addresses = Vec::new();
    for id in ids.split_whitespace() {
        let ips = docker_async(&[
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
            id,
        ])
        .await
        .map_err(anyhow::Error::msg)?;
        let ip: IpAddr = ips
            .split_whitespace()
            .next()
            .with_context(|| format!("container {id} has no address"))?
            .parse()?;
        addresses.push(SocketAddr::new(ip, APP_PORT));
    }
    ensure!(
        addresses.len() == INSTANCES as usize,
        "expected {INSTANCES} instances of {APP}, the engine runs {}",
        addresses.len()
    );
    Ok(addresses)
}

/// Debian's nginx as a reverse proxy to the same instances, with a config
/// written for the run: as many workers as cores, keep-alive upstream
/// connections, the same forwarding headers the router adds, no access log.
struct Nginx {
    child: tokio::process::Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Nginx {
    async fn start(upstreams: &[SocketAddr]) -> Result<Nginx> {
        let binary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists())
            .ok_or_else(|| anyhow!("nginx is not installed (apt-get install nginx)"))?;
        let dir = std::env::temp_dir().join(format!("berth-bench-nginx-{}", Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("tmp"))?;
        let addr = free_local_address()?;
        let config = dir.join("nginx.conf");
        std::fs::write(&config, nginx_config(&dir, addr, upstreams))?;
        let child = tokio::process::Command::new(binary)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&config)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let nginx = Nginx {
            child,
            addr,
            dir: dir.clone(),
        };
        let deadline = Instant::now() + NGINX_START_TIMEOUT;
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                nginx.stop().await;
                bail!("nginx did not listen on {addr}: {log}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(nginx)
    }

    /// SIGTERM to the master, which takes its workers down with it.
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn nginx_config(dir: &Path, listen: SocketAddr, upstreams: &[SocketAddr]) -> String {
    let path = |name: &str| -> PathBuf { dir.join(name) };
    let servers: String = upstreams
        .iter()
        .map(|a| format!("    server {a};\n"))
        .collect();
    format!(
        "worker_processes auto;\n\
         error_log {error_log} warn;\n\
         pid {pid};\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
         access_log off;\n\
         client_body_temp_path {tmp}/body;\n\
         proxy_temp_path {tmp}/proxy;\n\
         fastcgi_temp_path {tmp}/fastcgi;\n\
         uwsgi_temp_path {tmp}/uwsgi;\n\
         scgi_temp_path {tmp}/scgi;\n\
         upstream app {{\n{servers}    keepalive 128;\n}}\n\
         server {{\n\
         listen {listen} backlog=4096;\n\
         location / {{\n\
         proxy_pass http://app;\n\
         proxy_http_version 1.1;\n\
         proxy_set_header Connection \"\";\n\
         proxy_set_header Host $host;\n\
         proxy_set_header X-Forwarded-For $remote_addr;\n\
         proxy_set_header X-Forwarded-Proto $scheme;\n\
         proxy_set_header X-Forwarded-Host $host;\n\
         proxy_set_header X-Request-Id $request_id;\n\
         }}\n\
         }}\n\
         }}\n",
        error_log = path("error.log").display(),
        pid = path("nginx.pid").display(),
        tmp = path("tmp").display(),
    )
}

/// A loopback port nothing listens on now, for nginx to take.
fn free_local_address() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}
