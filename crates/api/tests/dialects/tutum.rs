//! Tutum v1 at `/api/v1`: bare objects, `{meta, objects}` lists and
//! `{"error": …}` errors; credentials as `ApiKey user:key`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{IMAGE, TestApp};

fn api_key(user: &str, token: &str) -> String {
    format!("{user}:{token}")
}

/// An application as Tutum renders it; `live` holds the fields that change
/// while the engine converges.
fn application_shape(name: &str, live: Value) -> Value {
    let mut shape = json!({
        "autodestroy": "OFF", "autoreplace": "OFF", "autorestart": "OFF",
        "container_envvars": [], "container_ports": [], "container_size": "XS",
        "deployed_datetime": "<string>", "destroyed_datetime": null, "entrypoint": "",
        "image_name": IMAGE, "image_tag": "/api/v1/image/busybox/tag/latest/",
        "link_variables": {format!("{}_TUTUM_API_URL", name.to_uppercase()): "<string>"},
        "linked_from_application": [], "linked_to_application": [],
        "name": name, "resource_uri": "<string>", "roles": [], "run_command": "",
        "sequential_deployment": false, "stopped_datetime": null,
        "target_num_containers": 1, "unique_name": name, "uuid": "<uuid>",
        "web_public_dns": format!("{name}.berth.local"),
    });
    for (key, value) in live.as_object().into_iter().flatten() {
        shape[key] = value.clone();
    }
    shape
}

async fn create_web(app: &TestApp, key: &str) -> String {
    let created = app
        .call(Method::POST, "/api/v1/application/")
        .auth("ApiKey", key)
        .json(&json!({"image": IMAGE, "name": "web"}))
        .send()
        .await
        .is(
            StatusCode::ACCEPTED,
            application_shape(
                "web",
                json!({"containers": "<any>", "current_num_containers": "<any>",
                       "running_num_containers": "<any>", "started_datetime": "<any>",
                       "state": "<any>", "stopped_num_containers": "<any>"}),
            ),
        );
    let uuid = created.body["uuid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        created.body["resource_uri"],
        json!(format!("/api/v1/application/{uuid}/"))
    );
    uuid
}

#[tokio::test]
async fn lists_and_creates_applications() {
    let app = TestApp::start().await;
    let key = api_key("alice", &app.sign_up("alice").await);
    app.call(Method::GET, "/api/v1/application")
        .auth("ApiKey", &key)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"meta": {"limit": 25, "next": null, "offset": 0, "previous": null,
                            "total_count": 0}, "objects": []}),
        );
    create_web(&app, &key).await;
    let running = application_shape(
        "web",
        json!({"containers": ["<string>"], "current_num_containers": 1,
               "running_num_containers": 1, "started_datetime": "<string>",
               "state": "Running", "stopped_num_containers": 0}),
    );
    app.eventually(
        || {
            app.call(Method::GET, "/api/v1/application")
                .auth("ApiKey", &key)
        },
        |r| r.body["objects"][0]["state"] == "Running",
    )
    .await
    .is(
        StatusCode::OK,
        json!({"meta": {"limit": 25, "next": null, "offset": 0, "previous": null,
                        "total_count": 1}, "objects": [running]}),
    );
}

#[tokio::test]
async fn refuses_missing_and_bad_credentials() {
    let app = TestApp::start().await;
    app.sign_up("alice").await;
    app.call(Method::GET, "/api/v1/application")
        .send()
        .await
        .is(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Authentication credentials were not provided"}),
        );
    app.call(Method::GET, "/api/v1/application")
        .auth("ApiKey", "alice:not-a-key")
        .send()
        .await
        .is(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Invalid username/apikey or password"}),
        );
    app.call(Method::GET, "/api/v1/application")
        .auth("Digest", "alice")
        .send()
        .await
        .is(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Unsupported authorization scheme"}),
        );
}

#[tokio::test]
async fn refuses_malformed_bodies_and_other_media_types() {
    let app = TestApp::start().await;
    let key = api_key("alice", &app.sign_up("alice").await);
    app.call(Method::POST, "/api/v1/application")
        .auth("ApiKey", &key)
        .raw("application/json", "{nope")
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"error": "JSON parse error - key must be a string at line 1 column 2"}),
        );
    app.call(Method::POST, "/api/v1/application")
        .auth("ApiKey", &key)
        .json(&json!({"name": "web"}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"error": "image: This field is required."}),
        );
    app.call(Method::GET, "/api/v1/application")
        .auth("ApiKey", &key)
        .header("accept", "text/html")
        .send()
        .await
        .is(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"error": "only application/json is supported"}),
        );
}

