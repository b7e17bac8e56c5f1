//! What every test needs: its own `berth serve` (killed, and its containers
//! removed, on drop), a small client for the `/v1` API, and views of the
//! Docker containers one server owns.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

/// The image every test deploys; `scripts/engine.sh` provides it.
pub const IMAGE: &str = "busybox:latest";
/// The process type tests deploy and scale.
pub const SLEEPER_PROCFILE: &str = r#"{"web": "sleep 3600"}"#;
/// Password of every test user.
const PASSWORD: &str = "opensesame-42";
/// How long a server may take to print its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long synchronous calls wait for the engine: short enough that a
/// call that never converges fails its test instead of hanging it.
const CONVERGE_TIMEOUT_SECS: &str = "30";
const HTTP_TIMEOUT: Duration = Duration::from_secs(45);

// ------------------------------------------------------------------ server

/// One `berth serve` child process with its own data dir.
pub struct Server {
    pub url: String,
    pub data_dir: PathBuf,
    pub server_id: String,
    /// Extra environment for every launch (settings a test changes).
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// Holds the data dir and the server's log; removed on drop.
    root: TempDir,
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
        let mut server = Server {
            url: String::new(),
            data_dir: root.path().join("data"),
            server_id: String::new(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            root,
        };
        server.launch().await;
        server
    }

    /// SIGKILLs the server (no graceful shutdown) and waits for it to die.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Starts a new server process on the same data dir (after `kill`).
    /// It listens on a new port: `url` changes.
    pub async fn relaunch(&mut self) {
        assert!(
            self.child.is_none(),
            "relaunch: the server is still running"
        );
        self.launch().await;
    }

    /// SIGKILL, then a new process on the same data dir.
    pub async fn restart_killed(&mut self) {
        self.kill().await;
        self.relaunch().await;
    }

    fn log_path(&self) -> PathBuf {
        self.root.path().join("server.log")
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }

    async fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("cannot open the server log");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&self.data_dir)
            .env("BERTH_CONVERGE_TIMEOUT", CONVERGE_TIMEOUT_SECS)
            .env("NO_COLOR", "1")
            .env_remove("BERTH_DATABASE_URL")
            .env_remove("BERTH_RUNTIME")
            .env_remove("BERTH_ROUTER_LISTEN")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start `berth serve`");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = tokio::time::Instant::now() + STARTUP_TIMEOUT;
        let url = loop {
            match tokio::time::timeout_at(deadline, lines.next_line()).await {
                Ok(Ok(Some(line))) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        break url.trim().to_string();
                    }
                }
                Ok(_) => panic!(
                    "`berth serve` exited before it listened; its log:\n{}",
                    self.log_tail()
                ),
                Err(_) => panic!(
                    "`berth serve` printed no address within {STARTUP_TIMEOUT:?}; its log:\n{}",
                    self.log_tail()
                ),
            }
        };
        let id = std::fs::read_to_string(self.data_dir.join("server-id"))
            .expect("the server wrote no server-id");
        self.server_id = id.trim().to_string();
        self.url = url;
        self.child = Some(child);
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
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of the log of server {} ---\n{}\n---",
                self.server_id,
                self.log_tail()
            );
        }
        if !self.server_id.is_empty() {
            remove_containers_of_server(&self.server_id);
        }
    }
}

