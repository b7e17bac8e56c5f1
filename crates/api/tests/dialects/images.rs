//! Who may build over, see and run images (security review findings 1, 2,
//! 3 and 5): a tag belongs to the user whose build made it, a private
//! build is invisible and unusable to others, and builds reach public
//! sources only. Builds clone real git repositories made in a temp dir;
//! the in-memory engine "builds" them.

use std::path::Path;
use std::process::Command;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::app::{IMAGE, TestApp};

/// A git repository on this host holding `dockerfile`.
fn repository(dockerfile: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("cannot make a temp dir");
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("cannot write a Dockerfile");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git is needed for builds");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "build me"]);
    dir
}

async fn local_sources_app() -> TestApp {
    TestApp::start_with(|s| s.build_allow_local_sources = true).await
}

fn path_of(repo: &TempDir) -> &str {
    repo.path().to_str().expect("a UTF-8 temp path")
}

async fn submit(app: &TestApp, token: &str, body: Value) -> crate::app::Reply {
    app.call(Method::POST, "/api/v2/containers/build")
        .auth("Bearer", token)
        .json(&body)
        .send()
        .await
}

/// Builds `name:tag` from `repo` as `token`'s user and waits for its end;
/// returns the task.
async fn build(app: &TestApp, token: &str, name: &str, tag: &str, repo: &Path) -> Value {
    let reply = submit(
        app,
        token,
        json!({"image_name": name, "tag": tag, "github_repository": repo.to_str()}),
    )
    .await
    .status_is(StatusCode::OK);
    let id = reply.body["data"]["task_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no task id: {}", reply.text))
        .to_string();
    let done = app
        .eventually(
            || {
                app.call(Method::GET, &format!("/api/v2/tasks/{id}"))
                    .auth("Bearer", token)
            },
            |r| {
                matches!(
                    r.body["data"]["state"].as_str(),
                    Some("completed" | "error" | "cancelled")
                )
            },
        )
        .await;
    done.body["data"].clone()
}

fn forbidden(reply: &crate::app::Reply) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert_eq!(reply.body["code"], json!(403), "{}", reply.text);
    assert!(reply.body.get("data").is_none(), "{}", reply.text);
}

#[tokio::test]
async fn only_the_builder_of_a_tag_may_build_it_again() {
    let app = local_sources_app().await;
    let bob = app.sign_up("bob").await;
    let mallory = app.sign_up("mallory").await;
    let repo = repository("FROM busybox:latest\nRUN echo hello\n");
    let done = build(&app, &bob, "shop", "v1", repo.path()).await;
    assert_eq!(done["state"], json!("completed"), "{done}");

    // A catalog version naming bob's tag grants mallory nothing.
    app.call(Method::POST, "/api/v2/containers")
        .auth("Bearer", &mallory)
        .json(
            &json!({"name": "s", "type": 0, "version": {"name": "1.0.0", "image_ref": "shop:v1"}}),
        )
        .send()
        .await
        .status_is(StatusCode::CREATED);
    for (name, tag) in [
        ("shop", "v1"),
        ("docker.io/library/shop", "v1"),
        ("busybox", "latest"),
    ] {
        let body = json!({"image_name": name, "tag": tag, "github_repository": path_of(&repo)});
        forbidden(&submit(&app, &mallory, body).await);
    }
    // Bob rebuilds his own tag.
    let again = build(&app, &bob, "shop", "v1", repo.path()).await;
    assert_eq!(again["state"], json!("completed"), "{again}");
    // A tag claimed by a build nobody else has seen yet is bob's too.
    let body = json!({"image_name": "shop", "tag": "v2", "github_repository": path_of(&repo)});
    submit(&app, &bob, body.clone())
        .await
        .status_is(StatusCode::OK);
    forbidden(&submit(&app, &mallory, body).await);
}

