//! Deis v1 at `/v1`: bare objects, `{count,next,previous,results}` lists,
//! `{"detail": …}` errors with `WWW-Authenticate: Token` on 401, and the
//! `X_DEIS_API_VERSION` header on every answer.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{IMAGE, TestApp};

fn app_shape(id: &str, owner: &str, structure: Value) -> Value {
    json!({
        "created": "<deis-timestamp>", "id": id, "owner": owner, "structure": structure,
        "updated": "<deis-timestamp>", "url": format!("{id}.berth.local"), "uuid": "<uuid>",
    })
}

#[tokio::test]
async fn lists_and_creates_apps() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let empty = app
        .call(Method::GET, "/v1/apps")
        .auth("token", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"count": 0, "next": null, "previous": null, "results": []}),
        );
    assert_eq!(empty.header("x_deis_api_version"), Some("1.5"));
    app.call(Method::POST, "/v1/apps/")
        .auth("token", &alice)
        .json(&json!({"id": "shop"}))
        .send()
        .await
        .is(StatusCode::CREATED, app_shape("shop", "alice", json!({})));
    app.call(Method::GET, "/v1/apps")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"count": 1, "next": null, "previous": null,
                   "results": [app_shape("shop", "alice", json!({}))]}),
        );
}

#[tokio::test]
async fn a_build_converges_on_the_fake_engine() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .json(&json!({"id": "shop"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    let build = app
        .call(Method::POST, "/v1/apps/shop/builds")
        .auth("token", &alice)
        .json(&json!({"image": IMAGE, "procfile": {"web": "sleep 3600"}}))
        .send()
        .await
        .is(
            StatusCode::CREATED,
            json!({"app": "shop", "created": "<deis-timestamp>", "dockerfile": "", "image": IMAGE,
                   "owner": "alice", "procfile": {"web": "sleep 3600"}, "sha": "",
                   "updated": "<deis-timestamp>", "uuid": "<uuid>"}),
        );
    assert_eq!(build.header("deis-release"), Some("2"));
    app.call(Method::GET, "/v1/apps/shop/containers")
        .auth("token", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"count": 1, "next": null, "previous": null, "results": [{
                "app": "shop", "created": "<deis-timestamp>", "exit_code": null, "message": null,
                "num": 1, "owner": "alice", "release": "v2", "state": "up", "type": "web",
                "updated": "<deis-timestamp>", "uuid": "<uuid>"}]}),
        );
}

#[tokio::test]
async fn refuses_missing_and_bad_credentials() {
    let app = TestApp::start().await;
    let anonymous = app.call(Method::GET, "/v1/apps").send().await.is(
        StatusCode::UNAUTHORIZED,
        json!({"detail": "Authentication credentials were not provided."}),
    );
    assert_eq!(anonymous.header("www-authenticate"), Some("Token"));
    let bad = app
        .call(Method::GET, "/v1/apps")
        .auth("token", "not-a-token")
        .send()
        .await
        .is(
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Invalid token."}),
        );
    assert_eq!(bad.header("www-authenticate"), Some("Token"));
    let handshake = app.call(Method::GET, "/v1/").send().await.is(
        StatusCode::UNAUTHORIZED,
        json!({"detail": "Authentication credentials were not provided."}),
    );
    assert_eq!(handshake.header("deis_api_version"), Some("1.5"));
}

#[tokio::test]
async fn refuses_malformed_bodies_and_fields() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .raw("application/json", "{nope")
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"detail": "JSON parse error - key must be a string at line 1 column 2"}),
        );
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .json(&json!({"id": 42}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"id": ["must be a string"], "detail": "id: must be a string"}),
        );
}

#[tokio::test]
async fn hides_missing_and_foreign_apps_alike() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .json(&json!({"id": "shop"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::GET, "/v1/apps/nope")
        .auth("token", &alice)
        .send()
        .await
        .is(
            StatusCode::NOT_FOUND,
            json!({"detail": "app nope not found"}),
        );
    for method in [Method::GET, Method::DELETE] {
        app.call(method, "/v1/apps/shop")
            .auth("token", &bob)
            .send()
            .await
            .is(
                StatusCode::NOT_FOUND,
                json!({"detail": "app shop not found"}),
            );
    }
    app.call(Method::GET, "/v1/no/such/route")
        .auth("token", &alice)
        .send()
        .await
        .is(StatusCode::NOT_FOUND, json!({"detail": "Not found."}));
}

#[tokio::test]
async fn a_wrong_method_is_405_with_no_body() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let reply = app
        .call(Method::PUT, "/v1/apps")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.text, "");
    assert_eq!(reply.header("allow"), Some("GET,HEAD,POST"));
}

#[tokio::test]
async fn logs_are_one_string_of_prefixed_lines() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .json(&json!({"id": "shop"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    let logs = app
        .call(Method::GET, "/v1/apps/shop/logs")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    let text = logs.body.as_str().expect("the logs are one JSON string");
    let line = text
        .strip_suffix('\n')
        .expect("every line ends in a newline");
    let (clock, rest) = line.split_at(8);
    assert!(
        clock.len() == 8 && clock.chars().filter(|c| *c == ':').count() == 2,
        "{text:?}"
    );
    assert_eq!(rest, " deis[api]: alice created initial release");
}