/// Removes every container labelled with this server id. A create the
/// dead server sent just before it died may land a while later (seconds,
/// on a busy engine), so it stops only after 1.5 s without any, or after 10 s.
fn remove_containers_of_server(server_id: &str) {
    let filter = format!("label=berth.server={server_id}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut quiet = 0;
    while quiet < 3 && Instant::now() < deadline {
        let ids = docker(&["ps", "-a", "-q", "--filter", &filter]).unwrap_or_default();
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            quiet += 1;
        } else {
            quiet = 0;
            let mut args = vec!["rm", "-f"];
            args.extend(ids);
            if let Err(e) = docker(&args) {
                eprintln!("cleanup: {e}");
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Fails the test (once per process the check runs) unless an engine
/// answers and has the base image.
fn require_engine() {
    static ENGINE: OnceLock<Result<(), String>> = OnceLock::new();
    let state = ENGINE.get_or_init(|| {
        docker(&["version", "--format", "{{.Server.Version}}"])?;
        docker(&["image", "inspect", "--format", "{{.Id}}", IMAGE])
            .map_err(|e| format!("the engine has no {IMAGE}: {e}"))?;
        Ok(())
    });
    if let Err(e) = state {
        panic!(
            "no usable Docker engine (DOCKER_HOST={:?}): {e}\n\
             start one first: eval \"$(bash scripts/engine.sh)\"",
            std::env::var("DOCKER_HOST").unwrap_or_default()
        );
    }
}

// ------------------------------------------------------------------ docker

/// Runs the docker CLI and returns its stdout; the error carries stderr.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`docker {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

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

/// Checks `check` every 250 ms until it returns Ok, and returns its value;
/// fails the test with the last Err after `timeout`.
pub async fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting until {what}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

// --------------------------------------------------------------------- api

/// An app id no other test uses (container names are engine-wide).
pub fn unique_app_id(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A user name no other test uses.
pub fn unique_username(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A `/v1` client, with a token or anonymous.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The server's URL; set it anew after the server restarted.
    pub base: String,
    token: Option<String>,
}

/// A response, its body read as JSON when it is JSON (else `Null`).
#[derive(Debug)]
pub struct Reply {
    /// "METHOD /path", for messages.
    pub what: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    /// Fails the test unless the status is `code`; returns the reply.
    pub fn status_is(self, code: u16) -> Reply {
        assert_eq!(
            self.status, code,
            "{} answered {} {}",
            self.what, self.status, self.text
        );
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    /// An anonymous client of the server at `base`.
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(HTTP_TIMEOUT)
                .build()
                .expect("cannot build an HTTP client"),
            base: base.to_string(),
            token: None,
        }
    }

    /// The same client sending `token` instead.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// Registers `username` (201), logs in (200) and returns the logged-in
    /// client and the registered user as the server returned it.
    pub async fn sign_up(base: &str, username: &str) -> (Api, Value) {
        let anon = Api::new(base);
        let user = anon
            .post(
                "/v1/auth/register",
                &json!({"username": username, "password": PASSWORD, "email": format!("{username}@example.com")}),
            )
            .await
            .status_is(201)
            .body;
        let login = anon
            .post(
                "/v1/auth/login/",
                &json!({"username": username, "password": PASSWORD}),
            )
            .await
            .status_is(200);
        let token = login.body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login gave no token: {}", login.text));
        (anon.with_token(token), user)
    }

    /// Sends a request; Err only when no response came (e.g. the server died).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<Reply, String> {
        let what = format!("{method} {path}");
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.header("Authorization", format!("token {token}"));
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let res = req.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.map_err(|e| format!("{what}: {e}"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply {
            what,
            status,
            headers,
            text,
            body,
        })
    }

    async fn must_send(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        self.send(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("no response: {e}"))
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.must_send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.must_send(Method::POST, path, Some(&body.to_string()))
            .await
    }

    /// POSTs `body` as is, e.g. malformed JSON.
    pub async fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.must_send(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.must_send(Method::DELETE, path, None).await
    }

    /// Creates an app with a fresh id starting with `prefix` and returns the id.
    pub async fn create_app(&self, prefix: &str) -> String {
        let id = unique_app_id(prefix);
        let reply = self
            .post("/v1/apps", &json!({ "id": id }))
            .await
            .status_is(201);
        assert_eq!(
            reply.body["id"],
            json!(id),
            "create answered {}",
            reply.text
        );
        id
    }

    /// Builds `busybox:latest` running `sleep 3600` as `web` (201). A first
    /// build starts web=1.
    pub async fn deploy_sleeper(&self, app: &str) -> Reply {
        let procfile: Value = serde_json::from_str(SLEEPER_PROCFILE).expect("procfile is JSON");
        self.post(
            &format!("/v1/apps/{app}/builds"),
            &json!({"image": IMAGE, "procfile": procfile}),
        )
        .await
        .status_is(201)
    }

    /// Scales web to `n` and expects 204.
    pub async fn scale_web(&self, app: &str, n: u32) {
        self.post(&format!("/v1/apps/{app}/scale"), &json!({ "web": n }))
            .await
            .status_is(204);
    }
}
