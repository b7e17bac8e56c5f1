//! Tapis pod fields as upstream has them: every `NewPod` and `UpdatePod`
//! field accepted (unknown ones refused), `secret_map` and
//! `template_overrides` kept and merged with the template, secrets filled
//! in only where the container gets them, the PUT fields and
//! `status_requested`, the delete answer, an idempotent start, and the
//! ADMIN level every route inside a pod needs.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{IMAGE, Reply, TestApp, tapis_call as call};

const VERSION: &str = concat!("berth-", env!("CARGO_PKG_VERSION"));
const HIDDEN: &str = "********";

fn error(message: &str) -> Value {
    json!({"message": message, "metadata": {}, "result": null, "status": "error",
           "version": VERSION})
}

async fn available(app: &TestApp, token: &str, pod: &str) -> Reply {
    app.eventually(
        || {
            app.call(Method::GET, &format!("/v3/pods/{pod}"))
                .header("x-tapis-token", token)
        },
        |r| r.body["result"]["status"] == "AVAILABLE",
    )
    .await
    .status_is(StatusCode::OK)
}

#[tokio::test]
async fn unknown_pod_fields_are_refused_and_every_spec_field_is_accepted() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "mypod", "image": IMAGE, "secret": "x", "gpus": 1})),
    )
    .await
    .is(
        StatusCode::BAD_REQUEST,
        error("unknown pod fields: gpus, secret"),
    );
    // Every field of tapipy's NewPod, and the two of later versions.
    call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({
            "pod_id": "mypod", "image": IMAGE, "template": "", "description": "d",
            "command": ["sleep", "600"], "arguments": ["x"],
            "environment_variables": {"A": "a"}, "status_requested": "ON",
            "volume_mounts": {}, "time_to_stop_default": -1, "time_to_stop_instance": -1,
            "networking": {}, "resources": {}, "compute_queue": "default",
            "secret_map": {}, "template_overrides": {},
        })),
    )
    .await
    .status_is(StatusCode::OK);
    available(&app, &alice, "mypod").await;
    call(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/mypod",
        Some(json!({"description": "e", "colour": "red"})),
    )
    .await
    .is(StatusCode::BAD_REQUEST, error("unknown pod field: colour"));
    // Every field of tapipy's UpdatePod, and those later versions allow.
    let updated = call(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/mypod",
        Some(json!({
            "description": "e", "command": ["sleep", "700"], "environment_variables": {"A": "b"},
            "networking": {}, "resources": {}, "time_to_stop_default": -1,
            "time_to_stop_instance": -1, "volume_mounts": {}, "status_requested": "ON",
            "image": "alpine:latest", "arguments": ["y"], "compute_queue": "other",
            "template": "", "pod_id": "mypod",
        })),
    )
    .await
    .status_is(StatusCode::OK)
    .body;
    let pod = &updated["result"];
    assert_eq!(pod["image"], "alpine:latest", "{pod}");
    assert_eq!(pod["arguments"], json!(["y"]), "{pod}");
    assert_eq!(pod["compute_queue"], "other", "{pod}");
    assert_eq!(pod["description"], "e", "{pod}");
    call(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/mypod",
        Some(json!({"pod_id": "otherpod"})),
    )
    .await
    .is(
        StatusCode::BAD_REQUEST,
        error("pod_id: cannot be changed on an existing pod"),
    );
    call(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/mypod",
        Some(json!({"status_requested": "SIDEWAYS"})),
    )
    .await
    .is(
        StatusCode::BAD_REQUEST,
        error("status_requested: must be ON, OFF or RESTART"),
    );
}

