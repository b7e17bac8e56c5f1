//! The web console at `/ui`: its page and assets with their headers, and
//! its JSON API — login and the session cookie, the CSRF refusal, logout,
//! one user never seeing another's apps, and the errors' `{"error"}` shape.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::{IMAGE, PASSWORD, Reply, TestApp};

/// A logged-in console session: its cookie and its CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn log_in(app: &TestApp, username: &str) -> (Reply, Session) {
    let reply = app
        .call(Method::POST, "/ui/api/login")
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .status_is(StatusCode::OK);
    let set_cookie = reply
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let csrf = reply.body["csrf"]
        .as_str()
        .expect("a CSRF token")
        .to_string();
    (reply, Session { cookie, csrf })
}

impl Session {
    async fn get(&self, app: &TestApp, path: &str) -> Reply {
        app.call(Method::GET, path)
            .header("cookie", &self.cookie)
            .send()
            .await
    }

    async fn post(&self, app: &TestApp, path: &str, body: serde_json::Value) -> Reply {
        app.call(Method::POST, path)
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
    }
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let app = TestApp::start().await;
    for (path, kind) in [
        ("/ui", "text/html; charset=utf-8"),
        ("/ui/console.js", "text/javascript; charset=utf-8"),
        ("/ui/console.css", "text/css; charset=utf-8"),
    ] {
        let reply = app
            .call(Method::GET, path)
            .send()
            .await
            .status_is(StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some(kind), "{path}");
        assert_eq!(reply.header("cache-control"), Some("no-cache"), "{path}");
        let csp = reply.header("content-security-policy").expect("a CSP");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        let etag = reply.header("etag").expect("an ETag").to_string();
        app.call(Method::GET, path)
            .header("if-none-match", &etag)
            .send()
            .await
            .status_is(StatusCode::NOT_MODIFIED);
    }
    let page = app.call(Method::GET, "/ui").send().await;
    assert!(!page.text.contains("<script>"), "no inline script");
    app.call(Method::GET, "/ui/nothing-here")
        .send()
        .await
        .is(StatusCode::NOT_FOUND, json!({"error": "not found"}));
}

#[tokio::test]
async fn login_sets_a_strict_session_cookie_and_logout_ends_the_session() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    app.call(Method::GET, "/ui/api/apps")
        .send()
        .await
        .is(StatusCode::UNAUTHORIZED, json!({"error": "log in first"}));
    app.call(Method::POST, "/ui/api/login")
        .json(&json!({"username": "alice", "password": "wrong"}))
        .send()
        .await
        .is(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Unable to log in with provided credentials."}),
        );
    let (reply, session) = log_in(&app, "alice").await;
    let set_cookie = reply.header("set-cookie").unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    assert_eq!(reply.body["user"]["username"], "alice");
    assert!(
        !reply
            .text
            .contains(session.cookie.trim_start_matches("berth_session="))
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    session
        .get(&app, "/ui/api/session")
        .await
        .is(
            StatusCode::OK,
            json!({"user": {"username": "alice", "email": "", "admin": false, "active": true, "last_login": "<timestamp>"}, "csrf": session.csrf}),
        );
    let behind_tls = app
        .call(Method::POST, "/ui/api/login")
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await;
    assert!(
        behind_tls
            .header("set-cookie")
            .unwrap()
            .contains("; Secure")
    );
    let out = session.post(&app, "/ui/api/logout", json!({})).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    session
        .get(&app, "/ui/api/apps")
        .await
        .is(StatusCode::UNAUTHORIZED, json!({"error": "Invalid token."}));
}

#[tokio::test]
async fn a_login_from_another_origin_is_refused() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    app.call(Method::POST, "/ui/api/login")
        .header("host", "127.0.0.1:8000")
        .header("origin", "https://evil.example")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .is(
            StatusCode::FORBIDDEN,
            json!({"error": "cross-origin login refused"}),
        );
}

#[tokio::test]
async fn a_change_without_the_sessions_csrf_token_is_403() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    app.sign_up("bob").await;
    let (_, alice) = log_in(&app, "alice").await;
    let (_, bob) = log_in(&app, "bob").await;
    let refused = json!({"error": "missing or wrong CSRF token"});
    app.call(Method::POST, "/ui/api/apps")
        .header("cookie", &alice.cookie)
        .json(&json!({"id": "nocsrf"}))
        .send()
        .await
        .is(StatusCode::FORBIDDEN, refused.clone());
    app.call(Method::POST, "/ui/api/apps")
        .header("cookie", &alice.cookie)
        .header("x-csrf-token", &bob.csrf)
        .json(&json!({"id": "nocsrf"}))
        .send()
        .await
        .is(StatusCode::FORBIDDEN, refused.clone());
    app.call(Method::POST, "/ui/api/logout")
        .header("cookie", &alice.cookie)
        .send()
        .await
        .is(StatusCode::FORBIDDEN, refused);
    alice
        .get(&app, "/ui/api/apps/nocsrf")
        .await
        .status_is(StatusCode::NOT_FOUND);
    alice
        .post(&app, "/ui/api/apps", json!({"id": "withcsrf"}))
        .await
        .is(
            StatusCode::CREATED,
            json!({"id": "withcsrf", "owner": "alice", "kind": "app", "desired": "ON",
                   "structure": {}, "release": 1, "error": null, "updated": "<timestamp>"}),
        );
}

