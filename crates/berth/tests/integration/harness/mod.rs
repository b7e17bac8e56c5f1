//! What every test needs: its own `berth serve` (killed, and its containers
//! removed, on drop), the testkit's `/v1` client, views of the Docker
//! containers one server owns, and the NDS client ([`nds`]).

mod nds;

use std::collections::{BTreeMap, HashMap};
use std::ops::{Deref, DerefMut};
use std::process::Command;
use std::sync::OnceLock;

pub use berth_testkit::docker::docker;
pub use berth_testkit::{Api, IMAGE, Reply, unique_username, wait_until};
use berth_testkit::{Launch, log_tail};
use serde_json::{Value, json};
use tempfile::TempDir;

pub use nds::{
    Inspection, JOB_DONE, NdsUser, Part, cont_id, error_of, job_containers, tar_listing,
};

/// How long synchronous calls wait for the engine: short enough that a
/// call that never converges fails its test instead of hanging it.
const CONVERGE_TIMEOUT_SECS: &str = "30";
/// Lines of a server's log shown when a test fails.
const LOG_LINES: usize = 80;

// ------------------------------------------------------------------ server

/// One `berth serve` child process with its own data dir (see
/// [`berth_testkit::Server`], which it derefs to), killed and its containers
/// removed on drop.
pub struct Server {
    kit: berth_testkit::Server,
    /// Holds the data dir and the server's log; removed on drop.
    _root: TempDir,
}

impl Deref for Server {
    type Target = berth_testkit::Server;

    fn deref(&self) -> &Self::Target {
        &self.kit
    }
}

impl DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.kit
    }
}

impl Server {
    /// Starts a server on a fresh data dir and waits until it listens.
    pub async fn start() -> Server {
        Server::start_with_env(&[]).await
    }

    /// Like [`Server::start`], with extra environment (e.g. a setting's env twin).
    pub async fn start_with_env(env: &[(&str, &str)]) -> Server {
        require_engine();
        let root = tempfile::Builder::new()
            .prefix("berth-it-")
            .tempdir()
            .expect("cannot make a temp dir");
        let launch = env.iter().fold(
            Launch::new(env!("CARGO_BIN_EXE_berth"), root.path())
                .env("BERTH_CONVERGE_TIMEOUT", CONVERGE_TIMEOUT_SECS),
            |launch, (k, v)| launch.env(k, v),
        );
        let log = launch.log_path();
        let kit = launch
            .start()
            .await
            .unwrap_or_else(|e| panic!("{e}; its log:\n{}", log_tail(&log, LOG_LINES)));
        Server { kit, _root: root }
    }

    /// Starts a new server process on the same data dir (after `kill`).
    /// It listens on a new port: `url` changes.
    pub async fn relaunch(&mut self) {
        if let Err(e) = self.kit.relaunch().await {
            panic!("{e}; its log:\n{}", self.log_tail());
        }
    }

    /// SIGKILL, then a new process on the same data dir.
    pub async fn restart_killed(&mut self) {
        self.kit.kill().await;
        self.relaunch().await;
    }

    fn log_tail(&self) -> String {
        log_tail(&self.kit.log_path(), LOG_LINES)
    }

    /// This server's containers, running or not, sorted by app, type and
    /// number; `app` narrows them to one app.
    pub fn containers(&self, app: Option<&str>) -> Vec<Container> {
        let server = format!("label=berth.server={}", self.server_id);
        let mut args = vec!["ps", "-a", "-q", "--no-trunc", "--filter", &server];
        let app_filter = app.map(|a| format!("label=berth.app={a}"));
        if let Some(f) = &app_filter {
            args.extend(["--filter", f.as_str()]);
        }
        let ids = docker(&args).unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            return Vec::new();
        }
        // A container may vanish between `ps` and `inspect`: docker then
        // still prints the others, and fails.
        let out = Command::new("docker")
            .arg("inspect")
            .args(&ids)
            .output()
            .expect("cannot run docker");
        let found: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let mut containers: Vec<Container> = found.iter().map(Container::from_inspect).collect();
        containers.sort_by(|a, b| {
            (a.label("berth.app"), a.label("berth.proc"), a.num_label()).cmp(&(
                b.label("berth.app"),
                b.label("berth.proc"),
                b.num_label(),
            ))
        });
        containers
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Kill first, or the server would recreate what we remove.
        self.kit.kill_now();
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of the log of server {} ---\n{}\n---",
                self.server_id,
                self.log_tail()
            );
        }
        if !self.server_id.is_empty() {
            berth_testkit::docker::remove_labelled(&format!("berth.server={}", self.server_id));
        }
    }
}

