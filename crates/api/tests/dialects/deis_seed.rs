//! Deis Controller API v1.0 as its document shows it, example by example:
//! each request as the seed sends it and each answer's fields as the seed
//! lists them, plus the few Berth adds (noted where they appear).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{IMAGE, PASSWORD, TestApp};

/// The seed's paged list envelope around `results`.
fn page(results: Vec<Value>) -> Value {
    json!({"count": results.len(), "next": null, "previous": null, "results": results})
}

fn app_shape(id: &str) -> Value {
    json!({
        "created": "<deis-timestamp>", "id": id, "owner": "test", "structure": {},
        "updated": "<deis-timestamp>", "url": format!("{id}.berth.local"), "uuid": "<uuid>",
    })
}

fn config_shape(values: Value) -> Value {
    json!({
        "owner": "test", "app": "example-go", "values": values,
        "memory": {}, "cpu": {}, "tags": {},
        "created": "<deis-timestamp>", "updated": "<deis-timestamp>", "uuid": "<uuid>",
    })
}

fn release_shape(version: i64, build: &str, summary: &str) -> Value {
    json!({
        "app": "example-go", "build": build, "config": "<uuid>", "created": "<deis-timestamp>",
        "owner": "test", "summary": summary, "updated": "<deis-timestamp>", "uuid": "<uuid>",
        "version": version,
    })
}