#[tokio::test]
async fn hides_missing_and_foreign_applications_alike() {
    let app = TestApp::start().await;
    let alice = api_key("alice", &app.sign_up("alice").await);
    let bob = api_key("bob", &app.sign_up("bob").await);
    let uuid = create_web(&app, &alice).await;
    app.call(Method::GET, "/api/v1/application/not-a-uuid")
        .auth("ApiKey", &alice)
        .send()
        .await
        .is(
            StatusCode::NOT_FOUND,
            json!({"error": "application not-a-uuid not found"}),
        );
    for method in [Method::GET, Method::DELETE] {
        app.call(method, &format!("/api/v1/application/{uuid}/"))
            .auth("ApiKey", &bob)
            .send()
            .await
            .is(
                StatusCode::NOT_FOUND,
                json!({"error": format!("application {uuid} not found")}),
            );
    }
    app.call(Method::GET, "/api/v1/nothing")
        .auth("ApiKey", &alice)
        .send()
        .await
        .is(StatusCode::NOT_FOUND, json!({"error": "Not found"}));
}

#[tokio::test]
async fn a_wrong_method_is_405_with_no_body() {
    let app = TestApp::start().await;
    let key = api_key("alice", &app.sign_up("alice").await);
    let reply = app
        .call(Method::PUT, "/api/v1/application")
        .auth("ApiKey", &key)
        .send()
        .await
        .status_is(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.text, "");
}

#[tokio::test]
async fn keeps_the_given_name_and_links_as_tutum_wrote_them() {
    let app = TestApp::start().await;
    let key = api_key("alice", &app.sign_up("alice").await);
    let created = app
        .call(Method::POST, "/api/v1/application/")
        .auth("ApiKey", &key)
        .json(&json!({"image_tag": "/api/v1/image/busybox/tag/latest/", "name": "My Web App"}))
        .send()
        .await
        .status_is(StatusCode::ACCEPTED);
    let uuid = created.body["uuid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(created.body["name"], "My Web App");
    assert_eq!(created.body["unique_name"], "my-web-app");
    assert_eq!(
        created.body["link_variables"]["MY-WEB-APP_TUTUM_API_URL"],
        json!(format!("http://localhost/api/v1/application/{uuid}/"))
    );
    // Without a name, the name is the image's, without its tag.
    let unnamed = app
        .call(Method::POST, "/api/v1/application/")
        .auth("ApiKey", &key)
        .json(&json!({"image": IMAGE}))
        .send()
        .await
        .status_is(StatusCode::ACCEPTED);
    assert_eq!(unnamed.body["name"], "busybox");
    // The list filters on the name as given.
    let listed = app
        .call(Method::GET, "/api/v1/application/?name=My%20Web%20App")
        .auth("ApiKey", &key)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(listed.body["meta"]["total_count"], 1);
    // Its containers carry the name and the application's web DNS name.
    let container = app
        .eventually(
            || {
                app.call(
                    Method::GET,
                    "/api/v1/container/?application__unique_name=my-web-app",
                )
                .auth("ApiKey", &key)
            },
            |r| r.body["meta"]["total_count"] == 1,
        )
        .await;
    let c = &container.body["objects"][0];
    assert_eq!(c["name"], "My Web App");
    assert_eq!(c["unique_name"], "my-web-app-1");
    assert_eq!(c["web_public_dns"], "my-web-app.berth.local");
}

#[tokio::test]
async fn image_tag_links_resolve() {
    let app = TestApp::start().await;
    let key = api_key("alice", &app.sign_up("alice").await);
    let uuid = create_web(&app, &key).await;
    let detail = app
        .call(Method::GET, &format!("/api/v1/application/{uuid}/"))
        .auth("ApiKey", &key)
        .send()
        .await
        .status_is(StatusCode::OK);
    let tag_uri = detail.body["image_tag"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(tag_uri, "/api/v1/image/busybox/tag/latest/");
    app.call(Method::GET, &tag_uri)
        .auth("ApiKey", &key)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"full_name": "busybox:latest", "image": "/api/v1/image/busybox/",
                   "name": "latest", "resource_uri": "/api/v1/image/busybox/tag/latest/"}),
        );
    app.call(Method::GET, "/api/v1/image/busybox/")
        .auth("ApiKey", &key)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"description": "", "imagetag_set": ["/api/v1/image/busybox/tag/latest/"],
                   "is_private_image": false, "name": "busybox",
                   "resource_uri": "/api/v1/image/busybox/", "starred": false}),
        );
    // The engine's name for busybox is docker.io/library/busybox too.
    app.call(Method::GET, "/api/v1/image/library/busybox/tag/latest/")
        .auth("ApiKey", &key)
        .send()
        .await
        .status_is(StatusCode::OK);
    for missing in [
        "/api/v1/image/busybox/tag/nope/",
        "/api/v1/image/tutum/mysql/tag/latest/",
        "/api/v1/image/Not%20An%20Image/",
    ] {
        app.call(Method::GET, missing)
            .auth("ApiKey", &key)
            .send()
            .await
            .status_is(StatusCode::NOT_FOUND);
    }
    app.call(Method::GET, &tag_uri)
        .send()
        .await
        .status_is(StatusCode::UNAUTHORIZED);
}

