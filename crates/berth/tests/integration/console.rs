//! The web console in a real browser: Debian's headless Chromium, driven
//! through chromedriver with the W3C WebDriver protocol, logs in with the
//! keyboard, creates an app, deploys an image, sets a secret-looking config
//! value (masked on the page, present in the containers), scales it,
//! watches the page follow a change made elsewhere without reloading, reads
//! the log tail, checks what Docker runs, runs a job and works a pod's
//! files and state; then the same pages at 360 px, a logout, and the
//! administrator's users and nodes. A second test measures the first load
//! of the app list with 1,000 apps. Screenshots of the main pages go to
//! `target/console-screenshots/`.
//!
//! chromedriver must be installed (`scripts/engine.sh` installs `chromium`
//! and `chromium-driver`): without it this test fails, it never skips.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::{Api, Server, unique_username, wait_until};

const CHROMEDRIVER: &str = "chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The key WebDriver sends for Enter.
const ENTER: &str = "\u{E007}";
/// The element reference's key in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long the page may take to show what the test waits for.
const SHOWN: Duration = Duration::from_secs(60);

/// One chromedriver process (killed on drop) with one browser session.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    /// The driver's and the browser's temporary files, removed after them.
    _tmp: tempfile::TempDir,
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

impl Browser {
    async fn start() -> Browser {
        let port = free_port();
        let tmp = tempfile::Builder::new()
            .prefix("berth-chromium-")
            .tempdir()
            .expect("cannot make a temp dir");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {CHROMEDRIVER} ({e}): install Debian's chromium and \
                     chromium-driver (scripts/engine.sh does)"
                )
            });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match http.get(format!("{base}/status")).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .ok()
                    .map(|v| v["value"]["ready"] == true),
                Err(_) => None,
            };
            if ready == Some(true) {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900"],
            },
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver did not answer")
            .json()
            .await
            .expect("chromedriver answered no JSON");
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"));
        let mut browser = Browser {
            driver,
            http,
            session: format!("{base}/session/{id}"),
            _tmp: tmp,
        };
        browser.driver_kept();
        browser
    }

    /// The chromedriver child is still running (else its answers are stale).
    fn driver_kept(&mut self) {
        assert!(
            self.driver.try_wait().ok().flatten().is_none(),
            "chromedriver exited"
        );
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|error| panic!("WebDriver {path}: {error}"))
    }

    /// A WebDriver command; Err with the driver's error object when it fails.
    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"));
        if answer["value"]["error"].is_string() {
            return Err(answer["value"].clone());
        }
        Ok(answer["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// Runs `script` (a function body) in the page and returns its value.
    async fn eval(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await;
        found[ELEMENT].as_str().expect("an element").to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await;
    }

    /// Clicks the element `css` names; when the page redrew it between
    /// finding and clicking (live updates do), finds it again.
    async fn click(&self, css: &str) {
        for _ in 0..20 {
            let id = self.element(css).await;
            let path = format!("/element/{id}/click");
            match self
                .try_call(reqwest::Method::POST, &path, Some(json!({})))
                .await
            {
                Ok(_) => return,
                Err(e) if e["error"] == "stale element reference" => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("WebDriver {path}: {e}"),
            }
        }
        panic!("{css} was redrawn under every click");
    }

    /// Waits until `script` returns something truthy and returns it.
    async fn until(&self, what: &str, script: &str) -> Value {
        wait_until(SHOWN, what, async || {
            let v = self.eval(script).await;
            match &v {
                Value::Null | Value::Bool(false) => Err(format!("{v}")),
                Value::String(s) if s.is_empty() => Err("empty".into()),
                _ => Ok(v),
            }
        })
        .await
    }

    async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .await;
    }

    /// A PNG of the window, saved as `name` under the screenshot folder.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .call(reqwest::Method::GET, "/screenshot", None)
            .await
            .as_str()
            .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
            .expect("a screenshot")
            .expect("a base64 screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("cannot make the screenshot folder");
        let path = dir.join(name);
        std::fs::write(&path, png).expect("cannot save a screenshot");
        path
    }
}

/// `target/console-screenshots`, beside the test binary's `debug/deps`.
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary sits in <target>/debug/deps")
        .join("console-screenshots")
}