/// Registers `test` with every optional field, logs in, and returns the token.
async fn register_test_user(app: &TestApp) -> String {
    let user = app
        .call(Method::POST, "/v1/auth/register/")
        .json(&json!({
            "username": "test", "password": PASSWORD,
            "email": "test@example.com", "first_name": "test", "last_name": "testerson",
        }))
        .send()
        .await
        .is(
            StatusCode::CREATED,
            json!({
                "id": "<int>", "last_login": "<timestamp>", "is_superuser": false,
                "username": "test", "first_name": "test", "last_name": "testerson",
                "email": "test@example.com", "is_staff": false, "is_active": true,
                "date_joined": "<timestamp>", "groups": [], "user_permissions": [],
            }),
        );
    // The seed writes user times with milliseconds and a `Z`.
    for field in ["last_login", "date_joined"] {
        let text = user.body[field].as_str().unwrap_or_default();
        assert!(
            text.len() == 24 && text.ends_with('Z') && text.as_bytes()[19] == b'.',
            "{field}: {text}"
        );
    }
    let login = app
        .call(Method::POST, "/v1/auth/login/")
        .json(&json!({"username": "test", "password": PASSWORD}))
        .send()
        .await
        .is(StatusCode::OK, json!({"token": "<string>"}));
    login.body["token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn register_keeps_the_optional_names() {
    let app = TestApp::start().await;
    register_test_user(&app).await;
    let bare = app
        .call(Method::POST, "/v1/auth/register/")
        .json(&json!({"username": "plain", "password": PASSWORD}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    assert_eq!(
        (
            &bare.body["first_name"],
            &bare.body["last_name"],
            &bare.body["email"]
        ),
        (&json!(""), &json!(""), &json!(""))
    );
    app.call(Method::POST, "/v1/auth/register/")
        .json(&json!({"username": "long", "password": PASSWORD, "last_name": "x".repeat(151)}))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);
    // Administrators see the names in the user list too.
    let admin = app.sign_up("root").await;
    app.berth
        .set_admin(
            &app.store()
                .user_by_name("administrator")
                .await
                .unwrap()
                .unwrap(),
            "root",
            true,
        )
        .await
        .expect("cannot make root an administrator");
    let users = app
        .call(Method::GET, "/v1/users/")
        .auth("token", &admin)
        .send()
        .await
        .status_is(StatusCode::OK);
    let test = users.body["results"]
        .as_array()
        .and_then(|all| all.iter().find(|u| u["username"] == "test"))
        .cloned()
        .expect("the user list has test");
    assert_eq!(
        (&test["first_name"], &test["last_name"]),
        (&json!("test"), &json!("testerson"))
    );
}

#[tokio::test]
async fn every_seed_example_answers_in_its_shape() {
    let app = TestApp::start().await;
    let token = register_test_user(&app).await;
    let call = |method: Method, path: &str| app.call(method, path).auth("token", &token);

    // Applications
    call(Method::POST, "/v1/apps/")
        .json(&json!({"id": "example-go"}))
        .send()
        .await
        .is(StatusCode::CREATED, app_shape("example-go"));
    call(Method::GET, "/v1/apps")
        .send()
        .await
        .is(StatusCode::OK, page(vec![app_shape("example-go")]));
    call(Method::GET, "/v1/apps/example-go/")
        .send()
        .await
        .is(StatusCode::OK, app_shape("example-go"));

    // Configuration: a read lists what was set; a change also shows the
    // DEIS_APP and DEIS_RELEASE of the release it made.
    call(Method::GET, "/v1/apps/example-go/config/")
        .send()
        .await
        .is(StatusCode::OK, config_shape(json!({})));
    let set = call(Method::POST, "/v1/apps/example-go/config/")
        .json(&json!({"values": {"HELLO": "world"}}))
        .send()
        .await
        .is(
            StatusCode::CREATED,
            config_shape(json!({"DEIS_APP": "example-go", "DEIS_RELEASE": "v2", "HELLO": "world"})),
        );
    assert_eq!(set.header("x-deis-release"), Some("2"));
    call(Method::GET, "/v1/apps/example-go/config/")
        .send()
        .await
        .is(StatusCode::OK, config_shape(json!({"HELLO": "world"})));
    let unset = call(Method::POST, "/v1/apps/example-go/config/")
        .json(&json!({"values": {"HELLO": null}}))
        .send()
        .await
        .is(
            StatusCode::CREATED,
            config_shape(json!({"DEIS_APP": "example-go", "DEIS_RELEASE": "v3"})),
        );
    assert_eq!(unset.header("x-deis-release"), Some("3"));

    // Builds
    let build_shape = json!({
        "app": "example-go", "created": "<deis-timestamp>", "dockerfile": "", "image": IMAGE,
        "owner": "test", "procfile": {}, "sha": "", "updated": "<deis-timestamp>", "uuid": "<uuid>",
    });
    let build = call(Method::POST, "/v1/apps/example-go/builds/")
        .json(&json!({"image": IMAGE}))
        .send()
        .await
        .is(StatusCode::CREATED, build_shape.clone());
    assert_eq!(build.header("x-deis-release"), Some("4"));
    call(Method::GET, "/v1/apps/example-go/builds/")
        .send()
        .await
        .is(StatusCode::OK, page(vec![build_shape]));

    // Containers (Berth adds `exit_code` and `message`); the image's
    // default process type is `cmd`.
    let container = json!({
        "owner": "test", "app": "example-go", "release": "v4",
        "created": "<deis-timestamp>", "updated": "<deis-timestamp>", "uuid": "<uuid>",
        "type": "cmd", "num": 1, "state": "up", "exit_code": null, "message": null,
    });
    app.eventually(
        || call(Method::GET, "/v1/apps/example-go/containers/"),
        |r| r.body["results"][0]["state"] == "up",
    )
    .await;
    call(Method::GET, "/v1/apps/example-go/containers/")
        .send()
        .await
        .is(StatusCode::OK, page(vec![container.clone()]));
    call(Method::GET, "/v1/apps/example-go/containers/cmd/")
        .send()
        .await
        .is(StatusCode::OK, page(vec![container]));

    // Releases, newest first
    let build_uuid = build.body["uuid"].as_str().unwrap_or_default();
    call(Method::GET, "/v1/apps/example-go/releases/v1/")
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({
                "app": "example-go", "build": null, "config": "<uuid>",
                "created": "<deis-timestamp>", "owner": "test",
                "summary": "test created initial release", "updated": "<deis-timestamp>",
                "uuid": "<uuid>", "version": 1,
            }),
        );
    let releases = call(Method::GET, "/v1/apps/example-go/releases/")
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(releases.body["count"], 4);
    crate::app::assert_shape(
        "the newest release",
        &releases.body["results"][0],
        &release_shape(4, build_uuid, "<string>"),
    );
    // (v1 has no build, so Berth refuses to roll back to it.)
    call(Method::POST, "/v1/apps/example-go/releases/rollback/")
        .json(&json!({"version": 4}))
        .send()
        .await
        .is(StatusCode::CREATED, json!({"version": 5}));

    // Domains
    let domain = json!({
        "app": "example-go", "created": "<deis-timestamp>", "domain": "example.example.com",
        "owner": "test", "updated": "<deis-timestamp>",
    });
    call(Method::POST, "/v1/apps/example-go/domains/")
        .json(&json!({"domain": "example.example.com"}))
        .send()
        .await
        .is(StatusCode::CREATED, domain.clone());
    call(Method::GET, "/v1/apps/example-go/domains/")
        .send()
        .await
        .is(StatusCode::OK, page(vec![domain]));
    call(
        Method::DELETE,
        "/v1/apps/example-go/domains/example.example.com",
    )
    .send()
    .await
    .status_is(StatusCode::NO_CONTENT);

    // Keys (Berth adds the key's `fingerprint`)
    let public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXhHosCbfeGpX67n2FOIgeElkIN/Z007xkA2NHj1sXM test@example.com";
    let key = json!({
        "created": "<deis-timestamp>", "id": "example", "owner": "test", "public": public,
        "updated": "<deis-timestamp>", "uuid": "<uuid>", "fingerprint": "<string>",
    });
    call(Method::POST, "/v1/keys/")
        .json(&json!({"id": "example", "public": public}))
        .send()
        .await
        .is(StatusCode::CREATED, key.clone());
    call(Method::GET, "/v1/keys/")
        .send()
        .await
        .is(StatusCode::OK, page(vec![key]));
    call(Method::DELETE, "/v1/keys/example")
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);

    // Permissions: the seed removes a collaborator with a POST.
    app.sign_up("example").await;
    call(Method::GET, "/v1/apps/example-go/perms/")
        .send()
        .await
        .is(StatusCode::OK, json!({"users": []}));
    call(Method::POST, "/v1/apps/example-go/perms/")
        .json(&json!({"username": "example"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    call(Method::GET, "/v1/apps/example-go/perms/")
        .send()
        .await
        .is(StatusCode::OK, json!({"users": ["example"]}));
    call(Method::POST, "/v1/apps/example-go/perms/example")
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    call(Method::GET, "/v1/apps/example-go/perms/")
        .send()
        .await
        .is(StatusCode::OK, json!({"users": []}));
    call(Method::POST, "/v1/apps/example-go/perms/")
        .json(&json!({"username": "example"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    call(Method::DELETE, "/v1/apps/example-go/perms/example")
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);

    // One-off run, logs, scale, cancel
    call(Method::GET, "/v1/apps/example-go/logs/")
        .send()
        .await
        .status_is(StatusCode::OK);
    call(Method::POST, "/v1/apps/example-go/scale/")
        .json(&json!({"cmd": 0}))
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    call(Method::DELETE, "/v1/apps/example-go/")
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    call(Method::DELETE, "/v1/auth/cancel/")
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
}
