//! A headless Chromium driven by Debian's chromedriver over the W3C
//! WebDriver protocol (JSON over HTTP): the console's browser test and the
//! bench's console row both use it. Every command has a fallible form
//! (`try_…`, errors as text); the short verbs panic instead, for tests.
//!
//! Also here: the console's first load of the app list
//! ([`Browser::try_first_load_of_app_list`]), timed the same way by the
//! test and the bench.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::wait::try_wait_until;

const CHROMEDRIVER: &str = "chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The key WebDriver sends for Enter.
pub const ENTER: &str = "\u{E007}";
/// The element reference's key in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long the page may take to show what [`Browser::until`] waits for.
pub const SHOWN: Duration = Duration::from_secs(60);
/// How long chromedriver may take to answer its status as ready.
const DRIVER_READY: Duration = Duration::from_secs(20);

/// One chromedriver process (killed on drop) with one browser session.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    /// The driver's and the browser's temporary files, removed after them.
    _tmp: tempfile::TempDir,
}

/// Why a WebDriver command failed.
enum Failure {
    /// The driver answered with a WebDriver error object.
    Driver(Value),
    /// No usable answer at all.
    Transport(String),
}

impl Failure {
    /// The failure as text, naming the command at `path`.
    fn about(self, path: &str) -> String {
        match self {
            Failure::Driver(error) => format!("WebDriver {path}: {error}"),
            Failure::Transport(error) => format!("WebDriver {path}: {error}"),
        }
    }
}