fn demo_image() -> String {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_berth-demo-app"));
    berth_testkit::docker::demo_image(binary).unwrap_or_else(|e| panic!("{e}"))
}

/// A script: true once the page's instance table shows exactly `n` rows `up`.
fn up_rows_are(n: usize) -> String {
    format!(
        "return document.querySelectorAll('#instances-table tbody tr[data-state=up]').length === {n};"
    )
}

#[tokio::test]
async fn the_console_in_a_real_browser() {
    let image = demo_image();
    let server = Server::start().await;
    let root = unique_username("root");
    Api::sign_up(&server.url, &root).await;
    let username = unique_username("web");
    let (api, _) = Api::sign_up(&server.url, &username).await;
    let browser = Browser::start().await;
    // Waits until Docker runs exactly `n` containers of `app`.
    let running_in = |app: &str, n: usize| {
        let (server, app) = (&server, app.to_string());
        async move {
            wait_until(SHOWN, &format!("Docker runs {n} of {app}"), async || {
                let containers = server.containers(Some(&app));
                let up = containers.iter().filter(|c| c.running).count();
                if up == n {
                    Ok(())
                } else {
                    Err(format!("{} containers, {up} running", containers.len()))
                }
            })
            .await
        }
    };

    // Log in with the keyboard: type, then Enter submits the form.
    browser.open(&format!("{}/ui", server.url)).await;
    browser
        .until(
            "the login form shows",
            "return !document.getElementById('view-login').hidden;",
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.getElementById('logout').offsetParent === null;")
            .await,
        json!(true),
        "the login page shows the logged-in header"
    );
    browser.screenshot("login.png").await;
    browser.type_into("#login-username", &username).await;
    browser
        .type_into(
            "#login-password",
            &format!("{}{ENTER}", berth_testkit::PASSWORD),
        )
        .await;
    browser
        .until(
            "the app list shows",
            "return !document.getElementById('view-apps').hidden;",
        )
        .await;
    let loaded_at = browser.eval("return window.consoleLoadedAt;").await;

    // Create an app and deploy the demo image to it.
    let app = berth_testkit::unique_app_id("ui");
    browser.type_into("#create-app-id", &app).await;
    browser.click("#create-app-form button").await;
    browser
        .until(
            "the app page shows",
            &format!("return location.hash === '#/apps/{app}' && !document.getElementById('view-app').hidden;"),
        )
        .await;
    browser.type_into("#deploy-image", &image).await;
    browser.click("#deploy-form button").await;
    browser.until("one instance is up", &up_rows_are(1)).await;

    // Set a secret-looking config value: the page masks it, the container has it.
    browser.type_into("#config-key", "API_TOKEN").await;
    browser.type_into("#config-value", "s3cret-value").await;
    browser.click("#config-form button").await;
    browser
        .until(
            "the config shows API_TOKEN masked",
            "return [...document.querySelectorAll('#config-table tbody tr')]\
               .some(r => r.cells[0].textContent === 'API_TOKEN' && r.cells[1].textContent === '••••••');",
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.body.textContent.includes('s3cret-value');")
            .await,
        json!(false),
        "the secret is on the page"
    );
    browser
        .until(
            "the new release's instance is up",
            "return document.getElementById('app-release').textContent === 'v3' && \
               [...document.querySelectorAll('#instances-table tbody tr[data-state=up]')]\
               .every(r => r.cells[2].textContent === 'v3');",
        )
        .await;
    browser.until("one instance is up", &up_rows_are(1)).await;

    // Scale to 2 through the page.
    browser.type_into("#scale-count", "2").await;
    browser.click("#scale-form button").await;
    browser.until("two instances are up", &up_rows_are(2)).await;
    running_in(&app, 2).await;
    for container in server.containers(Some(&app)) {
        assert_eq!(container.env_var("API_TOKEN"), Some("s3cret-value"));
    }

    // A change made elsewhere (the Deis API) shows up without a reload.
    api.try_scale(&app, "cmd", 3)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser
        .until("the page shows three up", &up_rows_are(3))
        .await;
    running_in(&app, 3).await;
    assert_eq!(
        browser.eval("return window.consoleLoadedAt;").await,
        loaded_at,
        "the page reloaded"
    );

    // The log tail shows the app's events as they happen.
    browser
        .until(
            "the log tail shows the scale",
            &format!("return document.getElementById('logs').textContent.includes('{username} scaled cmd=3');"),
        )
        .await;
    // Tall enough to show the whole app page down to its log tail.
    browser.resize(1280, 1900).await;
    browser.screenshot("app.png").await;
    browser.resize(1280, 900).await;

    // A job, submitted from the page, runs in the engine to completion.
    browser.open(&format!("{}/ui#/jobs", server.url)).await;
    browser
        .until(
            "the jobs page shows",
            "return !document.getElementById('view-jobs').hidden;",
        )
        .await;
    browser
        .type_into("#job-script", "echo hello from the console")
        .await;
    browser.type_into("#job-image", "busybox").await;
    browser.type_into("#job-tag", "latest").await;
    browser.click("#job-form button").await;
    browser
        .until(
            "the job completes",
            "return [...document.querySelectorAll('#jobs-table tbody tr')]\
               .some(r => r.cells[2].textContent === 'COMPLETED');",
        )
        .await;
    browser.screenshot("jobs.png").await;

    // A pod: a file uploaded from the page lands in its container and
    // downloads again; stop and start from the page reach the engine.
    api.post(
        "/v3/pods",
        &json!({"pod_id": "uipod", "image": berth_testkit::IMAGE, "command": ["sleep", "3600"]}),
    )
    .await
    .status_is(200);
    running_in("uipod", 1).await;
    browser.open(&format!("{}/ui#/pods", server.url)).await;
    browser
        .until(
            "the pod is listed on",
            "return document.querySelector('#pods-table tr[data-pod=uipod]')?.dataset.desired === 'ON';",
        )
        .await;
    let upload = tempfile::Builder::new()
        .prefix("console-upload-")
        .suffix(".txt")
        .tempfile()
        .expect("a temp file");
    std::fs::write(upload.path(), "uploaded from a browser\n").expect("the file is written");
    let file_name = upload
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    browser.type_into("#upload-pod", "uipod").await;
    browser.type_into("#upload-dest", "/tmp").await;
    browser
        .type_into("#upload-file", &upload.path().to_string_lossy())
        .await;
    browser.click("#upload-form button").await;
    browser
        .until(
            "the upload is done",
            "return document.getElementById('status').textContent === 'Uploading: done';",
        )
        .await;
    let pod_container = server.containers(Some("uipod"))[0].id.clone();
    let in_container =
        crate::harness::docker(&["exec", &pod_container, "cat", &format!("/tmp/{file_name}")])
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(in_container, "uploaded from a browser\n");
    let downloaded = browser
        .eval(&format!(
            "return fetch('/ui/api/pods/uipod/files?path=/tmp/{file_name}').then(r => r.text());"
        ))
        .await;
    assert_eq!(downloaded, json!("uploaded from a browser\n"));
    browser.click("#pods-table tr[data-pod=uipod] button").await;
    browser
        .until(
            "the pod shows stopped",
            "return document.querySelector('#pods-table tr[data-pod=uipod]')?.dataset.desired === 'OFF';",
        )
        .await;
    running_in("uipod", 0).await;
    browser.click("#pods-table tr[data-pod=uipod] button").await;
    browser
        .until(
            "the pod shows started",
            "return document.querySelector('#pods-table tr[data-pod=uipod]')?.dataset.desired === 'ON';",
        )
        .await;
    running_in("uipod", 1).await;
    browser.screenshot("pods.png").await;

    browser.open(&format!("{}/ui#/apps", server.url)).await;
    browser
        .until(
            "the list shows the app",
            &format!("return !!document.querySelector('#apps-table tr[data-app=\"{app}\"]');"),
        )
        .await;
    browser.screenshot("apps.png").await;

    // At 360 px the page fits the width (tables scroll inside their box).
    browser.resize(360, 780).await;
    let width = browser.eval("return window.innerWidth;").await;
    assert!(width.as_u64().is_some_and(|w| w <= 400), "window {width}");
    browser
        .until(
            "the list fits 360 px",
            "return document.documentElement.scrollWidth <= window.innerWidth;",
        )
        .await;
    browser.screenshot("apps-360.png").await;
    browser
        .open(&format!("{}/ui#/apps/{app}", server.url))
        .await;
    browser
        .until("the app page shows at 360 px", &up_rows_are(3))
        .await;
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "overflows by {overflow} px"
    );
    browser.screenshot("app-360.png").await;

    // Log out (the session ends), then in as the administrator: users and nodes.
    browser.resize(1280, 900).await;
    browser.click("#logout").await;
    browser
        .until(
            "the login form shows again",
            "return !document.getElementById('view-login').hidden;",
        )
        .await;
    let after_logout = browser
        .eval("return fetch('/ui/api/apps').then(r => r.status);")
        .await;
    assert_eq!(after_logout, json!(401), "the session outlived its logout");
    browser.type_into("#login-username", &root).await;
    browser
        .type_into(
            "#login-password",
            &format!("{}{ENTER}", berth_testkit::PASSWORD),
        )
        .await;
    browser
        .until(
            "the administrator's links show",
            "return !document.querySelector('#nav a[data-view=users]').hidden;",
        )
        .await;
    browser.open(&format!("{}/ui#/users", server.url)).await;
    browser
        .until(
            "the users list shows both users",
            &format!(
                "return [...document.querySelectorAll('#users-table tbody tr')]\
                   .map(r => r.cells[0].textContent).filter(n => n === '{root}' || n === '{username}').length === 2;"
            ),
        )
        .await;
    browser.screenshot("users.png").await;
    browser.open(&format!("{}/ui#/nodes", server.url)).await;
    browser
        .until(
            "the nodes list shows a ready node",
            "return [...document.querySelectorAll('#nodes-table tbody tr')].some(r => r.cells[1].textContent === 'ready');",
        )
        .await;
    browser.screenshot("nodes.png").await;
}

