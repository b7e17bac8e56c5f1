//! NDS Labs jobs at the root paths: bare JSON answers and arrays,
//! `{"error": …}` errors.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::{IMAGE, TestApp};

/// Submits `echo hi` in busybox and returns the job id.
async fn submit(app: &TestApp, token: &str) -> String {
    let reply = app
        .call(Method::POST, "/upload")
        .auth("Bearer", token)
        .json(&json!({"script": "echo hi", "image_name": "busybox", "image_tag": "latest"}))
        .send()
        .await
        .is(StatusCode::CREATED, json!({"job_id": "<uuid>"}));
    reply.body["job_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn lists_and_submits_jobs() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::GET, "/list_container")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(StatusCode::OK, json!([]));
    let job = submit(&app, &alice).await;
    let listed = app
        .call(Method::GET, "/list_container")
        .auth("token", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!([{"cont_id": "<string>", "created": "<timestamp>", "image": IMAGE,
                    "job_id": job, "state": "RUNNING"}]),
        );
    let container = listed.body[0]["cont_id"].as_str().unwrap_or_default();
    app.call(Method::GET, &format!("/upload?job_id={job}"))
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"cont_id": container, "created": "<timestamp>", "exit_code": null,
                   "finished": null, "job_id": job, "started": "<timestamp>",
                   "state": "RUNNING", "worker": "fake"}),
        );
    app.call(Method::GET, "/list_images")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!([{"image_name": "busybox", "image_tag": "latest"}]),
        );
}

#[tokio::test]
async fn refuses_missing_and_bad_credentials() {
    let app = TestApp::start().await;
    app.call(Method::GET, "/list_container").send().await.is(
        StatusCode::UNAUTHORIZED,
        json!({"error": "authentication required: send Authorization: Bearer <token>"}),
    );
    app.call(Method::GET, "/list_container")
        .auth("Bearer", "not-a-token")
        .send()
        .await
        .is(StatusCode::UNAUTHORIZED, json!({"error": "Invalid token."}));
}

#[tokio::test]
async fn refuses_malformed_bodies_and_parameters() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/upload")
        .auth("Bearer", &alice)
        .raw("application/json", "{nope")
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"error": "JSON parse error - key must be a string at line 1 column 2"}),
        );
    app.call(Method::GET, "/upload")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"error": "job_id: this parameter is required"}),
        );
    app.call(Method::GET, "/info?cont_id=nope")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"error": "cont_id: must be a container id (12 to 64 hex digits)"}),
        );
}

#[tokio::test]
async fn hides_missing_and_foreign_jobs_alike() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    let job = submit(&app, &alice).await;
    let missing = "00000000-0000-0000-0000-000000000000";
    app.call(Method::GET, &format!("/upload?job_id={missing}"))
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::NOT_FOUND,
            json!({"error": format!("job {missing} not found")}),
        );
    for method in [Method::GET, Method::DELETE] {
        app.call(method, &format!("/upload?job_id={job}"))
            .auth("Bearer", &bob)
            .send()
            .await
            .is(
                StatusCode::NOT_FOUND,
                json!({"error": format!("job {job} not found")}),
            );
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_with_no_body() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let reply = app
        .call(Method::PUT, "/upload")
        .auth("Bearer", &alice)
        .send()
        .await
        .status_is(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.text, "");
    assert_eq!(reply.header("allow"), Some("GET,HEAD,POST,DELETE"));
}
