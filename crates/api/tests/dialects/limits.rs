//! Per-app resource limits may tighten the server's but not exceed its
//! maximum ([`MAX_MEMORY`]): above it each dialect answers 400 in its shape.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::{IMAGE, MAX_MEMORY, TestApp};

#[tokio::test]
async fn deis_memory_limits_above_the_maximum_are_refused() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/v1/apps/")
        .auth("token", &alice)
        .json(&json!({"id": "shop"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    let too_much = format!("{}M", (MAX_MEMORY >> 20) + 1);
    app.call(Method::POST, "/v1/apps/shop/config")
        .auth("token", &alice)
        .json(&json!({"memory": {"web": too_much}}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"detail": "memory: at most 8192 MiB of memory is allowed",
                   "memory": ["at most 8192 MiB of memory is allowed"]}),
        );
    app.call(Method::POST, "/v1/apps/shop/config")
        .auth("token", &alice)
        .json(&json!({"memory": {"web": "8G"}}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
}

#[tokio::test]
async fn tapis_memory_resources_above_the_maximum_are_refused() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let pod = |id: &str, mem_limit: i64| {
        json!({"pod_id": id, "image": IMAGE,
                                              "resources": {"mem_limit": mem_limit}})
    };
    let refused = app
        .call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &alice)
        .json(&pod("bigpod", (MAX_MEMORY >> 20) + 1))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["status"], json!("error"), "{}", refused.body);
    assert_eq!(
        refused.body["message"],
        json!("memory: at most 8192 MiB of memory is allowed")
    );
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &alice)
        .json(&pod("smallpod", 512))
        .send()
        .await
        .status_is(StatusCode::OK);
}
