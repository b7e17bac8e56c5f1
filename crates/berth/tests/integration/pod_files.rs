//! A pod's file URL paths start in its image's working directory, as a
//! shell in the container would; `?path=` stays absolute.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::harness::{Api, Server, unique_username, wait_until};

const WORKDIR_IMAGE: &str = "local/berth-workdir:latest";

/// An image whose working directory is `/srv/app`, holding `sub/here.txt`.
fn workdir_image() {
    let mut build = Command::new("docker")
        .args(["build", "-q", "-t", WORKDIR_IMAGE, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("docker runs");
    build
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            b"FROM busybox:latest\nWORKDIR /srv/app\n\
              RUN mkdir sub && echo from-workdir > sub/here.txt\n",
        )
        .expect("the Dockerfile is sent");
    assert!(
        build.wait().expect("docker ends").success(),
        "docker build failed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn file_url_paths_start_in_the_working_directory() {
    workdir_image();
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("files")).await;
    api.post(
        "/v3/pods",
        &json!({"pod_id": "workdirpod", "image": WORKDIR_IMAGE, "command": ["sleep", "3600"]}),
    )
    .await
    .status_is(200);
    wait_until(
        Duration::from_secs(60),
        "the pod is available",
        async || {
            let pod = api.get("/v3/pods/workdirpod").await;
            match pod.body["result"]["status"].as_str() {
                Some("AVAILABLE") => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;

    let listed = api
        .get("/v3/pods/workdirpod/list_files/sub")
        .await
        .status_is(200);
    let names: Vec<&str> = listed.body["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(names.contains(&"/srv/app/sub/here.txt"), "{}", listed.text);
    let file = api
        .get("/v3/pods/workdirpod/download_from_pod/sub/here.txt")
        .await
        .status_is(200);
    assert_eq!(file.text, "from-workdir\n");
    let absolute = api
        .get("/v3/pods/workdirpod/download_from_pod?path=/srv/app/sub/here.txt")
        .await
        .status_is(200);
    assert_eq!(absolute.text, "from-workdir\n");
    // From the working directory too, nothing above it can be named.
    api.get("/v3/pods/workdirpod/list_files?path=../etc")
        .await
        .status_is(403);
    api.delete("/v3/pods/workdirpod").await.status_is(200);
}
