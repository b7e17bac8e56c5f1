//! The web console in a real browser: Debian's headless Chromium, driven
//! through chromedriver with the W3C WebDriver protocol, logs in with the
//! keyboard, creates an app, deploys an image, sets a secret-looking config
//! value (masked on the page, present in the containers), scales it,
//! watches the page follow a change made elsewhere without reloading, reads
//! the log tail, checks what Docker runs, runs a job and works a pod's
//! files and state; then the same pages at 360 px, a logout, and the
//! administrator's users and nodes. A second test pages through 1,000 apps
//! (how fast their first page loads is `berth bench`'s console row).
//! Screenshots of the main pages go to `target/console-screenshots/`.
//!
//! chromedriver must be installed (`scripts/install-browser.sh` installs
//! `chromium` and `chromium-driver`): without it this test fails, it never
//! skips.

use std::path::PathBuf;

use berth_testkit::browser::{Browser, ENTER, SHOWN};
use serde_json::json;

use crate::harness::{Api, Server, unique_username, wait_until};

/// `name` in `target/console-screenshots`, beside the test binary's `debug/deps`.
fn screenshot(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary sits in <target>/debug/deps")
        .join("console-screenshots")
        .join(name)
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
    browser.screenshot(&screenshot("login.png")).await;
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
    browser.screenshot(&screenshot("app.png")).await;
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
    browser.screenshot(&screenshot("jobs.png")).await;

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
    browser.screenshot(&screenshot("pods.png")).await;

    browser.open(&format!("{}/ui#/apps", server.url)).await;
    browser
        .until(
            "the list shows the app",
            &format!("return !!document.querySelector('#apps-table tr[data-app=\"{app}\"]');"),
        )
        .await;
    browser.screenshot(&screenshot("apps.png")).await;

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
    browser.screenshot(&screenshot("apps-360.png")).await;
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
    browser.screenshot(&screenshot("app-360.png")).await;

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
    browser.screenshot(&screenshot("users.png")).await;
    browser.open(&format!("{}/ui#/nodes", server.url)).await;
    browser
        .until(
            "the nodes list shows a ready node",
            "return [...document.querySelectorAll('#nodes-table tbody tr')].some(r => r.cells[1].textContent === 'ready');",
        )
        .await;
    browser.screenshot(&screenshot("nodes.png")).await;
}

#[tokio::test]
async fn the_app_list_pages_a_thousand_apps() {
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
    browser
        .try_log_in_to_console(&server.url, &username, berth_testkit::PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Fresh documents with the session cookie set, as `berth bench` times
    // them (its console row holds the speed target).
    let best = browser
        .try_first_load_of_app_list(&server.url, 3)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = browser
        .eval("return document.querySelectorAll('#apps-table tbody tr').length;")
        .await;
    assert_eq!(rows, json!(50), "one page of rows");
    let pages = browser
        .eval("return document.getElementById('apps-page').textContent;")
        .await;
    assert_eq!(pages, json!("Page 1 of 20"));
    eprintln!("console first load with 1000 apps: {best:.0} ms");
}
