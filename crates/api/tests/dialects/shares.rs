//! What a share of a pod or template lets its grantee do, in every dialect
//! that reaches it: the Tapis levels of the real service, a pod's secrets
//! hidden from lower shares through Deis and Tutum, and template grants
//! that die with their template's owner.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{IMAGE, TestApp};

const NOT_PERMITTED: &str = "You do not have permission to perform this action.";
const HIDDEN: &str = "********";

fn refusal() -> Value {
    json!({"message": NOT_PERMITTED, "metadata": {}, "result": null, "status": "error",
           "version": concat!("berth-", env!("CARGO_PKG_VERSION"))})
}

/// alice's running pod `mypod`, whose `DB_PASS` is filled from its password.
async fn running_pod(app: &TestApp, alice: &str) {
    app.call(Method::POST, "/v3/pods")
        .auth("Bearer", alice)
        .json(&json!({"pod_id": "mypod", "image": IMAGE,
                      "environment_variables": {"DB_PASS": "${user_password}", "FOO": "bar"}}))
        .send()
        .await
        .status_is(StatusCode::OK);
    app.eventually(
        || {
            app.call(Method::GET, "/v3/pods/mypod")
                .auth("Bearer", alice)
        },
        |r| r.body["result"]["status"] == "AVAILABLE",
    )
    .await
    .status_is(StatusCode::OK);
}

async fn share_pod(app: &TestApp, alice: &str, user: &str, level: &str) {
    app.call(Method::POST, "/v3/pods/mypod/permissions")
        .auth("Bearer", alice)
        .json(&json!({"user": user, "level": level}))
        .send()
        .await
        .status_is(StatusCode::OK);
}

#[tokio::test]
async fn a_pod_reader_may_not_read_its_files_or_save_it_as_a_template() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    running_pod(&app, &alice).await;
    share_pod(&app, &alice, "bob", "READ").await;
    app.call(Method::POST, "/v3/pods/templates")
        .auth("Bearer", &bob)
        .json(&json!({"template_id": "bobtpl"}))
        .send()
        .await
        .status_is(StatusCode::OK);
    for path in [
        "/v3/pods/mypod/list_files?path=/",
        "/v3/pods/mypod/list_files/etc",
        "/v3/pods/mypod/download_from_pod?path=/etc/passwd",
        "/v3/pods/mypod/download_from_pod/etc/passwd",
        "/v3/pods/mypod/permissions",
    ] {
        app.call(Method::GET, path)
            .auth("Bearer", &bob)
            .send()
            .await
            .is(StatusCode::FORBIDDEN, refusal());
    }
    app.call(Method::POST, "/v3/pods/mypod/save_pod_as_template_tag")
        .auth("Bearer", &bob)
        .json(&json!({"template_id": "bobtpl", "tag": "stolen", "commit_message": "mine"}))
        .send()
        .await
        .is(StatusCode::FORBIDDEN, refusal());
}

#[tokio::test]
async fn a_grant_on_a_pod_is_written_in_its_action_log() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.sign_up("bob").await;
    running_pod(&app, &alice).await;
    share_pod(&app, &alice, "bob", "USER").await;
    let logs = app
        .call(Method::GET, "/v3/pods/mypod/logs")
        .auth("Bearer", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    let actions = logs.body["result"]["action_logs"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a
            .as_str()
            .unwrap()
            .ends_with(": alice gave bob USER on the pod")),
        "{}",
        logs.text
    );
}

#[tokio::test]
async fn a_pod_user_may_not_exec_upload_start_stop_or_restart() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    running_pod(&app, &alice).await;
    share_pod(&app, &alice, "bob", "USER").await;
    app.call(Method::POST, "/v3/pods/mypod/exec")
        .auth("Bearer", &bob)
        .json(&json!({"commands": [["sh", "-c", "env"]]}))
        .send()
        .await
        .is(StatusCode::FORBIDDEN, refusal());
    let boundary = "sharesboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\r\n\
         hello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"dest_path\"\r\n\r\n\
         /tmp/x.txt\r\n--{boundary}--\r\n"
    );
    app.call(Method::POST, "/v3/pods/mypod/upload_to_pod")
        .auth("Bearer", &bob)
        .raw(&format!("multipart/form-data; boundary={boundary}"), body)
        .send()
        .await
        .is(StatusCode::FORBIDDEN, refusal());
    for action in ["stop", "start", "restart"] {
        app.call(Method::GET, &format!("/v3/pods/mypod/{action}"))
            .auth("Bearer", &bob)
            .send()
            .await
            .is(StatusCode::FORBIDDEN, refusal());
    }
    // What a USER share does give, as upstream: the credentials, the
    // permissions list and changes to the definition.
    for path in ["/v3/pods/mypod/credentials", "/v3/pods/mypod/permissions"] {
        app.call(Method::GET, path)
            .auth("Bearer", &bob)
            .send()
            .await
            .status_is(StatusCode::OK);
    }
    app.call(Method::PUT, "/v3/pods/mypod")
        .auth("Bearer", &bob)
        .json(&json!({"description": "bob was here"}))
        .send()
        .await
        .status_is(StatusCode::OK);
}

/// The pod's config values as Deis shows them to `token`.
async fn deis_config(app: &TestApp, token: &str) -> Value {
    app.call(Method::GET, "/v1/apps/mypod/config")
        .auth("token", token)
        .send()
        .await
        .status_is(StatusCode::OK)
        .body["values"]
        .clone()
}

