//! RCABench image builds across a server crash.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Api, Server, docker, unique_username, wait_until};

const BUILD_DONE: Duration = Duration::from_secs(180);

/// A git repository whose Dockerfile takes a few seconds to build, so that
/// the server can be killed while the engine is at it.
fn slow_build_repository(dir: &Path) {
    build_repository(
        dir,
        "FROM busybox:latest\nRUN echo building && sleep 4\nCMD [\"true\"]\n",
    );
}

/// A git repository holding `dockerfile`, committed on branch main.
fn build_repository(dir: &Path, dockerfile: &str) {
    std::fs::write(dir.join("Dockerfile"), dockerfile).expect("cannot write the Dockerfile");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=it", "-c", "user.email=it@example.com"])
            .args(args)
            .output()
            .expect("git is needed for builds");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "a build"]);
}

async fn task(api: &Api, id: &str) -> Value {
    api.get(&format!("/api/v2/tasks/{id}"))
        .await
        .status_is(200)
        .body["data"]
        .clone()
}

fn log_has(task: &Value, text: &str) -> bool {
    task["logs"].as_array().is_some_and(|lines| {
        lines
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains(text)))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_interrupted_by_sigkill_runs_again_and_completes_after_restart() {
    // The repository is on this host, which the operator must allow.
    let mut server = Server::start_with_env(&[("BERTH_BUILD_ALLOW_LOCAL_SOURCES", "true")]).await;
    let (mut api, _) = Api::sign_up(&server.url, &unique_username("builder")).await;
    let repo = tempfile::tempdir().expect("cannot make a temp dir");
    slow_build_repository(repo.path());
    let image = format!("berth-it-{}/slow", unique_username("b"));
    let submitted = api
        .post(
            "/api/v2/containers/build",
            &json!({"image_name": image, "tag": "1.0.0",
                    "github_repository": repo.path().to_str()}),
        )
        .await
        .status_is(200);
    let id = submitted.body["data"]["task_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no task id: {}", submitted.text))
        .to_string();

    wait_until(BUILD_DONE, "the engine is building", async || {
        let t = task(&api, &id).await;
        if log_has(&t, "building") {
            Ok(())
        } else {
            Err(t.to_string())
        }
    })
    .await;
    server.restart_killed().await;
    api.base = server.url.clone();

    let done = wait_until(BUILD_DONE, "the build ends", async || {
        let t = task(&api, &id).await;
        match t["state"].as_str() {
            Some("completed" | "error" | "cancelled") => Ok(t),
            _ => Err(t.to_string()),
        }
    })
    .await;
    assert_eq!(done["state"], json!("completed"), "{done}");
    assert!(log_has(&done, "interrupted by a server restart"), "{done}");
    let reference = format!("{image}:1.0.0");
    let inspected = docker(&["image", "inspect", "--format", "{{.Id}}", &reference]);
    let _ = docker(&["image", "rm", "-f", &reference]);
    assert!(
        inspected.is_ok(),
        "{reference} was not built: {inspected:?}"
    );
    let leftovers = std::env::temp_dir().join(format!("berth-build-{id}"));
    assert!(
        !leftovers.exists(),
        "{} is left behind",
        leftovers.display()
    );
}

/// Builds a Dockerfile whose steps check their own confinement; the build
/// fails unless each step saw only a loopback interface and a CPU quota.
#[tokio::test(flavor = "multi_thread")]
async fn build_steps_have_no_network_and_a_cpu_quota() {
    let server = Server::start_with_env(&[("BERTH_BUILD_ALLOW_LOCAL_SOURCES", "true")]).await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("builder")).await;
    let repo = tempfile::tempdir().expect("cannot make a temp dir");
    build_repository(
        repo.path(),
        "FROM busybox:latest\n\
         RUN echo interfaces: $(ls /sys/class/net) && test \"$(ls /sys/class/net)\" = lo\n\
         RUN q=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max) \\\n\
             && echo quota: $q && test \"$q\" = 100000\n",
    );
    let image = format!("berth-it-{}/confined", unique_username("b"));
    let submitted = api
        .post(
            "/api/v2/containers/build",
            &json!({"image_name": image, "tag": "1.0.0",
                    "github_repository": repo.path().to_str()}),
        )
        .await
        .status_is(200);
    let id = submitted.body["data"]["task_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no task id: {}", submitted.text))
        .to_string();
    let done = wait_until(BUILD_DONE, "the build ends", async || {
        let t = task(&api, &id).await;
        match t["state"].as_str() {
            Some("completed" | "error" | "cancelled") => Ok(t),
            _ => Err(t.to_string()),
        }
    })
    .await;
    let _ = docker(&["image", "rm", "-f", &format!("{image}:1.0.0")]);
    assert_eq!(done["state"], json!("completed"), "{done}");
    assert!(log_has(&done, "interfaces: lo"), "{done}");
    assert!(log_has(&done, "quota: 100000"), "{done}");
}
