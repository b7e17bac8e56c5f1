//! Bad requests get a 4xx that says why, never a 5xx, and change nothing.

use serde_json::json;

use crate::harness::{Api, Reply, Server, exactly_running_web, unique_username};

/// Fails unless `reply` is a client error.
fn assert_client_error(reply: &Reply) {
    assert!(
        (400..500).contains(&reply.status),
        "{} answered {} (want 4xx): {}",
        reply.what,
        reply.status,
        reply.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_gets_400_with_detail() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = api.create_app("malformed").await;
    for path in [
        "/v1/apps".to_string(),
        format!("/v1/apps/{app}/config"),
        format!("/v1/apps/{app}/builds"),
        format!("/v1/apps/{app}/scale"),
        format!("/v1/apps/{app}/run"),
        format!("/v1/apps/{app}/releases/rollback"),
    ] {
        for body in ["{nope", r#"{"id": "x""#, "[1, 2"] {
            let reply = api.post_raw(&path, body).await.status_is(400);
            assert!(
                reply.body["detail"].is_string(),
                "{} with {body:?}: no detail in {}",
                reply.what,
                reply.text
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scale_counts_of_the_wrong_type_or_range_get_400_and_change_nothing() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = api.create_app("scalebad").await;
    api.deploy_sleeper(&app).await;
    let path = format!("/v1/apps/{app}/scale");
    for body in [
        json!({"web": "many"}),
        json!({"web": -1}),
        json!({"web": 10_000_000_000_i64}),
        json!({"web": 1.5}),
        json!({"web": null}),
        json!({"web": [1]}),
        json!({"web": {"n": 1}}),
        json!({"worker": 1}),
        json!({"Bad_Type": 1}),
        json!({}),
        json!([{"web": 1}]),
        json!("web"),
    ] {
        let reply = api.post(&path, &body).await;
        assert_client_error(&reply);
        assert_eq!(
            reply.status, 400,
            "{body} → {} {}",
            reply.status, reply.text
        );
    }
    exactly_running_web(&server.containers(Some(&app)), &app, 1)
        .unwrap_or_else(|e| panic!("a refused scale changed the containers: {e}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_app_ids_get_400_and_unknown_ones_404() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let too_long = format!("a{}", "b".repeat(63));
    for id in [
        "Bad_Id",
        "1abc",
        too_long.as_str(),
        "-abc",
        "abc-",
        "ab c",
        "ab/c",
        "ab.c",
        "",
    ] {
        let reply = api.post("/v1/apps", &json!({ "id": id })).await;
        assert_eq!(
            reply.status, 400,
            "id {id:?} → {} {}",
            reply.status, reply.text
        );
        assert!(reply.body["detail"].is_string(), "{}", reply.text);
    }
    let non_string = api.post("/v1/apps", &json!({"id": 7})).await;
    assert_eq!(non_string.status, 400, "{}", non_string.text);

    let longest = format!("a{}", "b".repeat(62));
    api.post("/v1/apps", &json!({ "id": longest }))
        .await
        .status_is(201);

    let listed = api.get("/v1/apps").await.status_is(200);
    assert_eq!(listed.body["count"], json!(1), "{}", listed.text);
    for path in ["/v1/apps/Bad_Id", "/v1/apps/1abc", "/v1/apps/nope/config"] {
        api.get(path).await.status_is(404);
    }
    let long_path = format!("/v1/apps/{too_long}");
    api.get(&long_path).await.status_is(404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_of_a_missing_image_is_refused_with_4xx_and_no_release() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = api.create_app("noimage").await;
    let path = format!("/v1/apps/{app}/builds");
    for body in [
        json!({"image": "berth-it-missing/never-built:nope"}),
        json!({"image": "not an image"}),
        json!({"image": "nul\u{0}byte"}),
        json!({"image": "UpperCase/Repo:latest"}),
        json!({"image": "busybox:bad tag"}),
        json!({"image": ""}),
        json!({"image": 42}),
        json!({}),
        json!({"image": "busybox:latest", "procfile": {"web": ""}}),
        json!({"image": "busybox:latest", "procfile": {"Bad_Type": "sleep 1"}}),
        json!({"image": "busybox:latest", "procfile": "not json"}),
    ] {
        let reply = api.post(&path, &body).await;
        assert_client_error(&reply);
        assert!(reply.body["detail"].is_string(), "{body} → {}", reply.text);
    }
    let releases = api
        .get(&format!("/v1/apps/{app}/releases"))
        .await
        .status_is(200);
    assert_eq!(releases.body["count"], json!(1), "{}", releases.text);
    let builds = api
        .get(&format!("/v1/apps/{app}/builds"))
        .await
        .status_is(200);
    assert_eq!(builds.body["count"], json!(0), "{}", builds.text);
    assert!(server.containers(Some(&app)).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_app_id_gets_409() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = api.create_app("twice").await;
    let again = api
        .post("/v1/apps", &json!({ "id": app }))
        .await
        .status_is(409);
    assert!(again.body["detail"].is_string(), "{}", again.text);

    // Also when someone else asks for it.
    let (other, _) = Api::sign_up(&server.url, &unique_username("other")).await;
    other
        .post("/v1/apps", &json!({ "id": app }))
        .await
        .status_is(409);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_fields_on_other_app_routes_get_4xx_never_5xx() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = api.create_app("fields").await;
    api.deploy_sleeper(&app).await;
    let a = format!("/v1/apps/{app}");
    let posts = [
        (format!("{a}/releases/rollback"), json!({"version": 999})),
        (format!("{a}/releases/rollback"), json!({"version": 0})),
        (format!("{a}/releases/rollback"), json!({"version": -3})),
        (format!("{a}/releases/rollback"), json!({"version": "two"})),
        // v1 has no build: nothing could run.
        (format!("{a}/releases/rollback"), json!({"version": 1})),
        (format!("{a}/config"), json!({"values": {"1BAD": "x"}})),
        (format!("{a}/config"), json!({"values": {"BAD-NAME": "x"}})),
        (format!("{a}/config"), json!({"values": 7})),
        (format!("{a}/config"), json!({"values": "{not json"})),
        (format!("{a}/config"), json!({"memory": {"web": "lots"}})),
        (format!("{a}/config"), json!({"cpu": {"web": "many"}})),
        (format!("{a}/run"), json!({"command": ""})),
        (format!("{a}/run"), json!({"command": 5})),
        (format!("{a}/run"), json!({})),
        (format!("{a}/domains"), json!({"domain": "not a domain"})),
        (format!("{a}/domains"), json!({})),
        (format!("{a}/perms"), json!({"username": "nobody-here"})),
    ];
    let mut wrong = Vec::new();
    for (path, body) in &posts {
        let reply = api.post(path, body).await;
        if !(400..500).contains(&reply.status) {
            wrong.push(format!(
                "{} {body} → {} {}",
                reply.what, reply.status, reply.text
            ));
        }
    }
    for path in [
        format!("{a}/logs?log_lines=abc"),
        format!("{a}/logs?log_lines=0"),
        format!("{a}/releases/v999"),
        format!("{a}/releases/latest"),
        format!("{a}/containers/worker"),
    ] {
        let reply = api.get(&path).await;
        if !(400..500).contains(&reply.status) && reply.status != 200 {
            wrong.push(format!("{} → {} {}", reply.what, reply.status, reply.text));
        }
    }
    for path in [
        format!("{a}/containers/web/abc/restart"),
        format!("{a}/containers/web/99/restart"),
        format!("{a}/containers/worker/restart"),
    ] {
        let reply = api.post(&path, &json!({})).await;
        if !(400..500).contains(&reply.status) {
            wrong.push(format!("{} → {} {}", reply.what, reply.status, reply.text));
        }
    }
    assert!(wrong.is_empty(), "want 4xx:\n{}", wrong.join("\n"));

    // Nothing of that made a release or touched the running container.
    let releases = api.get(&format!("{a}/releases")).await.status_is(200);
    assert_eq!(releases.body["count"], json!(2), "{}", releases.text);
    exactly_running_web(&server.containers(Some(&app)), &app, 1)
        .unwrap_or_else(|e| panic!("refused requests changed the containers: {e}"));
}
