//! RCABench v2 at `/api/v2`: `{code, message, data, timestamp}` answers,
//! `data: {items, pagination}` lists, and errors without `data`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::TestApp;

fn success(code: u16, message: &str, data: Value) -> Value {
    json!({"code": code, "data": data, "message": message, "timestamp": "<int>"})
}

fn error(code: u16, message: &str) -> Value {
    json!({"code": code, "message": message, "timestamp": "<int>"})
}

fn container_shape() -> Value {
    json!({
        "created_at": "<timestamp>", "id": 1, "is_public": false, "labels": [],
        "name": "detector", "owner": "alice", "status": "enabled", "type": "algorithm",
        "updated_at": "<timestamp>", "user_id": "<int>",
    })
}

async fn create_detector(app: &TestApp, token: &str) {
    app.call(Method::POST, "/api/v2/containers")
        .auth("Bearer", token)
        .json(&json!({"name": "detector", "type": 0}))
        .send()
        .await
        .is(
            StatusCode::CREATED,
            success(201, "Container created successfully", container_shape()),
        );
}

#[tokio::test]
async fn lists_and_creates_containers() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::GET, "/api/v2/containers")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            success(
                200,
                "Containers retrieved successfully",
                json!({"items": [],
                       "pagination": {"page": 1, "size": 20, "total": 0, "total_pages": 0}}),
            ),
        );
    create_detector(&app, &alice).await;
    app.call(Method::GET, "/api/v2/containers")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            success(
                200,
                "Containers retrieved successfully",
                json!({"items": [container_shape()],
                       "pagination": {"page": 1, "size": 20, "total": 1, "total_pages": 1}}),
            ),
        );
}

#[tokio::test]
async fn refuses_missing_and_bad_credentials() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    app.call(Method::GET, "/api/v2/containers").send().await.is(
        StatusCode::UNAUTHORIZED,
        error(
            401,
            "Authentication required: send Authorization: Bearer <token>",
        ),
    );
    app.call(Method::GET, "/api/v2/containers")
        .auth("Bearer", "not-a-token")
        .send()
        .await
        .is(StatusCode::UNAUTHORIZED, error(401, "Invalid token."));
    app.call(Method::POST, "/api/v2/auth/login")
        .json(&json!({"username": "alice", "password": "wrong-password"}))
        .send()
        .await
        .is(
            StatusCode::UNAUTHORIZED,
            error(401, "Unable to log in with provided credentials."),
        );
}

#[tokio::test]
async fn refuses_malformed_bodies_and_ids() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/api/v2/containers")
        .auth("Bearer", &alice)
        .raw("application/json", "{nope")
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            error(
                400,
                "JSON parse error - key must be a string at line 1 column 2",
            ),
        );
    app.call(Method::POST, "/api/v2/containers")
        .auth("Bearer", &alice)
        .json(&json!({"type": 0}))
        .send()
        .await
        .is(StatusCode::BAD_REQUEST, error(400, "name: is required"));
    app.call(Method::GET, "/api/v2/containers/abc")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            error(400, "container_id: Invalid container_id"),
        );
}

#[tokio::test]
async fn hides_missing_and_foreign_containers_alike() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    create_detector(&app, &alice).await;
    app.call(Method::GET, "/api/v2/containers/999")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(StatusCode::NOT_FOUND, error(404, "container 999 not found"));
    for method in [Method::GET, Method::DELETE] {
        app.call(method, "/api/v2/containers/1")
            .auth("Bearer", &bob)
            .send()
            .await
            .is(StatusCode::NOT_FOUND, error(404, "container 1 not found"));
    }
    app.call(Method::GET, "/api/v2/nothing")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(StatusCode::NOT_FOUND, error(404, "Not found"));
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_envelope() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let reply = app
        .call(Method::PUT, "/api/v2/containers")
        .auth("Bearer", &alice)
        .send()
        .await
        .is(
            StatusCode::METHOD_NOT_ALLOWED,
            error(405, "Method not allowed"),
        );
    assert_eq!(reply.header("allow"), Some("GET,HEAD,POST"));
}