/// Every answer's fields come in name order, byte for byte as a JSON
/// object with sorted keys writes them: the wire the views had when they
/// were built as `serde_json` maps.
#[tokio::test]
async fn answers_keep_their_fields_in_name_order() {
    let app = TestApp::start().await;
    let key = api_key("alice", &app.sign_up("alice").await);
    let created = app
        .call(Method::POST, "/api/v1/application/")
        .auth("ApiKey", &key)
        .json(&json!({
            "image": IMAGE, "name": "web", "target_num_containers": 2,
            "container_envvars": [{"key": "B", "value": "2"}, {"key": "A", "value": 1}],
            "container_ports": [{"inner_port": 80, "protocol": "tcp"}],
        }))
        .send()
        .await
        .status_is(StatusCode::ACCEPTED);
    let uuid = created.body["uuid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let containers = app
        .eventually(
            || {
                app.call(Method::GET, "/api/v1/container/?limit=1")
                    .auth("ApiKey", &key)
            },
            |r| r.body["meta"]["total_count"] == 2,
        )
        .await;
    let container = containers.body["objects"][0]["uuid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut replies = vec![created, containers];
    for path in [
        format!("/api/v1/application/{uuid}/"),
        "/api/v1/application/?limit=1&offset=0".to_string(),
        format!("/api/v1/application/{uuid}/logs/"),
        format!("/api/v1/container/{container}/"),
        format!("/api/v1/container/{container}/logs/"),
        "/api/v1/auth/".to_string(),
        "/api/v1/image/busybox/".to_string(),
        "/api/v1/image/busybox/tag/latest/".to_string(),
        "/api/v1/application/not-a-uuid/".to_string(),
    ] {
        replies.push(
            app.call(Method::GET, &path)
                .auth("ApiKey", &key)
                .send()
                .await,
        );
    }
    for path in [
        format!("/api/v1/container/{container}/"),
        format!("/api/v1/application/{uuid}/"),
    ] {
        let reply = app
            .call(Method::DELETE, &path)
            .auth("ApiKey", &key)
            .send()
            .await;
        replies.push(reply.status_is(StatusCode::ACCEPTED));
    }
    replies.push(
        app.call(Method::GET, &format!("/api/v1/application/?uuid={uuid}"))
            .auth("ApiKey", &key)
            .send()
            .await,
    );
    replies.push(
        app.call(Method::POST, "/api/v1/register/")
            .json(&json!({"username": "bob"}))
            .send()
            .await,
    );
    for reply in replies {
        let sorted = serde_json::to_string(&reply.body).unwrap_or_default();
        assert_eq!(
            reply.text, sorted,
            "{} answered fields out of order",
            reply.what
        );
    }
}

/// An offset past any list is an empty page, not an overflow.
#[tokio::test]
async fn an_offset_past_every_list_is_an_empty_page() {
    let app = TestApp::start().await;
    let key = api_key("alice", &app.sign_up("alice").await);
    create_web(&app, &key).await;
    for list in ["application", "container"] {
        let path = format!("/api/v1/{list}/?offset={}", usize::MAX);
        let page = app
            .call(Method::GET, &path)
            .auth("ApiKey", &key)
            .send()
            .await
            .status_is(StatusCode::OK);
        assert_eq!(page.body["objects"], json!([]), "{path}");
        assert_eq!(page.body["meta"]["next"], Value::Null, "{path}");
    }
}