impl Drop for Browser {
    /// Ends the session first, which quits the browser: killing only the
    /// driver would leave Chromium running.
    fn drop(&mut self) {
        if let Some((host, path)) = self
            .session
            .strip_prefix("http://")
            .and_then(|rest| rest.split_once('/'))
            && let Ok(mut stream) = std::net::TcpStream::connect(host)
        {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
            let _ = write!(
                stream,
                "DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.read_to_end(&mut Vec::new());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl Browser {
    /// Starts chromedriver and opens a headless Chromium session; an error
    /// when chromedriver is missing or never answers.
    pub async fn try_start() -> Result<Browser, String> {
        let port = free_port()?;
        let tmp = tempfile::Builder::new()
            .prefix("berth-chromium-")
            .tempdir()
            .map_err(|e| format!("cannot make a temp dir: {e}"))?;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {CHROMEDRIVER} ({e}): install Debian's chromium and \
                     chromium-driver (scripts/install-browser.sh does)"
                )
            })?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let base = format!("http://127.0.0.1:{port}");
        // From here on, dropping `browser` kills the driver.
        let mut browser = Browser {
            driver,
            http,
            session: String::new(),
            _tmp: tmp,
        };
        try_wait_until(DRIVER_READY, "chromedriver is ready", async || {
            browser.driver_running()?;
            let status = browser
                .http
                .get(format!("{base}/status"))
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json::<Value>()
                .await
                .map_err(|e| e.to_string())?;
            if status["value"]["ready"] == true {
                Ok(())
            } else {
                Err(status.to_string())
            }
        })
        .await?;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900"],
            },
        }}});
        let created: Value = browser
            .http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .map_err(|e| format!("chromedriver did not answer: {e}"))?
            .json()
            .await
            .map_err(|e| format!("chromedriver answered no JSON: {e}"))?;
        let id = created["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no browser session: {created}"))?;
        browser.session = format!("{base}/session/{id}");
        browser.driver_running()?;
        Ok(browser)
    }

    /// [`Browser::try_start`] that fails the test.
    pub async fn start() -> Browser {
        Browser::try_start().await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// The chromedriver child is still running (else its answers are stale).
    fn driver_running(&mut self) -> Result<(), String> {
        match self.driver.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("chromedriver exited ({status})")),
            Err(e) => Err(format!("chromedriver's state is unknown: {e}")),
        }
    }

    /// A WebDriver command of this session.
    async fn command(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?
            .json()
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        if answer["value"]["error"].is_string() {
            return Err(Failure::Driver(answer["value"].clone()));
        }
        Ok(answer["value"].clone())
    }

    /// A WebDriver command; the error names the command and what went wrong.
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        self.command(method, path, body)
            .await
            .map_err(|failure| failure.about(path))
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn try_post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.try_call(Method::POST, path, Some(body)).await
    }

    pub async fn try_open(&self, url: &str) -> Result<(), String> {
        self.try_post("/url", json!({ "url": url })).await.map(drop)
    }

    pub async fn open(&self, url: &str) {
        self.try_open(url).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn try_eval(&self, script: &str) -> Result<Value, String> {
        self.try_post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.try_eval(script)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn try_element(&self, css: &str) -> Result<String, String> {
        let found = self
            .try_post("/element", json!({ "using": "css selector", "value": css }))
            .await?;
        found[ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{css}: no element in {found}"))
    }

    /// Clears the field `css` names and types `text` into it.
    pub async fn try_type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let id = self.try_element(css).await?;
        self.try_post(&format!("/element/{id}/clear"), json!({}))
            .await?;
        self.try_post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await
            .map(drop)
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.try_type_into(css, text)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Clicks the element `css` names; when the page redrew it between
    /// finding and clicking (live updates do), finds it again.
    pub async fn try_click(&self, css: &str) -> Result<(), String> {
        for _ in 0..20 {
            let id = self.try_element(css).await?;
            let path = format!("/element/{id}/click");
            match self.command(Method::POST, &path, Some(json!({}))).await {
                Ok(_) => return Ok(()),
                Err(Failure::Driver(e)) if e["error"] == "stale element reference" => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(failure) => return Err(failure.about(&path)),
            }
        }
        Err(format!("{css} was redrawn under every click"))
    }

    pub async fn click(&self, css: &str) {
        self.try_click(css).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits up to [`SHOWN`] until `script` returns something truthy and
    /// returns it; `what` names it in the timeout's error.
    pub async fn try_until(&self, what: &str, script: &str) -> Result<Value, String> {
        try_wait_until(SHOWN, what, async || {
            let v = self.try_eval(script).await?;
            match &v {
                Value::Null | Value::Bool(false) => Err(format!("{v}")),
                Value::String(s) if s.is_empty() => Err("empty".into()),
                _ => Ok(v),
            }
        })
        .await
    }

    pub async fn until(&self, what: &str, script: &str) -> Value {
        self.try_until(what, script)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// Saves a PNG of the window at `path` (its folder is created).
    pub async fn screenshot(&self, path: &Path) {
        let png = self
            .call(Method::GET, "/screenshot", None)
            .await
            .as_str()
            .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
            .expect("a screenshot")
            .expect("a base64 screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("cannot make the screenshot folder");
        }
        std::fs::write(path, png).expect("cannot save a screenshot");
    }

    // --------------------------------------------------- the console

    /// Logs in to the console at `{base}/ui` with the keyboard (typing, then
    /// Enter) and waits until the app list shows.
    pub async fn try_log_in_to_console(
        &self,
        base: &str,
        username: &str,
        password: &str,
    ) -> Result<(), String> {
        self.try_open(&format!("{base}/ui")).await?;
        self.try_until(
            "the login form shows",
            "return !document.getElementById('view-login').hidden;",
        )
        .await?;
        self.try_type_into("#login-username", username).await?;
        self.try_type_into("#login-password", &format!("{password}{ENTER}"))
            .await?;
        self.try_until(
            "the app list shows",
            "return !document.getElementById('view-apps').hidden;",
        )
        .await
        .map(drop)
    }

    /// The first load of the console's app list, logged in (the session
    /// cookie set): a fresh document each time, from the request for the
    /// page to the first page of rows on screen (the page's own
    /// `window.consoleFirstList`, in ms); the best of `loads`.
    pub async fn try_first_load_of_app_list(&self, base: &str, loads: u32) -> Result<f64, String> {
        let mut best = f64::MAX;
        for load in 0..loads {
            // A new query each time: a new document, not a hash change.
            self.try_open(&format!("{base}/ui?load={load}#/apps"))
                .await?;
            let took = self
                .try_until(
                    "the first page of apps shows",
                    "return window.consoleFirstList;",
                )
                .await?;
            let took = took
                .as_f64()
                .ok_or_else(|| format!("consoleFirstList is {took}, not a time in ms"))?;
            best = best.min(took);
        }
        Ok(best)
    }
}