/// Fails the test (once per process the check runs) unless an engine
/// answers and has the base image.
fn require_engine() {
    static ENGINE: OnceLock<Result<(), String>> = OnceLock::new();
    let state = ENGINE.get_or_init(|| berth_testkit::docker::check_engine(IMAGE));
    if let Err(e) = state {
        panic!(
            "no usable Docker engine (DOCKER_HOST={:?}): {e}\n\
             start one first: eval \"$(bash scripts/engine.sh)\"",
            std::env::var("DOCKER_HOST").unwrap_or_default()
        );
    }
}

// ------------------------------------------------------------------ docker

/// A container as `docker inspect` shows it.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub running: bool,
    pub labels: HashMap<String, String>,
    pub env: Vec<String>,
}

impl Container {
    fn from_inspect(v: &Value) -> Container {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        Container {
            id: v["Id"].as_str().unwrap_or_default().to_string(),
            name: v["Name"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            running: v["State"]["Running"].as_bool().unwrap_or(false),
            labels: v["Config"]["Labels"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            env: strings(&v["Config"]["Env"]),
        }
    }

    /// A label's value, "" when absent.
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map(String::as_str).unwrap_or("")
    }

    fn num_label(&self) -> u32 {
        self.label("berth.num").parse().unwrap_or(0)
    }

    /// `berth.num` as a number; fails the test when it is not one.
    pub fn num(&self) -> u32 {
        self.label("berth.num")
            .parse()
            .unwrap_or_else(|_| panic!("container {} has no numeric berth.num", self.name))
    }

    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|e| e.strip_prefix(name)?.strip_prefix('='))
    }
}

/// Ok when `containers` are exactly `n` running `web` instances of `app`,
/// numbered 1..=n once each; otherwise what is wrong with them.
pub fn exactly_running_web(containers: &[Container], app: &str, n: u32) -> Result<(), String> {
    let seen: Vec<String> = containers
        .iter()
        .map(|c| {
            format!(
                "{} (app={} proc={} num={} release={} running={})",
                c.name,
                c.label("berth.app"),
                c.label("berth.proc"),
                c.label("berth.num"),
                c.label("berth.release"),
                c.running
            )
        })
        .collect();
    let nums: Vec<u32> = containers.iter().map(|c| c.num_label()).collect();
    let ok = containers.len() == n as usize
        && containers
            .iter()
            .all(|c| c.running && c.label("berth.app") == app && c.label("berth.proc") == "web")
        && nums == (1..=n).collect::<Vec<_>>();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "want exactly web.1..web.{n} of {app}, each running once; have {seen:#?}"
        ))
    }
}

/// Ok when the instance rows the API lists for `app` are exactly the
/// containers Docker runs: same instance uuids, type, number and release,
/// all `up`.
pub async fn rows_match_docker(
    api: &Api,
    app: &str,
    containers: &[Container],
) -> Result<(), String> {
    let reply = api.get(&format!("/v1/apps/{app}/containers")).await;
    if reply.status != 200 {
        return Err(format!("{} → {} {}", reply.what, reply.status, reply.text));
    }
    let rows: BTreeMap<String, (String, u64, String, String)> = reply.body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["uuid"].as_str().unwrap_or_default().to_string(),
                (
                    r["type"].as_str().unwrap_or_default().to_string(),
                    r["num"].as_u64().unwrap_or(0),
                    r["release"].as_str().unwrap_or_default().to_string(),
                    r["state"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect();
    let engine: BTreeMap<String, (String, u64, String, String)> = containers
        .iter()
        .map(|c| {
            (
                c.label("berth.instance").to_string(),
                (
                    c.label("berth.proc").to_string(),
                    u64::from(c.num_label()),
                    format!("v{}", c.label("berth.release")),
                    if c.running { "up" } else { "not running" }.to_string(),
                ),
            )
        })
        .collect();
    if rows == engine && reply.body["count"] == json!(rows.len()) {
        Ok(())
    } else {
        Err(format!(
            "instance rows differ from Docker:\n rows:   {rows:?}\n docker: {engine:?}\n body: {}",
            reply.text
        ))
    }
}
