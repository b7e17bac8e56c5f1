//! NDS Labs data sets through HTTP against the real engine: uploaded,
//! listed, mounted read-only into jobs, private, and gone with their account.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{NdsUser, Part, Server, cont_id, tar_listing, unique_username};

#[tokio::test(flavor = "multi_thread")]
async fn data_sets_are_uploaded_listed_mounted_read_only_and_private() {
    let server = Server::start().await;
    NdsUser::sign_up(&server.url, "admin").await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    let bob = NdsUser::sign_up(&server.url, "bob").await;

    // An administrator places a shared data set in the data dir.
    let shared = server.data_dir.join("datasets").join("reference");
    std::fs::create_dir_all(&shared).expect("shared data set");
    std::fs::write(shared.join("ref.txt"), "shared data\n").expect("shared file");

    let single = alice
        .upload_file_dataset(b"greeting", "hello.txt", b"hi there\n")
        .await;
    assert_eq!(single.status, 201, "{}", single.text());
    assert_eq!(single.json()["files"], json!(1));

    let work = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(work.path().join("tree/sub")).expect("tree");
    std::fs::write(work.path().join("tree/sub/a.txt"), "a\n").expect("file");
    let tar = |args: &[&str]| {
        let out = Command::new("tar")
            .current_dir(work.path())
            .args(args)
            .output()
            .expect("cannot run tar");
        assert!(out.status.success(), "tar {args:?}: {out:?}");
        std::fs::read(work.path().join("out.tar")).expect("tar output")
    };
    let tree = tar(&["-cf", "out.tar", "-C", "tree", "."]);
    let unpacked = alice
        .post_multipart(
            "/v1/datasets",
            &[Part {
                name: "file",
                file_name: Some("tree.tar"),
                data: &tree,
            }],
        )
        .await;
    assert_eq!(unpacked.status, 201, "{}", unpacked.text());
    assert_eq!(unpacked.json()["name"], json!("tree"));
    assert_eq!(unpacked.json()["files"], json!(1));

    // Hostile archives and names are refused, and leave nothing behind.
    std::os::unix::fs::symlink("/etc/passwd", work.path().join("link")).expect("symlink");
    let with_link = tar(&["-cf", "out.tar", "link"]);
    let with_dotdot = tar(&["-cf", "out.tar", "-P", "tree/sub/../../tree/sub/a.txt"]);
    for (name, archive) in [("linked", &with_link), ("dotdot", &with_dotdot)] {
        let reply = alice
            .upload_file_dataset(name.as_bytes(), "x.tar", archive)
            .await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
        assert!(reply.json()["error"].is_string());
    }
    for name in ["../up", ".hidden", "users", "a b"] {
        let reply = alice
            .upload_file_dataset(name.as_bytes(), "f.txt", b"x")
            .await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
    }
    let again = alice
        .upload_file_dataset(b"greeting", "hello.txt", b"x")
        .await;
    assert_eq!(again.status, 409, "{}", again.text());
    let not_multipart = alice.api.post("/v1/datasets", &json!({"name": "x"})).await;
    assert_eq!(not_multipart.status, 400, "{}", not_multipart.text);

    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|d| d["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let alice_sets = alice.api.get("/list_data").await.status_is(200).body;
    assert_eq!(
        names(&alice_sets),
        ["greeting", "reference", "tree"],
        "{alice_sets}"
    );
    assert!(
        alice_sets[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/v1/datasets/greeting"))
    );
    assert_eq!(alice_sets[1]["shared"], json!(true));
    let bob_sets = bob.api.get("/list_data").await.status_is(200).body;
    assert_eq!(names(&bob_sets), ["reference"], "{bob_sets}");

    // The url downloads it; only for those who can use it.
    let url = alice_sets[2]["url"].as_str().expect("url");
    let path = &url[url.find("/v1/").expect("a /v1 url")..];
    let archive = alice.get_bytes(path).await;
    assert_eq!(
        (archive.status, archive.content_type.as_str()),
        (200, "application/x-tar")
    );
    assert!(
        tar_listing(&archive.bytes)
            .iter()
            .any(|e| e == "tree/sub/a.txt")
    );
    assert_eq!(bob.get_bytes(path).await.status, 404);

    let job = alice
        .submit(json!({
            "script": "cat /data/hello.txt; touch /data/new 2>/dev/null && echo writable || echo read-only",
            "data": "greeting",
        }))
        .await;
    let status = alice.wait_for(&job, "COMPLETED").await;
    let out = alice
        .api
        .get(&format!("/stdout?cont_id={}", cont_id(&status)))
        .await;
    assert_eq!(out.body["stdout"], json!("hi there\nread-only\n"));

    let shared_job = bob
        .submit(json!({"script": "cat /data/ref.txt", "data": "reference"}))
        .await;
    let status = bob.wait_for(&shared_job, "COMPLETED").await;
    let out = bob
        .api
        .get(&format!("/stdout?cont_id={}", cont_id(&status)))
        .await;
    assert_eq!(out.body["stdout"], json!("shared data\n"));
    let theirs = bob
        .api
        .post("/upload", &json!({"script": "true", "data": "greeting"}))
        .await;
    assert_eq!(theirs.status, 400, "{}", theirs.text);

    bob.api.delete("/v1/datasets/greeting").await.status_is(404);
    alice
        .api
        .delete("/v1/datasets/greeting")
        .await
        .status_is(204);
    assert_eq!(
        names(&alice.api.get("/list_data").await.body),
        ["reference", "tree"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_account_takes_its_data_sets_with_it() {
    let server = Server::start().await;
    NdsUser::sign_up(&server.url, "admin").await;
    let name = unique_username("alice");
    let alice = NdsUser::sign_up_as(&server.url, &name).await;
    let uploaded = alice
        .upload_file_dataset(b"private", "notes.txt", b"alice only\n")
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    alice.api.delete("/v1/auth/cancel").await.status_is(204);

    // Someone else takes the name: alice's files are not theirs.
    let newcomer = NdsUser::sign_up_as(&server.url, &name).await;
    let listed = newcomer.api.get("/list_data").await.status_is(200).body;
    assert!(
        !listed.to_string().contains("private"),
        "the old data set is still listed: {listed}"
    );
    let leftovers = server.data_dir.join("datasets/users").join(&name);
    assert!(
        !leftovers.exists(),
        "{} is left behind",
        leftovers.display()
    );
}
