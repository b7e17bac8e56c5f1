//! An app's life through the Deis v1 API, checked against what Docker runs.

use serde_json::{Value, json};

use crate::harness::{Api, Server, exactly_running_web, rows_match_docker, unique_username};

#[tokio::test(flavor = "multi_thread")]
async fn first_user_is_superuser_and_later_users_are_not() {
    let server = Server::start().await;
    let first = unique_username("first");
    let (_, first_user) = Api::sign_up(&server.url, &first).await;
    assert_eq!(first_user["username"], json!(first));
    assert_eq!(first_user["is_superuser"], json!(true), "{first_user}");

    let (_, second_user) = Api::sign_up(&server.url, &unique_username("second")).await;
    assert_eq!(second_user["is_superuser"], json!(false), "{second_user}");

    let wrong = Api::new(&server.url)
        .post(
            "/v1/auth/login/",
            &json!({"username": first, "password": "not-the-password"}),
        )
        .await;
    assert_ne!(
        wrong.status, 200,
        "a wrong password logged in: {}",
        wrong.text
    );
    assert!(wrong.status < 500, "{} {}", wrong.status, wrong.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_values_are_accepted_as_json_encoded_string_and_as_object() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("cfg")).await;
    let app = api.create_app("cfg").await;
    let path = format!("/v1/apps/{app}/config");

    // The Deis CLI sends `values` as a string holding JSON.
    let as_string = api
        .post(&path, &json!({"values": "{\"FOO\": \"bar\"}"}))
        .await
        .status_is(201);
    assert_eq!(as_string.header("Deis-Release"), Some("2"), "{as_string:?}");
    assert_eq!(
        as_string.body["values"]["FOO"],
        json!("bar"),
        "{}",
        as_string.text
    );

    let as_object = api
        .post(&path, &json!({"values": {"BAR": "baz"}}))
        .await
        .status_is(201);
    assert_eq!(as_object.header("Deis-Release"), Some("3"), "{as_object:?}");
    assert_eq!(
        as_object.body["values"]["FOO"],
        json!("bar"),
        "{}",
        as_object.text
    );
    assert_eq!(
        as_object.body["values"]["BAR"],
        json!("baz"),
        "{}",
        as_object.text
    );

    // null unsets, in either form.
    api.post(&path, &json!({"values": "{\"FOO\": null}"}))
        .await
        .status_is(201);
    let unset = api
        .post(&path, &json!({"values": {"BAR": null}}))
        .await
        .status_is(201);
    assert_eq!(unset.header("Deis-Release"), Some("5"), "{unset:?}");

    let listed = api.get(&path).await.status_is(200);
    let values = listed.body["values"]
        .as_object()
        .expect("values is an object");
    assert!(
        !values.contains_key("FOO") && !values.contains_key("BAR"),
        "unset keys remain: {}",
        listed.text
    );
    let releases = api
        .get(&format!("/v1/apps/{app}/releases"))
        .await
        .status_is(200);
    assert_eq!(releases.body["count"], json!(5), "{}", releases.text);
}

