//! What the API does against abuse, in every dialect's shape: login limits
//! (429), the same time for unknown users, one password policy,
//! registration modes, tokens revoked by a password change or expired by
//! the server's lifetime, links built from the configured public URL, and
//! a `/healthz` that tells anonymous callers little and probes rarely.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use berth_core::auth::{LoginLimits, Registration};
use serde_json::json;

use crate::app::{PASSWORD, TestApp};

fn wrong_login<'a>(app: &'a TestApp, username: &str) -> crate::app::Call<'a> {
    app.call(Method::POST, "/v1/auth/login")
        .json(&json!({"username": username, "password": "wrong-password"}))
}

#[tokio::test]
async fn failed_logins_for_one_user_are_refused_with_429_in_each_dialect() {
    let app = TestApp::start_with(|s| {
        s.login_limits = LoginLimits {
            per_address: 100,
            per_user: 3,
            window: Duration::from_secs(60),
        }
    })
    .await;
    app.sign_up("alice").await;
    for _ in 0..3 {
        wrong_login(&app, "alice")
            .send()
            .await
            .status_is(StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits for the window to pass.
    app.call(Method::POST, "/v1/auth/login")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .is(StatusCode::TOO_MANY_REQUESTS, json!({"detail": "<string>"}));
    app.call(Method::POST, "/api/v2/auth/login")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .is(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"code": 429, "message": "<string>", "timestamp": "<int>"}),
        );
    app.call(Method::POST, "/v3/oauth2/tokens")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .status_is(StatusCode::TOO_MANY_REQUESTS);
    app.call(Method::GET, "/api/v1/application")
        .auth("ApiKey", &format!("alice:{PASSWORD}"))
        .send()
        .await
        .status_is(StatusCode::TOO_MANY_REQUESTS);
    // Another user is not held back.
    app.sign_up("bob").await;
    app.call(Method::POST, "/v1/auth/login")
        .json(&json!({"username": "bob", "password": PASSWORD}))
        .send()
        .await
        .status_is(StatusCode::OK);
}