#[tokio::test]
async fn one_user_never_sees_anothers_apps() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    app.sign_up("bob").await;
    let (_, alice) = log_in(&app, "alice").await;
    let (_, bob) = log_in(&app, "bob").await;
    alice
        .post(&app, "/ui/api/apps", json!({"id": "alices"}))
        .await
        .status_is(StatusCode::CREATED);
    alice
        .post(
            &app,
            "/ui/api/apps/alices/config",
            json!({"values": {"DB_PASSWORD": "hunter2", "GREETING": "hi"}}),
        )
        .await
        .status_is(StatusCode::OK);
    let config = alice.get(&app, "/ui/api/apps/alices/config").await;
    assert_eq!(config.body["values"]["GREETING"], "hi");
    assert_ne!(config.body["values"]["DB_PASSWORD"], "hunter2", "masked");
    let listed = bob
        .get(&app, "/ui/api/apps")
        .await
        .status_is(StatusCode::OK);
    assert_eq!(listed.body["total"], 0, "{}", listed.text);
    for path in [
        "/ui/api/apps/alices",
        "/ui/api/apps/alices/instances",
        "/ui/api/apps/alices/config",
        "/ui/api/apps/alices/releases",
        "/ui/api/apps/alices/logs",
    ] {
        bob.get(&app, path).await.is(
            StatusCode::NOT_FOUND,
            json!({"error": "app alices not found"}),
        );
    }
    bob.post(&app, "/ui/api/apps/alices/scale", json!({"cmd": 2}))
        .await
        .is(
            StatusCode::NOT_FOUND,
            json!({"error": "app alices not found"}),
        );
    bob.post(&app, "/ui/api/apps/alices/deploy", json!({"image": IMAGE}))
        .await
        .status_is(StatusCode::NOT_FOUND);
    bob.get(&app, "/ui/api/users").await.is(
        StatusCode::FORBIDDEN,
        json!({"error": "You do not have permission to perform this action."}),
    );
    bob.get(&app, "/ui/api/nodes")
        .await
        .status_is(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn deploy_scale_and_config_through_the_console() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    let (_, alice) = log_in(&app, "alice").await;
    alice
        .post(&app, "/ui/api/apps", json!({"id": "web"}))
        .await
        .status_is(StatusCode::CREATED);
    alice
        .post(&app, "/ui/api/apps/web/deploy", json!({"image": IMAGE}))
        .await
        .is(
            StatusCode::CREATED,
            json!({"version": 2, "summary": "<string>", "created": "<timestamp>"}),
        );
    alice
        .post(&app, "/ui/api/apps/web/scale", json!({"cmd": 2}))
        .await
        .status_is(StatusCode::NO_CONTENT);
    let instances = alice.get(&app, "/ui/api/apps/web/instances").await;
    assert_eq!(
        instances.body.as_array().map(Vec::len),
        Some(2),
        "{}",
        instances.text
    );
    alice
        .post(&app, "/ui/api/apps/web/scale", json!({"cmd": -1}))
        .await
        .is(StatusCode::BAD_REQUEST, json!({"error": "<string>"}));
    alice
        .post(
            &app,
            "/ui/api/apps/web/config",
            json!({"values": {"A": "1"}}),
        )
        .await
        .status_is(StatusCode::OK);
    alice
        .post(
            &app,
            "/ui/api/apps/web/config",
            json!({"values": {"A": null}}),
        )
        .await
        .status_is(StatusCode::OK);
    let config = alice.get(&app, "/ui/api/apps/web/config").await;
    assert_eq!(config.body["values"], json!({}));
    alice
        .post(&app, "/ui/api/apps/web/rollback", json!({}))
        .await
        .status_is(StatusCode::OK);
    let releases = alice.get(&app, "/ui/api/apps/web/releases").await;
    assert_eq!(releases.body["total"], 5, "{}", releases.text);
    let page = alice.get(&app, "/ui/api/apps?page=1&size=1").await;
    assert_eq!(page.body["items"][0]["id"], "web");
    assert_eq!(page.body["items"][0]["state"], "running", "{}", page.text);
    assert_eq!(page.body["items"][0]["up"], 2);
    assert_eq!(page.body["items"][0]["instances"], 2);
    alice
        .get(&app, "/ui/api/apps?size=0")
        .await
        .is(StatusCode::BAD_REQUEST, json!({"error": "<string>"}));
}