#[tokio::test]
async fn status_requested_turns_the_pod_off_and_on_and_start_is_idempotent() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "mypod", "image": IMAGE})),
    )
    .await
    .status_is(StatusCode::OK);
    available(&app, &alice, "mypod").await;
    let started = call(&app, &alice, Method::GET, "/v3/pods/mypod/start", None)
        .await
        .status_is(StatusCode::OK);
    assert_eq!(
        started.body["result"]["status"], "AVAILABLE",
        "{}",
        started.text
    );
    let off = call(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/mypod",
        Some(json!({"status_requested": "OFF"})),
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(off.body["result"]["status_requested"], "OFF");
    app.eventually(
        || {
            app.call(Method::GET, "/v3/pods/mypod")
                .header("x-tapis-token", &alice)
        },
        |r| r.body["result"]["status"] == "STOPPED",
    )
    .await;
    let on = call(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/mypod",
        Some(json!({"status_requested": "ON"})),
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(on.body["result"]["status_requested"], "ON");
    available(&app, &alice, "mypod").await;
    call(&app, &alice, Method::DELETE, "/v3/pods/mypod", None)
        .await
        .is(
            StatusCode::OK,
            json!({"message": "Pod successfully deleted.", "metadata": {}, "result": "",
                   "status": "success", "version": VERSION}),
        );
}

#[tokio::test]
async fn secrets_fill_the_container_only_and_overrides_lie_between_template_and_pod() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/templates",
        Some(json!({"template_id": "dbtmpl"})),
    )
    .await
    .status_is(StatusCode::OK);
    call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/templates/dbtmpl/tags",
        Some(json!({"tag": "v1", "commit_message": "first",
                    "pod_definition": {"image": IMAGE, "description": "from template",
                                       "environment_variables": {"T": "t", "MODE": "template"},
                                       "secret_map": {"FROM_TEMPLATE": "tsecret"}}})),
    )
    .await
    .status_is(StatusCode::OK);
    let created = call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({
            "pod_id": "mypod", "template": "dbtmpl:v1",
            "template_overrides": {"description": "overridden",
                                   "environment_variables": {"MODE": "override"}},
            "environment_variables": {"DB": "${pods:secrets:DB}", "TS": "${pods:secrets:FROM_TEMPLATE}",
                                      "MISSING": "${pods:secrets:NOPE}"},
            "secret_map": {"DB": "s3cret-db"},
        })),
    )
    .await
    .status_is(StatusCode::OK);
    let pod = &created.body["result"];
    assert_eq!(pod["secret_map"], json!({"DB": HIDDEN}), "{pod}");
    assert_eq!(
        pod["template_overrides"],
        json!({"description": "overridden", "environment_variables": {"MODE": "override"}}),
        "{pod}"
    );
    assert!(!created.text.contains("s3cret-db"), "{}", created.text);

    let detail = available(&app, &alice, "mypod").await;
    assert_eq!(
        detail.body["metadata"]["unresolved_patterns"],
        json!(["${pods:secrets:NOPE}"]),
        "{}",
        detail.text
    );
    assert!(!detail.text.contains("s3cret-db"), "{}", detail.text);
    let derived = call(&app, &alice, Method::GET, "/v3/pods/mypod/derived", None)
        .await
        .status_is(StatusCode::OK);
    let d = &derived.body["result"];
    assert_eq!(d["description"], "overridden", "{d}");
    assert_eq!(
        d["environment_variables"]["MODE"], "override",
        "overrides win over the template"
    );
    assert_eq!(d["environment_variables"]["T"], "t");
    assert_eq!(d["environment_variables"]["DB"], "${pods:secrets:DB}");
    assert_eq!(
        d["secret_map"],
        json!({"DB": HIDDEN, "FROM_TEMPLATE": HIDDEN})
    );
    assert!(!derived.text.contains("s3cret-db"), "{}", derived.text);
    let resolved = call(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/mypod/derived?resolve_secrets=true",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(
        resolved.body["result"]["environment_variables"]["DB"],
        "s3cret-db"
    );
    assert_eq!(
        resolved.body["result"]["environment_variables"]["TS"],
        "tsecret"
    );

    // A reader sees neither the value nor, through Deis, the filled config.
    call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/mypod/permissions",
        Some(json!({"user": "bob", "level": "READ"})),
    )
    .await
    .status_is(StatusCode::OK);
    call(
        &app,
        &bob,
        Method::GET,
        "/v3/pods/mypod/derived?resolve_secrets=true",
        None,
    )
    .await
    .status_is(StatusCode::FORBIDDEN);
    let config = app
        .call(Method::GET, "/v1/apps/mypod/config")
        .auth("token", &bob)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(config.body["values"]["DB"], HIDDEN, "{}", config.text);
    assert!(!config.text.contains("s3cret-db"), "{}", config.text);
    let owner_config = app
        .call(Method::GET, "/v1/apps/mypod/config")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(owner_config.body["values"]["DB"], "s3cret-db");

    // A PUT that sends the hidden value back keeps the secret; a new one replaces it.
    call(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/mypod",
        Some(json!({"secret_map": {"DB": HIDDEN, "OTHER": "o"}})),
    )
    .await
    .status_is(StatusCode::OK);
    let resolved = call(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/mypod/derived?resolve_secrets=true",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(
        resolved.body["result"]["environment_variables"]["DB"],
        "s3cret-db"
    );

    // Saved as a template, the pod leaves its secrets behind.
    let tag = call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/mypod/save_pod_as_template_tag",
        Some(json!({"template_id": "dbtmpl", "tag": "saved", "commit_message": "m"})),
    )
    .await
    .status_is(StatusCode::OK);
    assert!(!tag.text.contains("s3cret-db"), "{}", tag.text);
    assert_eq!(tag.body["result"]["pod_definition"].get("secret_map"), None);

    for bad in [
        json!({"secret_map": {"bad key": "v"}}),
        json!({"secret_map": {"K": 5}}),
        json!({"template_overrides": {"pod_id": "x"}}),
    ] {
        call(
            &app,
            &alice,
            Method::PUT,
            "/v3/pods/mypod",
            Some(bad.clone()),
        )
        .await
        .status_is(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn read_and_user_grantees_may_not_act_inside_a_pod_or_turn_it_on_or_off() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let reader = app.sign_up("reader").await;
    let user = app.sign_up("user").await;
    call(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "mypod", "image": IMAGE})),
    )
    .await
    .status_is(StatusCode::OK);
    available(&app, &alice, "mypod").await;
    for (who, level) in [("reader", "READ"), ("user", "USER")] {
        call(
            &app,
            &alice,
            Method::POST,
            "/v3/pods/mypod/permissions",
            Some(json!({"user": who, "level": level})),
        )
        .await
        .status_is(StatusCode::OK);
    }
    let boundary = "podsboundary";
    let upload = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\r\n\
         hello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"dest_path\"\r\n\r\n\
         /tmp/x.txt\r\n--{boundary}--\r\n"
    );
    for token in [&reader, &user] {
        let mut routes: Vec<(Method, &str, Option<Value>)> = vec![
            (Method::GET, "/v3/pods/mypod/list_files?path=/", None),
            (Method::GET, "/v3/pods/mypod/list_files/etc", None),
            (
                Method::GET,
                "/v3/pods/mypod/download_from_pod?path=/etc/passwd",
                None,
            ),
            (
                Method::GET,
                "/v3/pods/mypod/download_from_pod/etc/passwd",
                None,
            ),
            (Method::GET, "/v3/pods/mypod/start", None),
            (Method::GET, "/v3/pods/mypod/stop", None),
            (Method::GET, "/v3/pods/mypod/restart", None),
            (
                Method::POST,
                "/v3/pods/mypod/exec",
                Some(json!({"commands": [["true"]]})),
            ),
            (
                Method::POST,
                "/v3/pods/mypod/save_pod_as_template_tag",
                Some(json!({"template_id": "dbtmpl", "commit_message": "m"})),
            ),
        ];
        for status in ["ON", "OFF", "RESTART"] {
            routes.push((
                Method::PUT,
                "/v3/pods/mypod",
                Some(json!({"status_requested": status})),
            ));
        }
        for (method, path, body) in routes {
            let reply = call(&app, token, method.clone(), path, body.clone()).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{method} {path} {body:?}: {}",
                reply.text
            );
        }
        let reply = app
            .call(Method::POST, "/v3/pods/mypod/upload_to_pod")
            .header("x-tapis-token", token)
            .raw(
                &format!("multipart/form-data; boundary={boundary}"),
                upload.clone(),
            )
            .send()
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "upload: {}",
            reply.text
        );
    }
    // Nothing of it changed the pod.
    let pod = available(&app, &alice, "mypod").await;
    assert_eq!(pod.body["result"]["status_requested"], "ON");
}