/// The budget for the first load of the app list with 1,000 apps.
const FIRST_LOAD_BUDGET_MS: f64 = 300.0;

#[tokio::test]
async fn the_app_list_loads_fast_with_a_thousand_apps() {
    let server = Server::start().await;
    Api::sign_up(&server.url, &unique_username("root")).await;
    let username = unique_username("many");
    let (api, _) = Api::sign_up(&server.url, &username).await;
    let ids: Vec<String> = (0..1000).map(|n| format!("many-{n:04}")).collect();
    for chunk in ids.chunks(50) {
        let created = chunk.iter().map(|id| api.try_create_app(id));
        for result in futures::future::join_all(created).await {
            result.unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let browser = Browser::start().await;
    browser.open(&format!("{}/ui", server.url)).await;
    browser
        .until(
            "the login form shows",
            "return !document.getElementById('view-login').hidden;",
        )
        .await;
    browser.type_into("#login-username", &username).await;
    browser
        .type_into(
            "#login-password",
            &format!("{}{ENTER}", berth_testkit::PASSWORD),
        )
        .await;
    browser
        .until(
            "the first page of apps shows",
            "return window.consoleFirstList;",
        )
        .await;
    // The first load proper: a fresh page with the session cookie set, from
    // the request for the page to the first 50 rows on screen; best of three.
    let mut best = f64::MAX;
    for load in 0..3 {
        // A new query each time: a new document, not a hash change.
        browser
            .open(&format!("{}/ui?load={load}#/apps", server.url))
            .await;
        let took = browser
            .until(
                "the first page of apps shows",
                "return window.consoleFirstList;",
            )
            .await
            .as_f64()
            .expect("a time in ms");
        best = best.min(took);
    }
    let rows = browser
        .eval("return document.querySelectorAll('#apps-table tbody tr').length;")
        .await;
    assert_eq!(rows, json!(50), "one page of rows");
    let pages = browser
        .eval("return document.getElementById('apps-page').textContent;")
        .await;
    assert_eq!(pages, json!("Page 1 of 20"));
    eprintln!("console first load with 1000 apps: {best:.0} ms");
    assert!(
        best < FIRST_LOAD_BUDGET_MS,
        "the first load took {best:.0} ms (budget {FIRST_LOAD_BUDGET_MS} ms)"
    );
}
