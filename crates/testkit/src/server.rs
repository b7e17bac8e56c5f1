//! `berth serve` as a child process on port 0 and its own data dir, found by
//! the `listening on <url>` line it prints; killed, relaunched on the same
//! data dir, or stopped in order.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// How long a server may take to print its address, unless told otherwise.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long dropping a server waits for the killed process to go.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// How to start a server: which binary, in which directory (the data dir is
/// `<root>/data`, the log `<root>/server.log`), with which extra environment.
#[derive(Debug, Clone)]
pub struct Launch {
    exe: PathBuf,
    root: PathBuf,
    env: Vec<(String, String)>,
    startup_timeout: Duration,
    own_process_group: bool,
}

impl Launch {
    pub fn new(exe: impl Into<PathBuf>, root: impl Into<PathBuf>) -> Launch {
        Launch {
            exe: exe.into(),
            root: root.into(),
            env: Vec::new(),
            startup_timeout: STARTUP_TIMEOUT,
            own_process_group: false,
        }
    }

    /// An environment variable for every launch (a setting's env twin).
    pub fn env(mut self, key: &str, value: &str) -> Launch {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn startup_timeout(mut self, timeout: Duration) -> Launch {
        self.startup_timeout = timeout;
        self
    }

    /// Puts the server in a process group of its own, so that Ctrl-C in a
    /// terminal reaches only the caller, which then stops the server in order.
    pub fn own_process_group(mut self) -> Launch {
        self.own_process_group = true;
        self
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The server's stderr, appended to by every launch.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// Starts the server and waits until it listens.
    pub async fn start(self) -> Result<Server, String> {
        let mut server = Server {
            url: String::new(),
            router_url: String::new(),
            router_tls_url: String::new(),
            data_dir: self.data_dir(),
            server_id: String::new(),
            launch: self,
            child: None,
            stdout: None,
        };
        server.spawn().await?;
        Ok(server)
    }
}

/// One running (or killed) `berth serve`.
pub struct Server {
    /// Where it listens, `http://127.0.0.1:<port>`; a relaunch changes it.
    pub url: String,
    /// Where its router listens (`--router-listen 127.0.0.1:0`); a relaunch changes it.
    pub router_url: String,
    /// Where its router serves TLS, when launched with `--router-tls-listen`.
    pub router_tls_url: String,
    pub data_dir: PathBuf,
    /// The id the server scopes its containers with (label `berth.server`).
    pub server_id: String,
    launch: Launch,
    child: Option<Child>,
    // Held open: the server would fail writing to a closed stdout.
    stdout: Option<Lines<BufReader<ChildStdout>>>,
}

impl Server {
    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn log_path(&self) -> PathBuf {
        self.launch.log_path()
    }

    /// SIGKILLs the server (no graceful shutdown) and waits for it to die.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        self.stdout = None;
    }

    /// Starts a new server process on the same data dir (after `kill`).
    /// It listens on a new port: `url` changes.
    pub async fn relaunch(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Err("relaunch: the server is still running".into());
        }
        self.spawn().await
    }

    /// SIGKILL, then a new process on the same data dir.
    pub async fn restart_killed(&mut self) -> Result<(), String> {
        self.kill().await;
        self.relaunch().await
    }

    /// SIGTERM, so the server stops its reconciler and exits in order;
    /// SIGKILL if it has not exited after `timeout`.
    pub async fn terminate(&mut self, timeout: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let terminated = match child.id() {
            Some(pid) => Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await
                .is_ok_and(|s| s.success()),
            None => false,
        };
        let exited = terminated && tokio::time::timeout(timeout, child.wait()).await.is_ok();
        if !exited {
            let _ = child.kill().await;
        }
        self.stdout = None;
    }

    /// SIGKILL without an async runtime (from `Drop`), waiting a moment for the process to go.
    pub fn kill_now(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
            let deadline = Instant::now() + KILL_WAIT;
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.child = None;
        self.stdout = None;
    }

    async fn spawn(&mut self) -> Result<(), String> {
        let launch = &self.launch;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(launch.log_path())
            .map_err(|e| format!("cannot open the server log: {e}"))?;
        let mut command = Command::new(&launch.exe);
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--router-listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(launch.data_dir())
            // The log is a file, read by people: no colour codes.
            .env("NO_COLOR", "1")
            // A private server: none of the caller's server settings apply.
            .env_remove("BERTH_DATABASE_URL")
            .env_remove("BERTH_RUNTIME")
            .env_remove("BERTH_ROUTER_LISTEN")
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        if launch.own_process_group {
            command.process_group(0);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start `{} serve`: {e}", launch.exe.display()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the server's stdout is not piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let timeout = launch.startup_timeout;
        let (url, router_url, router_tls_url) =
            match tokio::time::timeout(timeout, listening_urls(&mut lines)).await {
                Ok(Ok(urls)) => urls,
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(format!(
                        "`berth serve` printed no address within {timeout:?}"
                    ));
                }
            };
        let id = std::fs::read_to_string(self.data_dir.join("server-id"))
            .map_err(|e| format!("the server wrote no server-id: {e}"))?;
        self.server_id = id.trim().to_string();
        self.url = url;
        self.router_url = router_url;
        self.router_tls_url = router_tls_url;
        self.child = Some(child);
        self.stdout = Some(lines);
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// The API's and the router's addresses (plain and TLS), from the lines the
/// server prints (the router's first; empty when it runs without one).
async fn listening_urls(
    lines: &mut Lines<BufReader<ChildStdout>>,
) -> Result<(String, String, String), String> {
    let (mut router, mut router_tls) = (String::new(), String::new());
    while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
        if let Some(url) = line.strip_prefix("router listening on ") {
            router = url.trim().to_string();
        } else if let Some(url) = line.strip_prefix("router tls listening on ") {
            router_tls = url.trim().to_string();
        } else if let Some(url) = line.strip_prefix("listening on ") {
            return Ok((url.trim().to_string(), router, router_tls));
        }
    }
    Err("`berth serve` exited before it listened".into())
}

/// The last `lines` lines of a log file ("" if it cannot be read).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
