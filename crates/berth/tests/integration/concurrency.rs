//! Concurrent changes to one app through the one write path: none is lost.

use serde_json::{Value, json};

use crate::harness::{Api, Server, unique_username};

#[tokio::test(flavor = "multi_thread")]
async fn parallel_config_sets_of_different_keys_all_survive() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("race")).await;
    let app = api.create_app("race").await;
    let path = format!("/v1/apps/{app}/config");
    let keys: Vec<String> = (0..8).map(|n| format!("KEY_{n}")).collect();
    let sets = keys.iter().map(|key| {
        let (api, path) = (&api, &path);
        async move {
            api.post(path, &json!({ "values": { key: "set" } }))
                .await
                .status_is(201)
        }
    });
    let replies = futures::future::join_all(sets).await;

    let config = api.get(&path).await.status_is(200);
    for key in &keys {
        assert_eq!(config.body["values"][key], json!("set"), "{}", config.text);
    }
    // Every write made its own release: v1 plus one per key.
    let mut versions: Vec<&str> = replies
        .iter()
        .map(|r| r.header("Deis-Release").unwrap_or("?"))
        .collect();
    versions.sort_by_key(|v| v.parse::<u32>().unwrap_or(0));
    assert_eq!(versions, ["2", "3", "4", "5", "6", "7", "8", "9"]);
    let releases = api
        .get(&format!("/v1/apps/{app}/releases"))
        .await
        .status_is(200);
    assert_eq!(releases.body["count"], json!(9), "{}", releases.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_scales_of_different_types_both_survive() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("scales")).await;
    let app = api.create_app("scales").await;
    api.post(
        &format!("/v1/apps/{app}/builds"),
        &json!({
            "image": "busybox:latest",
            "procfile": {"web": "sleep 3600", "worker": "sleep 3600"},
        }),
    )
    .await
    .status_is(201);
    let scale = |body: Value| {
        let (api, app) = (&api, &app);
        async move {
            api.post(&format!("/v1/apps/{app}/scale"), &body)
                .await
                .status_is(204)
        }
    };
    futures::future::join(scale(json!({"web": 2})), scale(json!({"worker": 1}))).await;

    let detail = api.get(&format!("/v1/apps/{app}")).await.status_is(200);
    assert_eq!(
        detail.body["structure"],
        json!({"web": 2, "worker": 1}),
        "{}",
        detail.text
    );
    let containers = server.containers(Some(&app));
    assert_eq!(containers.len(), 3, "{containers:?}");
}
