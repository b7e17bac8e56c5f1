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

/// The names of the containers a search finds, as it answers them.
async fn searched(app: &TestApp, token: &str, request: Value) -> (Vec<String>, Value) {
    let reply = app
        .call(Method::POST, "/api/v2/containers/search")
        .auth("Bearer", token)
        .json(&request)
        .send()
        .await
        .status_is(StatusCode::OK);
    let data = &reply.body["data"];
    let names = data["items"]
        .as_array()
        .expect("a list of items")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect();
    (names, data["applied_filters"].clone())
}

#[tokio::test]
async fn search_reads_the_container_request_fields_as_aegislab_does() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    for (name, image, command) in [
        (
            "rca-detector",
            "acme/detector:1.0.0",
            "python run.py --fast",
        ),
        ("trace-bench", "ghcr.io/acme/bench:2.1.0", "/bin/bench"),
    ] {
        app.call(Method::POST, "/api/v2/containers")
            .auth("Bearer", &alice)
            .json(&json!({"name": name, "type": 0, "version": {
                "name": "1.0.0", "image_ref": image, "command": command}}))
            .send()
            .await
            .status_is(StatusCode::CREATED);
    }
    // `name` matches a part of the name (AegisLab: like).
    let (names, applied) = searched(&app, &alice, json!({"name": "detect"})).await;
    assert_eq!(names, ["rca-detector"]);
    assert_eq!(
        applied,
        json!([{"field": "name", "operator": "like", "value": "detect"}])
    );
    // `image` matches a part of a version's image, without its tag.
    let (names, applied) = searched(&app, &alice, json!({"image": "acme/"})).await;
    assert_eq!(names, ["trace-bench", "rca-detector"]);
    assert_eq!(
        applied,
        json!([{"field": "image", "operator": "like", "value": "acme/"}])
    );
    let (names, _) = searched(&app, &alice, json!({"image": "ghcr.io/acme/bench"})).await;
    assert_eq!(names, ["trace-bench"]);
    // `tag` matches a version's whole tag.
    let (names, applied) = searched(&app, &alice, json!({"tag": "2.1.0"})).await;
    assert_eq!(names, ["trace-bench"]);
    assert_eq!(
        applied,
        json!([{"field": "tag", "operator": "eq", "value": "2.1.0"}])
    );
    let (names, _) = searched(&app, &alice, json!({"tag": "2.1"})).await;
    assert!(names.is_empty());
    // `command` matches a part of a version's command.
    let (names, _) = searched(&app, &alice, json!({"command": "run.py"})).await;
    assert_eq!(names, ["rca-detector"]);
    // The fields combine, over one and the same version.
    let (names, _) = searched(
        &app,
        &alice,
        json!({"image": "detector", "tag": "2.1.0", "command": "run"}),
    )
    .await;
    assert!(names.is_empty());
    // The version fields are filter fields too.
    let (names, _) = searched(
        &app,
        &alice,
        json!({"filters": [{"field": "tag", "operator": "in", "values": ["1.0.0", "9.9.9"]}]}),
    )
    .await;
    assert_eq!(names, ["rca-detector"]);
    // `project_id` and `group_by` are accepted; neither narrows nor groups.
    let (names, applied) = searched(
        &app,
        &alice,
        json!({"project_id": 7, "group_by": ["type"], "keyword": "e"}),
    )
    .await;
    assert_eq!(names, ["trace-bench", "rca-detector"]);
    assert_eq!(
        applied,
        json!([{"field": "name", "operator": "like", "value": "e"}])
    );
    for bad in [
        json!({"project_id": "seven"}),
        json!({"group_by": 3}),
        json!({"tag": 1}),
        json!({"sort": [{"field": "image", "direction": "asc"}]}),
    ] {
        app.call(Method::POST, "/api/v2/containers/search")
            .auth("Bearer", &alice)
            .json(&bad)
            .send()
            .await
            .status_is(StatusCode::BAD_REQUEST);
    }
}