#[tokio::test]
async fn deis_config_hides_pod_secrets_below_the_levels_tapis_asks() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    running_pod(&app, &alice).await;
    let password = app
        .call(Method::GET, "/v3/pods/mypod/credentials")
        .auth("Bearer", &alice)
        .send()
        .await
        .status_is(StatusCode::OK)
        .body["result"]["user_password"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(password.len(), 32);
    let owner = deis_config(&app, &alice).await;
    assert_eq!(owner["user_password"], json!(password));
    assert_eq!(owner["DB_PASS"], json!(password));

    share_pod(&app, &alice, "bob", "READ").await;
    let reader = deis_config(&app, &bob).await;
    assert_eq!(
        reader,
        json!({"DB_PASS": HIDDEN, "FOO": "bar", "user_password": HIDDEN,
               "user_username": HIDDEN})
    );

    share_pod(&app, &alice, "bob", "USER").await;
    let user = deis_config(&app, &bob).await;
    assert_eq!(
        user,
        json!({"DB_PASS": HIDDEN, "FOO": "bar", "user_password": password,
               "user_username": "mypod"})
    );
    // Setting a value answers with the config too, hidden alike.
    let set = app
        .call(Method::POST, "/v1/apps/mypod/config")
        .auth("token", &bob)
        .json(&json!({"values": {"EXTRA": "1"}}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    assert_eq!(set.body["values"]["DB_PASS"], json!(HIDDEN));
    assert_eq!(deis_config(&app, &alice).await["DB_PASS"], json!(password));
}

#[tokio::test]
async fn tutum_views_never_show_pod_secrets() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    running_pod(&app, &alice).await;
    share_pod(&app, &alice, "bob", "READ").await;
    let key = format!("bob:{bob}");
    let uuid = app
        .call(Method::GET, "/v1/apps/mypod")
        .auth("token", &bob)
        .send()
        .await
        .status_is(StatusCode::OK)
        .body["uuid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let application = app
        .call(Method::GET, &format!("/api/v1/application/{uuid}/"))
        .auth("ApiKey", &key)
        .send()
        .await
        .status_is(StatusCode::OK);
    let containers = app
        .call(Method::GET, "/api/v1/container/")
        .auth("ApiKey", &key)
        .send()
        .await
        .status_is(StatusCode::OK);
    let container = &containers.body["objects"][0];
    let single = app
        .call(
            Method::GET,
            container["resource_uri"].as_str().unwrap_or_default(),
        )
        .auth("ApiKey", &key)
        .send()
        .await
        .status_is(StatusCode::OK);
    let expected = json!([
        {"key": "DB_PASS", "origin": "USER", "value": HIDDEN},
        {"key": "FOO", "origin": "USER", "value": "bar"},
        {"key": "user_password", "origin": "USER", "value": HIDDEN},
        {"key": "user_username", "origin": "USER", "value": HIDDEN},
    ]);
    for view in [&application.body, container, &single.body] {
        assert_eq!(view["container_envvars"], expected, "{view}");
    }
}

#[tokio::test]
async fn a_template_made_again_under_a_cancelled_owners_name_keeps_no_grants() {
    let app = TestApp::start().await;
    let dave = app.sign_up("dave").await;
    let bob = app.sign_up("bob").await;
    let mallory = app.sign_up("mallory").await;
    app.call(Method::POST, "/v3/pods/templates")
        .auth("Bearer", &dave)
        .json(&json!({"template_id": "ttpl"}))
        .send()
        .await
        .status_is(StatusCode::OK);
    app.call(Method::POST, "/v3/pods/templates/ttpl/permissions")
        .auth("Bearer", &dave)
        .json(&json!({"user": "bob", "level": "ADMIN"}))
        .send()
        .await
        .status_is(StatusCode::OK);
    app.call(Method::DELETE, "/v1/auth/cancel")
        .auth("token", &dave)
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    app.call(Method::POST, "/v3/pods/templates")
        .auth("Bearer", &mallory)
        .json(&json!({"template_id": "ttpl"}))
        .send()
        .await
        .status_is(StatusCode::OK);
    app.call(Method::GET, "/v3/pods/templates/ttpl")
        .auth("Bearer", &bob)
        .send()
        .await
        .status_is(StatusCode::NOT_FOUND);
    let listed = app
        .call(Method::GET, "/v3/pods/templates")
        .auth("Bearer", &bob)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(listed.body["result"], json!([]));
    let perms = app
        .call(Method::GET, "/v3/pods/templates/ttpl/permissions")
        .auth("Bearer", &mallory)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(
        perms.body["result"]["permissions"],
        json!(["mallory:ADMIN"])
    );
}

#[tokio::test]
async fn a_pod_user_may_not_run_scale_or_restart_it_through_deis_either() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    running_pod(&app, &alice).await;
    share_pod(&app, &alice, "bob", "USER").await;
    let refused = json!({"detail": NOT_PERMITTED});
    for (path, body) in [
        ("/v1/apps/mypod/run", json!({"command": "env"})),
        ("/v1/apps/mypod/scale", json!({"pod": 0})),
        ("/v1/apps/mypod/containers/restart", json!({})),
    ] {
        app.call(Method::POST, path)
            .auth("token", &bob)
            .json(&body)
            .send()
            .await
            .is(StatusCode::FORBIDDEN, refused.clone());
    }
}