async fn images_listed(app: &TestApp, token: &str) -> (Vec<String>, Vec<String>) {
    let pods = app
        .call(Method::GET, "/v3/pods/images")
        .header("x-tapis-token", token)
        .send()
        .await
        .status_is(StatusCode::OK);
    let nds = app
        .call(Method::GET, "/list_images")
        .auth("Bearer", token)
        .send()
        .await
        .status_is(StatusCode::OK);
    let pod_images = pods.body["result"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["image"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    let nds_images = nds
        .body
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    format!(
                        "{}:{}",
                        i["image_name"].as_str().unwrap_or_default(),
                        i["image_tag"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (pod_images, nds_images)
}

#[tokio::test]
async fn a_private_build_is_invisible_and_unusable_to_others() {
    let app = local_sources_app().await;
    let mallory = app.sign_up("mallory").await;
    let bob = app.sign_up("bob").await;
    let repo = repository("FROM busybox:latest\nCOPY Dockerfile /secret\n");
    let done = build(&app, &mallory, "secret-tool", "1.0.0", repo.path()).await;
    assert_eq!(done["state"], json!("completed"), "{done}");
    let image = "secret-tool:1.0.0";

    let (pods, nds) = images_listed(&app, &mallory).await;
    assert!(pods.iter().any(|i| i == image), "{pods:?}");
    assert!(nds.iter().any(|i| i == image), "{nds:?}");
    let (pods, nds) = images_listed(&app, &bob).await;
    assert!(!pods.iter().any(|i| i == image), "{pods:?}");
    assert!(!nds.iter().any(|i| i == image), "{nds:?}");
    // Base images stay visible to everyone.
    assert!(pods.iter().any(|i| i == IMAGE), "{pods:?}");
    assert!(nds.iter().any(|i| i == IMAGE), "{nds:?}");

    // Bob cannot run it: Deis, Tapis, NDS, Tutum.
    app.call(Method::POST, "/v1/apps")
        .auth("token", &bob)
        .json(&json!({"id": "b"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    for spelling in [image, "docker.io/library/secret-tool:1.0.0"] {
        app.call(Method::POST, "/v1/apps/b/builds")
            .auth("token", &bob)
            .json(&json!({"image": spelling}))
            .send()
            .await
            .status_is(StatusCode::BAD_REQUEST);
    }
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &bob)
        .json(&json!({"pod_id": "bobpod", "image": image}))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);
    app.call(Method::POST, "/upload")
        .auth("Bearer", &bob)
        .json(&json!({"script": "cat /secret", "image_name": "secret-tool", "image_tag": "1.0.0"}))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);

    // Once mallory makes its repository public, bob may use it.
    let repo_id = done["result"]["container_id"]
        .as_i64()
        .expect("a container id");
    app.call(Method::PATCH, &format!("/api/v2/containers/{repo_id}"))
        .auth("Bearer", &mallory)
        .json(&json!({"is_public": true}))
        .send()
        .await
        .status_is(StatusCode::OK);
    let (pods, _) = images_listed(&app, &bob).await;
    assert!(pods.iter().any(|i| i == image), "{pods:?}");
    app.call(Method::POST, "/v1/apps/b/builds")
        .auth("token", &bob)
        .json(&json!({"image": image}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
}

#[tokio::test]
async fn builds_from_this_host_or_private_addresses_are_refused() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let repo = repository("FROM busybox:latest\n");
    let file_url = format!("file://{}", path_of(&repo));
    for source in [
        path_of(&repo),
        file_url.as_str(),
        "http://127.0.0.1:18500/repo.git",
        "https://localhost/repo.git",
        "git://[::1]/repo.git",
        "https://169.254.169.254/latest",
        "http://10.0.0.8/repo.git",
    ] {
        let reply = submit(
            &app,
            &alice,
            json!({"image_name": "mine", "tag": "v1", "github_repository": source}),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{source}: {}",
            reply.text
        );
        assert_eq!(reply.body["code"], json!(400), "{}", reply.text);
    }
}

#[tokio::test]
async fn a_dockerfile_adding_from_loopback_is_refused() {
    let app = local_sources_app().await;
    let alice = app.sign_up("alice").await;
    let repo =
        repository("FROM busybox:latest\nADD http://127.0.0.1:18500/healthz /loopback.txt\n");
    let done = build(&app, &alice, "fetcher", "v1", repo.path()).await;
    assert_eq!(done["state"], json!("error"), "{done}");
    let error = done["result"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("127.0.0.1"), "{done}");
    // Nothing was built, so the engine has no such image.
    let (pods, _) = images_listed(&app, &alice).await;
    assert!(!pods.iter().any(|i| i == "fetcher:v1"), "{pods:?}");
}
