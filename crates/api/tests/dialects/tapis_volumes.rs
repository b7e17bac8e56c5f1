//! Tapis volumes, snapshots and the image allow-list at `/v3/pods`: their
//! envelopes, permissions and refusals, and the pod mounts they allow.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{IMAGE, Reply, TestApp, tapis_call as tapis};

const BOUNDARY: &str = "berthtestboundary";

async fn admin_token(app: &TestApp) -> String {
    let user = app.berth.user("administrator").await.unwrap();
    let (_, token) = app.berth.issue_token(&user, None).await.unwrap();
    token
}

fn volume_shape(id: &str, size: u64, size_limit: i64) -> Value {
    json!({
        "creation_ts": "<timestamp>", "description": "<any>", "size": size,
        "size_limit": size_limit, "status": "AVAILABLE", "update_ts": "<timestamp>",
        "volume_id": id,
    })
}

/// Uploads `content` at `path` of a volume as tapipy does: multipart `file`.
async fn upload(app: &TestApp, token: &str, volume: &str, path: &str, content: &str) -> Reply {
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
    );
    app.call(
        Method::POST,
        &format!("/v3/pods/volumes/{volume}/upload/{path}"),
    )
    .header("x-tapis-token", token)
    .raw(&format!("multipart/form-data; boundary={BOUNDARY}"), body)
    .send()
    .await
}

