//! Tapis pod secrets: `${...}` in a pod's environment.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Api, Server, unique_username, wait_until};

const POD_UP: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn pod_secrets_fill_the_environment_and_only_admins_may_preview_them() {
    let server = Server::start().await;
    // The first user is an administrator; the pod's owner and reader are not.
    Api::sign_up(&server.url, &unique_username("root")).await;
    let (owner, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let reader_name = unique_username("reader");
    let (reader, _) = Api::sign_up(&server.url, &reader_name).await;
    owner
        .post(
            "/v3/pods",
            &json!({"pod_id": "secretpod", "image": "busybox:latest",
                    "command": ["sleep", "3600"],
                    "environment_variables": {"PW": "${user_password}", "HOMEISH": "${nope}"}}),
        )
        .await
        .status_is(200);
    let password = owner
        .get("/v3/pods/secretpod/credentials")
        .await
        .status_is(200)
        .body["result"]["user_password"]
        .as_str()
        .expect("a generated password")
        .to_string();

    let detail = owner.get("/v3/pods/secretpod").await.status_is(200).body;
    assert_eq!(
        detail["metadata"]["unresolved_patterns"],
        json!(["${nope}"]),
        "{detail}"
    );
    let plain = owner.get("/v3/pods/secretpod/derived").await.status_is(200);
    assert_eq!(
        plain.body["result"]["environment_variables"]["PW"],
        json!("${user_password}")
    );
    let resolved = owner
        .get("/v3/pods/secretpod/derived?resolve_secrets=true")
        .await
        .status_is(200);
    assert_eq!(
        resolved.body["result"]["environment_variables"],
        json!({"PW": password, "HOMEISH": "${nope}"})
    );
    owner
        .get("/v3/pods/secretpod/derived?resolve_secrets=perhaps")
        .await
        .status_is(400);

    owner
        .post(
            "/v3/pods/secretpod/permissions",
            &json!({"user": reader_name, "level": "READ"}),
        )
        .await
        .status_is(200);
    reader
        .get("/v3/pods/secretpod/derived")
        .await
        .status_is(200);
    let refused = reader
        .get("/v3/pods/secretpod/derived?resolve_secrets=true")
        .await
        .status_is(403);
    assert!(!refused.text.contains(&password), "{}", refused.text);

    let env = wait_until(POD_UP, "the pod's container runs", async || {
        match server
            .containers(Some("secretpod"))
            .into_iter()
            .find(|c| c.running)
        {
            Some(c) => Ok(c.env),
            None => Err("no running container".to_string()),
        }
    })
    .await;
    assert!(env.contains(&format!("PW={password}")), "{env:?}");
    assert!(env.contains(&"HOMEISH=${nope}".to_string()), "{env:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_takes_the_latest_template_tag_only_when_asked() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    api.post("/v3/pods/templates", &json!({"template_id": "basetmpl"}))
        .await
        .status_is(200);
    let add_tag = async |level: &str| {
        api.post(
            "/v3/pods/templates/basetmpl/tags",
            &json!({"tag": "v1", "commit_message": level,
                    "pod_definition": {"image": "busybox:latest", "command": ["sleep", "3600"],
                                       "environment_variables": {"LEVEL": level}}}),
        )
        .await
        .status_is(200);
    };
    add_tag("one").await;
    api.post(
        "/v3/pods",
        &json!({"pod_id": "tmplpod", "template": "basetmpl:v1"}),
    )
    .await
    .status_is(200);
    // Tag versions are told apart by their timestamps.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    add_tag("two").await;

    let level_in_container = async || {
        wait_until(POD_UP, "one running container", async || {
            let running: Vec<_> = server
                .containers(Some("tmplpod"))
                .into_iter()
                .filter(|c| c.running)
                .collect();
            match running.as_slice() {
                [c] => Ok(c
                    .env
                    .iter()
                    .find_map(|e| e.strip_prefix("LEVEL=").map(str::to_string))
                    .unwrap_or_default()),
                other => Err(format!("{} running", other.len())),
            }
        })
        .await
    };
    assert_eq!(level_in_container().await, "one");
    let derived_level = async || {
        let derived = api
            .get("/v3/pods/tmplpod/derived")
            .await
            .status_is(200)
            .body;
        derived["result"]["environment_variables"]["LEVEL"].clone()
    };
    api.get("/v3/pods/tmplpod/restart").await.status_is(200);
    assert_eq!(derived_level().await, json!("one"));
    api.get("/v3/pods/tmplpod/restart?grab_latest_template_tag=true")
        .await
        .status_is(200);
    assert_eq!(derived_level().await, json!("two"));
    wait_until(
        POD_UP,
        "the container runs the new tag",
        async || match level_in_container().await.as_str() {
            "two" => Ok(()),
            other => Err(other.to_string()),
        },
    )
    .await;
}
