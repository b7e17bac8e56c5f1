//! Tapis Pods at `/v3/pods`: every answer, error or not, is the envelope
//! `{status, message, result, version, metadata}`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{IMAGE, TestApp};

const VERSION: &str = concat!("berth-", env!("CARGO_PKG_VERSION"));

fn success(message: &str, result: Value) -> Value {
    json!({"message": message, "metadata": {}, "result": result, "status": "success",
           "version": VERSION})
}

fn error(message: &str) -> Value {
    json!({"message": message, "metadata": {}, "result": null, "status": "error",
           "version": VERSION})
}

/// A pod as Tapis renders it; `status` and `status_container` change while
/// the engine converges.
fn pod_shape(pod_id: &str, status: Value, status_container: Value) -> Value {
    json!({
        "arguments": null, "command": null, "compute_queue": "default",
        "creation_ts": "<timestamp>", "description": "", "environment_variables": {},
        "image": IMAGE,
        "networking": {"default": {"port": 5000, "protocol": "http",
                                   "url": format!("{pod_id}.berth.local")}},
        "pod_id": pod_id, "resources": {}, "secret_map": {},
        "start_instance_ts": "<timestamp>", "status": status,
        "status_container": status_container, "status_requested": "ON", "template": "",
        "template_overrides": {}, "time_to_stop_default": 43200,
        "time_to_stop_instance": null,
        "time_to_stop_ts": "<timestamp>", "update_ts": "<timestamp>", "volume_mounts": {},
    })
}

async fn create_pod(app: &TestApp, token: &str) {
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", token)
        .json(&json!({"pod_id": "mypod", "image": IMAGE}))
        .send()
        .await
        .is(
            StatusCode::OK,
            success(
                "Pod created successfully.",
                pod_shape("mypod", json!("<any>"), json!("<any>")),
            ),
        );
}

#[tokio::test]
async fn lists_and_creates_pods() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::GET, "/v3/pods")
        .header("x-tapis-token", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            success("Pods retrieved successfully.", json!([])),
        );
    create_pod(&app, &alice).await;
    let available = pod_shape(
        "mypod",
        json!("AVAILABLE"),
        json!({"exit_code": null, "message": "", "phase": "Running"}),
    );
    app.eventually(
        || {
            app.call(Method::GET, "/pods")
                .header("x-tapis-token", &alice)
        },
        |r| r.body["result"][0]["status"] == "AVAILABLE",
    )
    .await
    .is(
        StatusCode::OK,
        success("Pods retrieved successfully.", json!([available])),
    );
}

#[tokio::test]
async fn refuses_missing_and_bad_credentials() {
    let app = TestApp::start().await;
    app.call(Method::GET, "/v3/pods").send().await.is(
        StatusCode::UNAUTHORIZED,
        error("no Tapis token: send X-Tapis-Token"),
    );
    app.call(Method::GET, "/v3/pods")
        .header("x-tapis-token", "not-a-token")
        .send()
        .await
        .is(StatusCode::UNAUTHORIZED, error("Invalid token."));
}

#[tokio::test]
async fn refuses_malformed_bodies_and_definitions() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &alice)
        .raw("application/json", "{nope")
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            error("JSON parse error - key must be a string at line 1 column 2"),
        );
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &alice)
        .json(&json!({"pod_id": 5}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            error("invalid pod definition: invalid type: integer `5`, expected a string"),
        );
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &alice)
        .json(&json!({"pod_id": "Bad Id!", "image": IMAGE}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            error("pod_id: must be 3 to 64 lowercase letters and digits, starting with a letter"),
        );
}

#[tokio::test]
async fn hides_missing_and_foreign_pods_alike() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    create_pod(&app, &alice).await;
    app.call(Method::GET, "/v3/pods/nope")
        .header("x-tapis-token", &alice)
        .send()
        .await
        .is(StatusCode::NOT_FOUND, error("pod nope not found"));
    for method in [Method::GET, Method::DELETE] {
        app.call(method, "/v3/pods/mypod")
            .header("x-tapis-token", &bob)
            .send()
            .await
            .is(StatusCode::NOT_FOUND, error("pod mypod not found"));
    }
    app.call(Method::GET, "/v3/pods/nothing/else/here")
        .header("x-tapis-token", &alice)
        .send()
        .await
        .is(StatusCode::NOT_FOUND, error("no such route"));
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_envelope() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let reply = app
        .call(Method::PATCH, "/v3/pods/mypod")
        .header("x-tapis-token", &alice)
        .send()
        .await
        .is(StatusCode::METHOD_NOT_ALLOWED, error("Method Not Allowed"));
    assert_eq!(reply.header("allow"), Some("GET,HEAD,PUT,DELETE"));
}

/// The typed answers write their fields in the byte order of their names,
/// as the maps they replaced did: re-serialising the parsed body (a sorted
/// map) gives back the very bytes that were sent.
#[tokio::test]
async fn answers_keep_their_key_order_on_the_wire() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    create_pod(&app, &alice).await;
    let calls: [(Method, &str, Option<Value>); 14] = [
        (Method::GET, "/v3/pods", None),
        (Method::GET, "/v3/pods/mypod", None),
        (Method::GET, "/v3/pods/mypod/derived", None),
        (Method::GET, "/v3/pods/mypod/credentials", None),
        (Method::GET, "/v3/pods/mypod/logs", None),
        (Method::GET, "/v3/pods/mypod/permissions", None),
        (
            Method::POST,
            "/v3/pods/volumes",
            Some(json!({"volume_id": "vol1"})),
        ),
        (Method::GET, "/v3/pods/volumes/vol1/list", None),
        (
            Method::POST,
            "/v3/pods/templates",
            Some(json!({"template_id": "tmpl1"})),
        ),
        (
            Method::POST,
            "/v3/pods/templates/tmpl1/tags",
            Some(json!({"pod_definition": {"image": IMAGE}, "commit_message": "first"})),
        ),
        (Method::GET, "/v3/pods/templates/tags", None),
        (Method::GET, "/v3/pods/images", None),
        (Method::GET, "/v3/pods/nosuchpod", None),
        (Method::DELETE, "/v3/pods/mypod", None),
    ];
    for (method, path, body) in calls {
        let reply = crate::app::tapis_call(&app, &alice, method, path, body).await;
        assert_eq!(
            serde_json::to_string(&reply.body).unwrap(),
            reply.text,
            "{}",
            reply.what
        );
    }
}