#[tokio::test]
async fn volumes_hold_files_within_their_size_limit() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes",
        Some(json!({"volume_id": "shared", "description": "ours", "size_limit": 1})),
    )
    .await
    .is(
        StatusCode::OK,
        json!({
            "message": "Volume created successfully.", "metadata": {},
            "result": volume_shape("shared", 0, 1), "status": "success", "version": "<string>",
        }),
    );
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes",
        Some(json!({"volume_id": "shared"})),
    )
    .await
    .status_is(StatusCode::CONFLICT);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes",
        Some(json!({"volume_id": "Bad_Id"})),
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes",
        Some(json!({"volume_id": "other", "mystery": 1})),
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);

    upload(&app, &alice, "shared", "dir/hello.txt", "hello volume")
        .await
        .is(
            StatusCode::OK,
            json!({
                "message": "File uploaded successfully.", "metadata": {}, "result": "<string>",
                "status": "success", "version": "<string>",
            }),
        );
    let listed = tapis(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/volumes/shared/list",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    let paths: Vec<&str> = listed.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["dir", "dir/hello.txt"]);
    assert_eq!(listed.body["result"][1]["size"], 12);
    assert_eq!(listed.body["result"][1]["type"], "file");
    let got = tapis(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/volumes/shared/contents/dir/hello.txt",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(got.text, "hello volume");
    assert_eq!(got.headers["content-type"], "application/octet-stream");
    let dir = tapis(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/volumes/shared/contents/dir",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(dir.headers["content-type"], "application/x-tar");
    tapis(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/volumes/shared/contents/nothing",
        None,
    )
    .await
    .status_is(StatusCode::NOT_FOUND);
    tapis(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/volumes/shared/contents/dir/../../x",
        None,
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);

    // 1 MB is the limit: 2.5 MB more do not fit (and stream past the
    // 2 MiB an axum body holds by default once they may).
    let big = "x".repeat(5 << 19);
    upload(&app, &alice, "shared", "big.bin", &big)
        .await
        .status_is(StatusCode::BAD_REQUEST);
    let spooled = std::fs::read_dir(app.data_dir().join("pod-volumes/spool"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(spooled, 0, "a refused upload leaves nothing behind");
    tapis(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/volumes/shared",
        Some(json!({"size_limit": 4})),
    )
    .await
    .status_is(StatusCode::OK);
    upload(&app, &alice, "shared", "big.bin", &big)
        .await
        .status_is(StatusCode::OK);
    tapis(&app, &alice, Method::GET, "/v3/pods/volumes/shared", None)
        .await
        .is(
            StatusCode::OK,
            json!({
                "message": "<string>", "metadata": {}, "result": volume_shape("shared", 3, 4),
                "status": "success", "version": "<string>",
            }),
        );
    tapis(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/volumes/shared",
        Some(json!({"volume_id": "x"})),
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);
    tapis(
        &app,
        &alice,
        Method::DELETE,
        "/v3/pods/volumes/shared",
        None,
    )
    .await
    .is(
        StatusCode::OK,
        json!({
            "message": "Volume successfully deleted.", "metadata": {}, "result": "",
            "status": "success", "version": "<string>",
        }),
    );
    tapis(&app, &alice, Method::GET, "/v3/pods/volumes/shared", None)
        .await
        .status_is(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn volume_permissions_decide_who_reads_writes_and_mounts() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes",
        Some(json!({"volume_id": "data"})),
    )
    .await
    .status_is(StatusCode::OK);
    // Others do not see it at all, nor mount it.
    tapis(&app, &bob, Method::GET, "/v3/pods/volumes/data", None)
        .await
        .status_is(StatusCode::NOT_FOUND);
    tapis(&app, &bob, Method::GET, "/v3/pods/volumes", None)
        .await
        .is(
            StatusCode::OK,
            json!({"message": "<string>", "metadata": {}, "result": [],
                                   "status": "success", "version": "<string>"}),
        );
    let mount = json!({"pod_id": "bobpod", "image": IMAGE,
                       "volume_mounts": {"data": {"type": "tapisvolume", "mount_path": "/data"}}});
    tapis(&app, &bob, Method::POST, "/v3/pods", Some(mount.clone()))
        .await
        .status_is(StatusCode::BAD_REQUEST);

    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes/data/permissions",
        Some(json!({"user": "bob", "level": "READ"})),
    )
    .await
    .is(
        StatusCode::OK,
        json!({
            "message": "Volume permissions updated successfully.", "metadata": {},
            "result": {"permissions": ["alice:ADMIN", "bob:READ"]},
            "status": "success", "version": "<string>",
        }),
    );
    // READ: reads and mounts read-only, but neither writes nor mounts read-write.
    tapis(&app, &bob, Method::GET, "/v3/pods/volumes/data/list", None)
        .await
        .status_is(StatusCode::OK);
    upload(&app, &bob, "data", "x.txt", "x")
        .await
        .status_is(StatusCode::FORBIDDEN);
    tapis(&app, &bob, Method::POST, "/v3/pods", Some(mount.clone()))
        .await
        .status_is(StatusCode::FORBIDDEN);
    let read_only = json!({"pod_id": "bobpod", "image": IMAGE,
        "volume_mounts": {"data": {"type": "tapisvolume", "mount_path": "/data", "read_only": true}}});
    tapis(&app, &bob, Method::POST, "/v3/pods", Some(read_only))
        .await
        .status_is(StatusCode::OK);
    tapis(&app, &bob, Method::DELETE, "/v3/pods/volumes/data", None)
        .await
        .status_is(StatusCode::FORBIDDEN);
    tapis(
        &app,
        &bob,
        Method::GET,
        "/v3/pods/volumes/data/permissions",
        None,
    )
    .await
    .status_is(StatusCode::FORBIDDEN);

    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes/data/permissions",
        Some(json!({"user": "bob", "level": "USER"})),
    )
    .await
    .status_is(StatusCode::OK);
    upload(&app, &bob, "data", "x.txt", "x")
        .await
        .status_is(StatusCode::OK);
    tapis(
        &app,
        &alice,
        Method::DELETE,
        "/v3/pods/volumes/data/permissions/bob",
        None,
    )
    .await
    .is(
        StatusCode::OK,
        json!({
            "message": "<string>", "metadata": {},
            "result": {"permissions": ["alice:ADMIN"]}, "status": "success", "version": "<string>",
        }),
    );
    tapis(
        &app,
        &alice,
        Method::DELETE,
        "/v3/pods/volumes/data/permissions/alice",
        None,
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);
    tapis(&app, &bob, Method::GET, "/v3/pods/volumes/data", None)
        .await
        .status_is(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn snapshots_are_copies_taken_once() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/volumes",
        Some(json!({"volume_id": "vol"})),
    )
    .await
    .status_is(StatusCode::OK);
    upload(&app, &alice, "vol", "results/out.txt", "first")
        .await
        .status_is(StatusCode::OK);
    let created = tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/snapshots",
        Some(json!({
            "snapshot_id": "snap", "source_volume_id": "vol", "source_volume_path": "results",
            "description": "run 1",
        })),
    )
    .await;
    created.is(
        StatusCode::OK,
        json!({
            "message": "Snapshot created successfully.", "metadata": {},
            "result": {
                "creation_ts": "<timestamp>", "cron": "", "description": "run 1",
                "destination_path": "", "retention_policy": "", "size": 1, "size_limit": 1024,
                "snapshot_id": "snap", "source_volume_id": "vol", "source_volume_path": "results",
                "status": "AVAILABLE", "update_ts": "<timestamp>",
            },
            "status": "success", "version": "<string>",
        }),
    );
    // The volume changes; the snapshot does not.
    upload(&app, &alice, "vol", "results/out.txt", "second")
        .await
        .status_is(StatusCode::OK);
    let got = tapis(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/snapshots/snap/contents/out.txt",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(got.text, "first");
    let listed = tapis(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/snapshots/snap/list",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(listed.body["result"][0]["path"], "out.txt");
    // A single file needs a destination; a missing path or volume is a 400.
    for bad in [
        json!({"snapshot_id": "one", "source_volume_id": "vol", "source_volume_path": "results/out.txt"}),
        json!({"snapshot_id": "two", "source_volume_id": "vol", "source_volume_path": "missing"}),
        json!({"snapshot_id": "three", "source_volume_id": "nope", "source_volume_path": ""}),
        json!({"snapshot_id": "four", "source_volume_id": "vol"}),
    ] {
        tapis(&app, &alice, Method::POST, "/v3/pods/snapshots", Some(bad))
            .await
            .status_is(StatusCode::BAD_REQUEST);
    }
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/snapshots",
        Some(json!({
            "snapshot_id": "one", "source_volume_id": "vol",
            "source_volume_path": "results/out.txt", "destination_path": "keep/out.txt",
        })),
    )
    .await
    .status_is(StatusCode::OK);
    tapis(
        &app,
        &alice,
        Method::GET,
        "/v3/pods/snapshots/one/contents/keep/out.txt",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    // Not snapshotted by someone who cannot read the volume, nor seen by them.
    tapis(
        &app,
        &bob,
        Method::POST,
        "/v3/pods/snapshots",
        Some(json!({
            "snapshot_id": "theirs", "source_volume_id": "vol", "source_volume_path": "",
        })),
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);
    tapis(&app, &bob, Method::GET, "/v3/pods/snapshots/snap", None)
        .await
        .status_is(StatusCode::NOT_FOUND);
    // No upload route: snapshots never change.
    app.call(Method::POST, "/v3/pods/snapshots/snap/upload/x")
        .header("x-tapis-token", &alice)
        .send()
        .await
        .status_is(StatusCode::NOT_FOUND);
    tapis(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/snapshots/snap",
        Some(json!({"description": "kept", "cron": "0 * * * *"})),
    )
    .await
    .status_is(StatusCode::OK);
    tapis(
        &app,
        &alice,
        Method::PUT,
        "/v3/pods/snapshots/snap",
        Some(json!({"source_volume_id": "other"})),
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/snapshots/snap/permissions",
        Some(json!({"user": "bob", "level": "READ"})),
    )
    .await
    .status_is(StatusCode::OK);
    // Deleting the volume leaves the copy.
    tapis(&app, &alice, Method::DELETE, "/v3/pods/volumes/vol", None)
        .await
        .status_is(StatusCode::OK);
    let kept = tapis(
        &app,
        &bob,
        Method::GET,
        "/v3/pods/snapshots/snap/contents/out.txt",
        None,
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(kept.text, "first");
    // Bob may mount it (read-only always), not delete it.
    tapis(
        &app,
        &bob,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "bobpod", "image": IMAGE,
        "volume_mounts": {"snap": {"type": "tapissnapshot", "mount_path": "/snap"}}})),
    )
    .await
    .status_is(StatusCode::OK);
    tapis(&app, &bob, Method::DELETE, "/v3/pods/snapshots/snap", None)
        .await
        .status_is(StatusCode::FORBIDDEN);
    tapis(
        &app,
        &alice,
        Method::DELETE,
        "/v3/pods/snapshots/snap",
        None,
    )
    .await
    .is(
        StatusCode::OK,
        json!({
            "message": "Snapshot successfully deleted.", "metadata": {}, "result": "",
            "status": "success", "version": "<string>",
        }),
    );
}

#[tokio::test]
async fn mounts_are_checked_when_a_pod_is_made() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    for (mounts, why) in [
        (
            json!({"nope": {"type": "tapisvolume"}}),
            "a volume that does not exist",
        ),
        (json!({"v": {"type": "pvc"}}), "a type Berth has not"),
        (
            json!({"conf": {"type": "ephemeral", "mount_path": "/etc/a.conf",
                         "config_content": "x", "config_permissions": "rw"}}),
            "a mode that is no mode",
        ),
    ] {
        let reply = tapis(
            &app,
            &alice,
            Method::POST,
            "/v3/pods",
            Some(json!({"pod_id": "mpod", "image": IMAGE, "volume_mounts": mounts})),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{why}: {}",
            reply.text
        );
        assert_eq!(reply.body["status"], "error");
    }
    tapis(&app, &alice, Method::POST, "/v3/pods", Some(json!({"pod_id": "mpod", "image": IMAGE,
        "volume_mounts": {"conf": {"type": "ephemeral", "mount_path": "/etc/app.conf",
                                   "config_content": "key=value\n", "config_permissions": "0600"}}})))
        .await
        .status_is(StatusCode::OK);
    let conf = std::fs::read_dir(app.data_dir().join("pod-volumes/configs/mpod"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("app.conf");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "key=value\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    tapis(&app, &alice, Method::DELETE, "/v3/pods/mpod", None)
        .await
        .status_is(StatusCode::OK);
    assert!(!conf.exists(), "a deleted pod's config files go with it");
}

#[tokio::test]
async fn the_image_allow_list_is_kept_by_administrators_and_holds_pods_to_it() {
    let app = TestApp::start_with(|s| s.pod_image_allow_list = true).await;
    let admin = admin_token(&app).await;
    let alice = app.sign_up("alice").await;
    tapis(&app, &alice, Method::GET, "/v3/pods/images", None)
        .await
        .is(
            StatusCode::OK,
            json!({"message": "Images retrieved successfully.", "metadata": {},
                                   "result": [], "status": "success", "version": "<string>"}),
        );
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "apod", "image": IMAGE})),
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/images",
        Some(json!({"image": IMAGE})),
    )
    .await
    .status_is(StatusCode::FORBIDDEN);
    let entry = json!({"added_by": "administrator", "creation_ts": "<timestamp>",
                       "description": "the shell", "image": "busybox:*", "tenants": []});
    tapis(&app, &admin, Method::POST, "/v3/pods/images",
          Some(json!({"image": "busybox:*", "description": "the shell"}))).await
        .is(StatusCode::OK, json!({"message": "Image added successfully.", "metadata": {},
                                   "result": entry.clone(), "status": "success", "version": "<string>"}));
    tapis(
        &app,
        &admin,
        Method::POST,
        "/v3/pods/images",
        Some(json!({"image": "busybox:*"})),
    )
    .await
    .status_is(StatusCode::CONFLICT);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "apod", "image": IMAGE})),
    )
    .await
    .status_is(StatusCode::OK);
    // Templates' tags are held to it too.
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/templates",
        Some(json!({"template_id": "tmpl"})),
    )
    .await
    .status_is(StatusCode::OK);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/templates/tmpl/tags",
        Some(json!({
        "pod_definition": {"image": "alpine:3"}, "commit_message": "m"})),
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);
    // Bulk: duplicates refuse the whole list, or are left out when asked.
    let bulk = json!([{"image": "busybox:*"}, {"image": "alpine:3", "tenants": ["dev"]}]);
    tapis(
        &app,
        &admin,
        Method::POST,
        "/v3/pods/images/bulk",
        Some(bulk.clone()),
    )
    .await
    .status_is(StatusCode::CONFLICT);
    let added = tapis(
        &app,
        &admin,
        Method::POST,
        "/v3/pods/images/bulk?skip_duplicates=true",
        Some(bulk),
    )
    .await
    .status_is(StatusCode::OK);
    assert_eq!(added.body["result"].as_array().unwrap().len(), 1);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods/templates/tmpl/tags",
        Some(json!({
        "pod_definition": {"image": "alpine:3"}, "commit_message": "m"})),
    )
    .await
    .status_is(StatusCode::OK);
    tapis(&app, &alice, Method::GET, "/v3/pods/images/busybox:*", None)
        .await
        .is(
            StatusCode::OK,
            json!({"message": "<string>", "metadata": {}, "result": entry,
                                   "status": "success", "version": "<string>"}),
        );
    tapis(
        &app,
        &alice,
        Method::DELETE,
        "/v3/pods/images/alpine:3",
        None,
    )
    .await
    .status_is(StatusCode::FORBIDDEN);
    tapis(
        &app,
        &admin,
        Method::DELETE,
        "/v3/pods/images/alpine:3",
        None,
    )
    .await
    .is(
        StatusCode::OK,
        json!({"message": "Image successfully deleted.", "metadata": {},
                                   "result": "", "status": "success", "version": "<string>"}),
    );
    tapis(&app, &admin, Method::GET, "/v3/pods/images/alpine:3", None)
        .await
        .status_is(StatusCode::NOT_FOUND);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "bpod", "image": "alpine:3"})),
    )
    .await
    .status_is(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn with_the_allow_list_off_pods_use_any_image_and_the_listing_shows_the_engine() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let listed = tapis(&app, &alice, Method::GET, "/v3/pods/images", None)
        .await
        .status_is(StatusCode::OK);
    assert_eq!(listed.body["result"][0]["image"], IMAGE);
    tapis(
        &app,
        &alice,
        Method::POST,
        "/v3/pods",
        Some(json!({"pod_id": "apod", "image": IMAGE})),
    )
    .await
    .status_is(StatusCode::OK);
}