#[tokio::test]
async fn failed_logins_from_one_address_are_refused_with_429() {
    let app = TestApp::start_with(|s| {
        s.login_limits = LoginLimits {
            per_address: 3,
            per_user: 100,
            window: Duration::from_secs(60),
        }
    })
    .await;
    let attacker: SocketAddr = "10.1.2.3:5555".parse().unwrap();
    for i in 0..3 {
        wrong_login(&app, &format!("guess{i}"))
            .sent_by(attacker)
            .send()
            .await
            .status_is(StatusCode::UNAUTHORIZED);
    }
    wrong_login(&app, "guess9")
        .sent_by(attacker)
        .send()
        .await
        .status_is(StatusCode::TOO_MANY_REQUESTS);
    let elsewhere: SocketAddr = "10.9.9.9:5555".parse().unwrap();
    wrong_login(&app, "guess9")
        .sent_by(elsewhere)
        .send()
        .await
        .status_is(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_user_takes_as_long_as_a_wrong_password() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    let time = async |username: &str| {
        let started = Instant::now();
        wrong_login(&app, username)
            .send()
            .await
            .status_is(StatusCode::UNAUTHORIZED);
        started.elapsed()
    };
    // Warm up: the dummy hash is made on first use.
    time("nobody").await;
    let known = time("alice").await;
    let unknown = time("nobody").await;
    assert!(
        unknown * 3 > known,
        "an unknown user answered in {unknown:?}, a wrong password in {known:?}"
    );
}

#[tokio::test]
async fn every_dialect_refuses_a_short_password() {
    let app = TestApp::start().await;
    app.call(Method::POST, "/v1/auth/register")
        .json(&json!({"username": "carol", "password": "x"}))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);
    app.call(Method::POST, "/api/v1/register/")
        .json(&json!({"username": "carol", "password1": "short", "password2": "short"}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"register": {"password": ["must be at least 8 characters"]}}),
        );
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/v1/auth/passwd")
        .auth("token", &alice)
        .json(&json!({"password": PASSWORD, "new_password": "tiny"}))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn admin_registration_needs_an_administrator() {
    let app = TestApp::start_with(|s| s.registration = Registration::Admin).await;
    let register = |name: &str| {
        app.call(Method::POST, "/v1/auth/register")
            .json(&json!({"username": name, "password": "long-enough-1"}))
    };
    register("carol")
        .send()
        .await
        .status_is(StatusCode::FORBIDDEN);
    let user = app.sign_up("dave").await;
    register("carol")
        .auth("token", &user)
        .send()
        .await
        .status_is(StatusCode::FORBIDDEN);
    let admin = app.berth.authenticate(&app.sign_up("root").await).await;
    assert!(admin.is_ok());
    app.berth
        .set_admin(
            &app.berth.user("administrator").await.unwrap(),
            "root",
            true,
        )
        .await
        .unwrap();
    let root = app
        .call(Method::POST, "/v1/auth/login")
        .json(&json!({"username": "root", "password": PASSWORD}))
        .send()
        .await
        .status_is(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    register("carol")
        .auth("token", &root)
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::POST, "/api/v2/auth/register")
        .json(&json!({"username": "erin", "password": "long-enough-1"}))
        .send()
        .await
        .status_is(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn closed_registration_refuses_everyone() {
    let app = TestApp::start_with(|s| s.registration = Registration::Closed).await;
    app.call(Method::POST, "/v1/auth/register")
        .json(&json!({"username": "carol", "password": "long-enough-1"}))
        .send()
        .await
        .is(
            StatusCode::FORBIDDEN,
            json!({"detail": "You do not have permission to perform this action."}),
        );
    app.call(Method::POST, "/api/v1/register/")
        .json(&json!({"username": "carol", "password1": "long-enough-1"}))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_password_change_revokes_the_other_tokens() {
    let app = TestApp::start().await;
    let first = app.sign_up("alice").await;
    let other = app
        .call(Method::POST, "/v1/auth/login")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .status_is(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.call(Method::POST, "/v1/auth/passwd")
        .auth("token", &first)
        .json(&json!({"password": PASSWORD, "new_password": "a-new-password"}))
        .send()
        .await
        .status_is(StatusCode::OK);
    app.call(Method::GET, "/v1/apps")
        .auth("token", &other)
        .send()
        .await
        .status_is(StatusCode::UNAUTHORIZED);
    app.call(Method::GET, "/v1/apps")
        .auth("token", &first)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert!(app.berth.purge_tokens().await.unwrap() >= 1);
}

#[tokio::test]
async fn tokens_expire_after_the_server_lifetime_and_are_purged() {
    let app = TestApp::start_with(|s| s.token_ttl = Some(Duration::from_secs(1))).await;
    app.sign_up("alice").await;
    let token = app
        .call(Method::POST, "/v1/auth/login")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .status_is(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let apps = || app.call(Method::GET, "/v1/apps").auth("token", &token);
    apps().send().await.status_is(StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    apps().send().await.status_is(StatusCode::UNAUTHORIZED);
    assert!(app.berth.purge_tokens().await.unwrap() >= 1);
}

#[tokio::test]
async fn links_use_the_public_url_not_the_host_header() {
    let app = TestApp::start_with(|s| s.public_url = "https://berth.example.org".into()).await;
    let alice = app.sign_up("alice").await;
    app.call(Method::GET, "/v1/apps?page=2")
        .auth("token", &alice)
        .header("host", "evil.example")
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"count": 0, "next": null,
                   "previous": "https://berth.example.org/v1/apps?page=1", "results": []}),
        );
    let boundary = "XBOUNDARYX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    app.call(Method::POST, "/v1/datasets")
        .auth("Bearer", &alice)
        .header("host", "evil.example")
        .raw(&format!("multipart/form-data; boundary={boundary}"), body)
        .send()
        .await
        .status_is(StatusCode::CREATED);
    let listed = app
        .call(Method::GET, "/list_data")
        .auth("Bearer", &alice)
        .header("host", "evil.example")
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(
        listed.body[0]["url"], "https://berth.example.org/v1/datasets/notes.txt",
        "{}",
        listed.text
    );
}

#[tokio::test]
async fn healthz_names_no_engine_and_probes_once_for_many_callers() {
    let app = TestApp::start().await;
    let before = app.runtime.pings();
    let probes: Vec<_> = (0..64)
        .map(|_| app.call(Method::GET, "/healthz").send())
        .collect();
    for reply in futures::future::join_all(probes).await {
        reply.is(StatusCode::OK, json!({"status": "ok"}));
    }
    assert!(
        app.runtime.pings() - before <= 2,
        "64 probes pinged the engine {} times",
        app.runtime.pings() - before
    );
    app.runtime.set_down(true);
    let down = app
        .eventually(
            || app.call(Method::GET, "/healthz"),
            |r| r.status == StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    assert_shape_says_nothing_inside(&down.text);
    assert_eq!(
        down.body,
        json!({"status": "unavailable", "reason": "engine not answering"})
    );
}

fn assert_shape_says_nothing_inside(text: &str) {
    assert!(
        !text.contains("fake"),
        "the answer shows the engine's words: {text}"
    );
}