/// Register, create, configure, build, scale up and down, change config,
/// roll back, run, read logs and destroy: Docker must follow every step.
#[tokio::test(flavor = "multi_thread")]
async fn app_lifecycle_drives_docker_from_build_to_destroy() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = api.create_app("life").await;
    let app_path = format!("/v1/apps/{app}");

    let detail = api.get(&app_path).await.status_is(200);
    for field in [
        "id",
        "owner",
        "url",
        "uuid",
        "created",
        "updated",
        "structure",
    ] {
        assert!(
            detail.body.get(field).is_some(),
            "app detail lacks {field}: {}",
            detail.text
        );
    }

    // v2: config, before any build.
    api.post(
        &format!("{app_path}/config"),
        &json!({"values": "{\"FOO\": \"bar\"}"}),
    )
    .await
    .status_is(201);

    // v3: the build; a first build with a web type starts web=1.
    let build = api.deploy_sleeper(&app).await;
    assert_eq!(build.header("Deis-Release"), Some("3"), "{build:?}");
    assert_eq!(
        build.body["image"],
        json!("busybox:latest"),
        "{}",
        build.text
    );
    assert_eq!(
        build.body["procfile"],
        json!({"web": "sleep 3600"}),
        "{}",
        build.text
    );

    api.scale_web(&app, 3).await;
    let three = server.containers(Some(&app));
    exactly_running_web(&three, &app, 3).unwrap_or_else(|e| panic!("after scale web=3: {e}"));
    for c in &three {
        assert_eq!(c.label("berth.server"), server.server_id, "{c:?}");
        assert_eq!(c.label("berth.release"), "3", "{c:?}");
        assert!(!c.label("berth.instance").is_empty(), "{c:?}");
        assert_eq!(c.env_var("FOO"), Some("bar"), "{c:?}");
        assert_eq!(c.env_var("DEIS_APP"), Some(app.as_str()), "{c:?}");
        assert_eq!(c.env_var("DEIS_RELEASE"), Some("v3"), "{c:?}");
    }
    rows_match_docker(&api, &app, &three)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let listed = api
        .get(&format!("{app_path}/containers"))
        .await
        .status_is(200);
    assert_containers_list_shape(&listed.body, &app);
    let web_only = api
        .get(&format!("{app_path}/containers/web"))
        .await
        .status_is(200);
    assert_eq!(web_only.body["count"], json!(3), "{}", web_only.text);

    // Scaling down removes the highest numbers and keeps web.1 as it was.
    api.scale_web(&app, 1).await;
    let one = server.containers(Some(&app));
    exactly_running_web(&one, &app, 1).unwrap_or_else(|e| panic!("after scale web=1: {e}"));
    let web1 = three.iter().find(|c| c.num() == 1).expect("web.1 existed");
    assert_eq!(one[0].id, web1.id, "scaling down replaced web.1");

    // v4: a config change replaces the container with one of the new release.
    let changed = api
        .post(
            &format!("{app_path}/config"),
            &json!({"values": {"FOO": "baz"}}),
        )
        .await
        .status_is(201);
    assert_eq!(changed.header("Deis-Release"), Some("4"), "{changed:?}");
    let v4 = server.containers(Some(&app));
    exactly_running_web(&v4, &app, 1).unwrap_or_else(|e| panic!("after config change: {e}"));
    assert_ne!(
        v4[0].id, web1.id,
        "the config change kept the old container"
    );
    assert_eq!(v4[0].label("berth.release"), "4", "{:?}", v4[0]);
    assert_eq!(v4[0].env_var("FOO"), Some("baz"), "{:?}", v4[0]);
    assert_eq!(v4[0].env_var("DEIS_RELEASE"), Some("v4"), "{:?}", v4[0]);

    // v5: rolling back to v3 brings v3's config back in a new release.
    let rollback = api
        .post(
            &format!("{app_path}/releases/rollback"),
            &json!({"version": 3}),
        )
        .await
        .status_is(201);
    assert_eq!(rollback.body, json!({"version": 5}), "{}", rollback.text);
    let v5 = server.containers(Some(&app));
    exactly_running_web(&v5, &app, 1).unwrap_or_else(|e| panic!("after rollback: {e}"));
    assert_eq!(v5[0].label("berth.release"), "5", "{:?}", v5[0]);
    assert_eq!(v5[0].env_var("FOO"), Some("bar"), "{:?}", v5[0]);
    rows_match_docker(&api, &app, &v5)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let releases = api
        .get(&format!("{app_path}/releases"))
        .await
        .status_is(200);
    assert_eq!(releases.body["count"], json!(5), "{}", releases.text);
    let versions: Vec<i64> = releases.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["version"].as_i64().expect("version is an int"))
        .collect();
    assert_eq!(versions, [5, 4, 3, 2, 1], "{}", releases.text);
    for r in releases.body["results"].as_array().into_iter().flatten() {
        let created = r["created"].as_str().unwrap_or_default();
        assert!(
            created.ends_with('Z') || created.ends_with("+00:00") || created.ends_with("UTC"),
            "release created has no timezone: {created}"
        );
    }
    let v3 = api
        .get(&format!("{app_path}/releases/v3"))
        .await
        .status_is(200);
    assert_eq!(v3.body["version"], json!(3), "{}", v3.text);

    // run: [rc, output] in a one-off container with the release's config.
    let run = api
        .post(
            &format!("{app_path}/run"),
            &json!({"command": "echo hello-$FOO"}),
        )
        .await
        .status_is(200);
    assert_eq!(run.body[0], json!(0), "{}", run.text);
    let output = run.body[1].as_str().unwrap_or_default();
    assert!(output.contains("hello-bar"), "run output: {}", run.text);
    assert_eq!(run.body.as_array().map(Vec::len), Some(2), "{}", run.text);
    let failing = api
        .post(&format!("{app_path}/run"), &json!({"command": "exit 3"}))
        .await
        .status_is(200);
    assert_eq!(failing.body[0], json!(3), "{}", failing.text);
    let after_runs = server.containers(Some(&app));
    exactly_running_web(&after_runs, &app, 1)
        .unwrap_or_else(|e| panic!("run left a container behind: {e}"));

    // logs: one JSON string of lines, each ending in \n.
    let logs = api.get(&format!("{app_path}/logs")).await.status_is(200);
    let text = logs
        .body
        .as_str()
        .unwrap_or_else(|| panic!("logs are not a JSON string: {}", logs.text));
    assert!(text.ends_with('\n'), "logs do not end in \\n: {text:?}");
    assert!(text.contains("created initial release"), "{text}");
    assert!(text.contains("rolled back to v3"), "{text}");

    api.delete(&app_path).await.status_is(204);
    let left = server.containers(Some(&app));
    assert!(left.is_empty(), "destroy left containers: {left:#?}");
    api.get(&app_path).await.status_is(404);
    api.get(&format!("{app_path}/containers"))
        .await
        .status_is(404);
    let apps = api.get("/v1/apps").await.status_is(200);
    assert_eq!(apps.body["count"], json!(0), "{}", apps.text);
}

/// What `deis ps` reads from a container listing.
fn assert_containers_list_shape(body: &Value, app: &str) {
    assert!(body["count"].is_u64(), "{body}");
    assert!(
        body.get("next").is_some() && body.get("previous").is_some(),
        "{body}"
    );
    let results = body["results"].as_array().expect("results is a list");
    assert_eq!(body["count"], json!(results.len()), "{body}");
    for c in results {
        assert_eq!(c["app"], json!(app), "{c}");
        assert_eq!(c["type"], json!("web"), "{c}");
        assert!(c["num"].is_u64(), "num is not an int: {c}");
        assert_eq!(c["state"], json!("up"), "{c}");
        assert_eq!(c["release"], json!("v3"), "{c}");
        for field in ["owner", "uuid", "created", "updated"] {
            assert!(c[field].is_string(), "container lacks {field}: {c}");
        }
    }
}
