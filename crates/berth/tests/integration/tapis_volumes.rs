//! Tapis volumes, snapshots and config files as the engine mounts them:
//! two pods share a volume, a snapshot mounts read-only, a config file
//! appears with its mode, and volume data outlives its pods and a restart.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Api, Server, docker, unique_username, wait_until};

const POD_UP: Duration = Duration::from_secs(60);

/// The id of the pod's running container, once there is one.
async fn running(server: &Server, pod: &str) -> String {
    wait_until(POD_UP, &format!("pod {pod} runs"), async || {
        server
            .containers(Some(pod))
            .into_iter()
            .find(|c| c.running)
            .map(|c| c.id)
            .ok_or_else(|| "no running container".to_string())
    })
    .await
}

fn exec(container: &str, argv: &[&str]) -> Result<String, String> {
    let mut args = vec!["exec", container];
    args.extend_from_slice(argv);
    docker(&args).map(|out| out.trim().to_string())
}

async fn make_pod(api: &Api, pod: &str, command: &str, mounts: serde_json::Value) {
    api.post(
        "/v3/pods",
        &json!({"pod_id": pod, "image": "busybox:latest",
                "command": ["sh", "-c", command], "volume_mounts": mounts}),
    )
    .await
    .status_is(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn pods_share_volumes_mount_snapshots_read_only_and_get_their_config_files() {
    let mut server = Server::start().await;
    Api::sign_up(&server.url, &unique_username("root")).await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    api.post("/v3/pods/volumes", &json!({"volume_id": "sharedvol"}))
        .await
        .status_is(200);

    // The writer writes into the volume; the reader sees it.
    make_pod(
        &api,
        "writerpod",
        "echo from-writer > /data/note.txt; exec sleep 3600",
        json!({"sharedvol": {"type": "tapisvolume", "mount_path": "/data"}}),
    )
    .await;
    make_pod(
        &api,
        "readerpod",
        "exec sleep 3600",
        json!({"sharedvol": {"type": "tapisvolume", "mount_path": "/shared", "read_only": true}}),
    )
    .await;
    let writer = running(&server, "writerpod").await;
    let reader = running(&server, "readerpod").await;
    let note = wait_until(
        Duration::from_secs(20),
        "the reader sees the note",
        async || exec(&reader, &["cat", "/shared/note.txt"]),
    )
    .await;
    assert_eq!(note, "from-writer");
    assert!(
        exec(&reader, &["touch", "/shared/mine"]).is_err(),
        "a read-only volume mount refuses writes"
    );
    exec(&writer, &["sh", "-c", "echo more > /data/more.txt"]).unwrap();
    let listed = api
        .get("/v3/pods/volumes/sharedvol/list")
        .await
        .status_is(200);
    assert!(listed.text.contains("more.txt"), "{}", listed.text);

    // A snapshot is a copy, read-only in every pod.
    api.post(
        "/v3/pods/snapshots",
        &json!({"snapshot_id": "firstsnap", "source_volume_id": "sharedvol",
                "source_volume_path": "/"}),
    )
    .await
    .status_is(200);
    exec(&writer, &["sh", "-c", "echo changed > /data/note.txt"]).unwrap();
    make_pod(
        &api,
        "snappod",
        "exec sleep 3600",
        json!({
            "firstsnap": {"type": "tapissnapshot", "mount_path": "/snap"},
            "conf": {"type": "ephemeral", "mount_path": "/etc/berth/app.conf",
                     "config_content": "answer=42\n", "config_permissions": "0640"},
        }),
    )
    .await;
    let snap = running(&server, "snappod").await;
    assert_eq!(
        exec(&snap, &["cat", "/snap/note.txt"]).unwrap(),
        "from-writer"
    );
    assert!(
        exec(&snap, &["touch", "/snap/x"]).is_err(),
        "a snapshot mount refuses writes"
    );
    assert_eq!(
        exec(&snap, &["cat", "/etc/berth/app.conf"]).unwrap(),
        "answer=42"
    );
    assert_eq!(
        exec(&snap, &["stat", "-c", "%a", "/etc/berth/app.conf"]).unwrap(),
        "640"
    );

    // The volume outlives its pods and a restart of the server.
    for pod in ["writerpod", "readerpod", "snappod"] {
        api.delete(&format!("/v3/pods/{pod}")).await.status_is(200);
    }
    wait_until(
        Duration::from_secs(30),
        "the pods' containers are gone",
        async || match server.containers(None).len() {
            0 => Ok(()),
            n => Err(format!("{n} containers left")),
        },
    )
    .await;
    server.restart_killed().await;
    let mut api = api;
    api.base = server.url.clone();
    let note = api
        .get("/v3/pods/volumes/sharedvol/contents/note.txt")
        .await
        .status_is(200);
    assert_eq!(note.text, "changed\n");
    let kept = api
        .get("/v3/pods/snapshots/firstsnap/contents/note.txt")
        .await
        .status_is(200);
    assert_eq!(kept.text, "from-writer\n");
}