#[tokio::test]
async fn pods_jobs_images_and_for_administrators_users_and_nodes() {
    let app = TestApp::start().await;
    let token = app.sign_up("alice").await;
    let (_, alice) = log_in(&app, "alice").await;
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &token)
        .json(&json!({"pod_id": "mypod", "image": IMAGE, "command": ["sleep", "600"]}))
        .send()
        .await
        .status_is(StatusCode::OK);
    let pods = alice
        .get(&app, "/ui/api/pods")
        .await
        .status_is(StatusCode::OK);
    assert_eq!(pods.body[0]["id"], "mypod", "{}", pods.text);
    assert_eq!(pods.body[0]["kind"], "pod");
    let stopped = alice
        .post(&app, "/ui/api/pods/mypod/stop", json!({}))
        .await
        .status_is(StatusCode::OK);
    assert_eq!(stopped.body["desired"], "OFF");
    let started = alice
        .post(&app, "/ui/api/pods/mypod/start", json!({}))
        .await
        .status_is(StatusCode::OK);
    assert_eq!(started.body["desired"], "ON");
    alice
        .post(&app, "/ui/api/pods/nopod/stop", json!({}))
        .await
        .is(
            StatusCode::NOT_FOUND,
            json!({"error": "pod nopod not found"}),
        );
    alice
        .post(
            &app,
            "/ui/api/pods/mypod/files",
            json!({"dest": "/tmp", "name": "a.txt", "content": "not base64!"}),
        )
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"error": "content: must be base64"}),
        );
    alice
        .get(&app, "/ui/api/pods/mypod/files")
        .await
        .is(StatusCode::BAD_REQUEST, json!({"error": "<string>"}));

    let submitted = alice
        .post(
            &app,
            "/ui/api/jobs",
            json!({"script": "echo hi", "image": "busybox", "tag": "latest"}),
        )
        .await
        .is(
            StatusCode::CREATED,
            json!({"id": "<uuid>", "container": "<any>"}),
        );
    let jobs = alice
        .get(&app, "/ui/api/jobs")
        .await
        .status_is(StatusCode::OK);
    assert_eq!(jobs.body[0]["id"], submitted.body["id"], "{}", jobs.text);
    let container = jobs.body[0]["container"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    alice
        .post(&app, &format!("/ui/api/jobs/{container}/stop"), json!({}))
        .await
        .is(
            StatusCode::OK,
            json!({"stopped": "<any>", "reason": "<any>"}),
        );
    alice
        .post(&app, "/ui/api/jobs", json!({"script": ""}))
        .await
        .is(StatusCode::BAD_REQUEST, json!({"error": "<string>"}));

    alice.get(&app, "/ui/api/images").await.is(
        StatusCode::OK,
        json!({"items": [], "total": 0, "page": 1, "size": 100}),
    );

    app.sign_up("root").await;
    let administrator = app.berth.user("administrator").await.unwrap();
    app.berth
        .set_admin(&administrator, "root", true)
        .await
        .unwrap();
    let (_, root) = log_in(&app, "root").await;
    let users = root
        .get(&app, "/ui/api/users")
        .await
        .status_is(StatusCode::OK);
    let names: Vec<&str> = users
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert!(
        names.contains(&"alice") && names.contains(&"root"),
        "{names:?}"
    );
    assert!(!users.text.contains("password"), "{}", users.text);
    root.get(&app, "/ui/api/nodes").await.is(
        StatusCode::OK,
        json!([{"name": "local", "state": "ready", "availability": "active",
                "role": "manager", "address": null, "tasks": "<int>"}]),
    );
}

#[tokio::test]
async fn malformed_requests_are_400s_in_the_consoles_shape() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    let (_, alice) = log_in(&app, "alice").await;
    let reply = app
        .call(Method::POST, "/ui/api/apps")
        .header("cookie", &alice.cookie)
        .header("x-csrf-token", &alice.csrf)
        .raw("application/json", "{not json")
        .send()
        .await
        .is(StatusCode::BAD_REQUEST, json!({"error": "<string>"}));
    assert!(reply.text.contains("JSON"), "{}", reply.text);
    alice
        .post(&app, "/ui/api/apps", json!({"id": "web"}))
        .await
        .status_is(StatusCode::CREATED);
    alice
        .post(&app, "/ui/api/apps", json!({"id": "web"}))
        .await
        .is(StatusCode::CONFLICT, json!({"error": "<string>"}));
    alice
        .post(&app, "/ui/api/apps/web/deploy", json!({}))
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"error": "image: This field is required."}),
        );
    alice
        .post(&app, "/ui/api/apps/web/config", json!({"values": {}}))
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"error": "values: give at least one key"}),
        );
    alice
        .get(&app, "/ui/api/apps?page=x")
        .await
        .is(StatusCode::BAD_REQUEST, json!({"error": "<string>"}));
}

/// A page number so far past the end that its first row's offset does not
/// fit in 64 bits (found by the fuzz test) is an empty page, like any page
/// past the end, not a failed request.
#[tokio::test]
async fn a_page_far_past_the_end_of_the_app_list_is_empty() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    let (_, alice) = log_in(&app, "alice").await;
    alice
        .post(&app, "/ui/api/apps", json!({"id": "web"}))
        .await
        .status_is(StatusCode::CREATED);
    alice
        .get(&app, "/ui/api/apps?page=2692405781820510720")
        .await
        .is(
            StatusCode::OK,
            json!({"items": [], "page": 2692405781820510720i64, "size": 50, "total": 1}),
        );
}
