//! What schemathesis found on the Tapis routes (tests/fuzz/tapis.sh), each
//! pinned: sizes and times too large to count are refused (400) instead of
//! overflowing, `resources` holds only its five integers, and the pods,
//! templates, derived definitions and volume listings carry the fields of
//! tapipy's spec.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::{IMAGE, Reply, TestApp, tapis_call as tapis};

const BOUNDARY: &str = "berthfuzzboundary";

/// The largest `size_limit` (MB) whose bytes fit a signed 64-bit count.
const MAX_SIZE_LIMIT: i64 = i64::MAX / (1 << 20);

fn refused(reply: Reply, field: &str) {
    let reply = reply.status_is(StatusCode::BAD_REQUEST);
    let message = reply.body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("{field}: ")),
        "{} should name {field}: {}",
        reply.what,
        reply.text
    );
    assert_eq!(reply.body["status"], "error", "{}", reply.text);
}

#[tokio::test]
async fn size_limits_past_a_byte_count_are_refused_and_the_largest_one_uploads() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    for size_limit in [json!(i64::MAX), json!(MAX_SIZE_LIMIT + 1)] {
        let body = json!({"volume_id": "huge", "size_limit": size_limit});
        refused(
            tapis(&app, &alice, Method::POST, "/v3/pods/volumes", Some(body)).await,
            "size_limit",
        );
    }
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes",
        Some(json!({"volume_id": "big", "size_limit": MAX_SIZE_LIMIT})),
    )
    .await
    .status_is(StatusCode::OK);
    refused(
        tapis(
            &app,
            &alice,
            Method::PUT,
            "/v3/pods/volumes/big",
            Some(json!({"size_limit": 1_i64 << 62})),
        )
        .await,
        "size_limit",
    );
    // Before the limit, this upload's room (size_limit in bytes) overflowed
    // and the connection dropped without an answer.
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\
         Content-Type: application/octet-stream\r\n\r\nhello\r\n--{BOUNDARY}--\r\n"
    );
    app.call(Method::POST, "/v3/pods/volumes/big/upload/hello.txt")
        .header("x-tapis-token", &alice)
        .raw(&format!("multipart/form-data; boundary={BOUNDARY}"), body)
        .send()
        .await
        .status_is(StatusCode::OK);
    let listing = tapis(&app, &alice, Method::GET, "/v3/pods/volumes/big/list", None)
        .await
        .status_is(StatusCode::OK);
    assert_eq!(
        listing.body["result"],
        json!([{"lastModified": listing.body["result"][0]["lastModified"], "name": "hello.txt",
                "nativePermissions": listing.body["result"][0]["nativePermissions"],
                "path": "hello.txt", "size": 5, "type": "file"}]),
        "a volume listing holds the spec's FileModel fields only"
    );
}

#[tokio::test]
async fn times_to_stop_past_a_timestamp_are_refused_and_the_longest_one_starts() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    for field in ["time_to_stop_default", "time_to_stop_instance"] {
        let body = json!({"pod_id": "huge", "image": IMAGE, field: 1_i64 << 62});
        refused(
            tapis(&app, &alice, Method::POST, "/v3/pods", Some(body)).await,
            field,
        );
    }
    let hundred_years = 100 * 365 * 24 * 3600_i64;
    let body = json!({"pod_id": "long", "image": IMAGE, "time_to_stop_default": hundred_years});
    tapis(&app, &alice, Method::POST, "/v3/pods", Some(body))
        .await
        .status_is(StatusCode::OK);
    refused(
        tapis(
            &app,
            &alice,
            Method::PUT,
            "/v3/pods/long",
            Some(json!({"time_to_stop_instance": 1_i64 << 62})),
        )
        .await,
        "time_to_stop_instance",
    );
    // Before the limit, a start or restart with such a time panicked.
    for action in ["restart", "stop", "start"] {
        let reply = tapis(
            &app,
            &alice,
            Method::GET,
            &format!("/v3/pods/long/{action}"),
            None,
        )
        .await
        .status_is(StatusCode::OK);
        assert!(reply.body["result"]["time_to_stop_default"] == hundred_years);
    }
}

#[tokio::test]
async fn resources_hold_only_the_five_integers() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    for resources in [
        json!({"x-unknown": 1}),
        json!({"gpus": null}),
        json!({"cpu_limit": "2000"}),
        json!({"mem_limit": -1}),
    ] {
        let body = json!({"pod_id": "res", "image": IMAGE, "resources": resources});
        refused(
            tapis(&app, &alice, Method::POST, "/v3/pods", Some(body)).await,
            "resources",
        );
    }
    let resources = json!({"cpu_request": 250, "cpu_limit": 2000, "mem_request": 256,
                           "mem_limit": 3072, "gpus": 0});
    let body = json!({"pod_id": "res", "image": IMAGE, "resources": resources});
    let made = tapis(&app, &alice, Method::POST, "/v3/pods", Some(body))
        .await
        .status_is(StatusCode::OK);
    assert_eq!(made.body["result"]["resources"], resources);
    refused(
        tapis(
            &app,
            &alice,
            Method::PUT,
            "/v3/pods/res",
            Some(json!({"resources": {"x-unknown": 1}})),
        )
        .await,
        "resources",
    );
}

#[tokio::test]
async fn pods_derived_definitions_and_templates_carry_the_spec_fields() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let body = json!({"pod_id": "plain", "image": IMAGE});
    let made = tapis(&app, &alice, Method::POST, "/v3/pods", Some(body))
        .await
        .status_is(StatusCode::OK);
    for field in ["tenant_id", "site_id"] {
        assert!(made.body["result"].get(field).is_none(), "{}", made.text);
    }
    let derived = tapis(&app, &alice, Method::GET, "/v3/pods/plain/derived", None)
        .await
        .status_is(StatusCode::OK);
    assert_eq!(
        derived.body["result"]["time_to_stop_default"], 43200,
        "the default the pod runs with, never null: {}",
        derived.text
    );
    let template = tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/templates",
        Some(json!({"template_id": "mytemplate"})),
    )
    .await
    .status_is(StatusCode::OK);
    let keys: Vec<&String> = template.body["result"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        keys,
        [
            "archive_message",
            "creation_ts",
            "description",
            "metatags",
            "template_id",
            "update_ts"
        ],
        "{}",
        template.text
    );
}

#[tokio::test]
async fn an_upload_path_no_file_system_takes_is_refused_before_the_engine() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "uploads", "image": IMAGE})),
    )
    .await
    .status_is(StatusCode::OK);
    app.eventually(
        || {
            app.call(Method::GET, "/v3/pods/uploads")
                .header("x-tapis-token", &alice)
        },
        |r| r.body["result"]["status"] == "AVAILABLE",
    )
    .await;
    // A name longer than a file system takes (schemathesis sent one of 700
    // bytes: the engine failed and the answer was a 503), and a control
    // character.
    for dest in ["a".repeat(700), "/tmp/a\u{f}b".to_string()] {
        let body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n\
             hello\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"dest_path\"\r\n\r\n\
             {dest}\r\n--{BOUNDARY}--\r\n"
        );
        let reply = app
            .call(Method::POST, "/v3/pods/uploads/upload_to_pod")
            .header("x-tapis-token", &alice)
            .raw(&format!("multipart/form-data; boundary={BOUNDARY}"), body)
            .send()
            .await;
        refused(reply, "path");
    }
}
