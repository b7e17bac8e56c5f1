//! Per-user quotas and fair use: a request past a quota is refused with 403
//! in the dialect's own shape and writes nothing; other users are not
//! affected; data-set uploads arrive on disk, not in memory; jobs past the
//! runtime limit are stopped.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use berth_core::catalog::{TASK_KIND_BUILD, Task, TaskState};
use berth_core::quota::Quotas;
use serde_json::json;

use crate::app::{IMAGE, TestApp};

fn quotas(change: impl FnOnce(&mut Quotas)) -> impl FnOnce(&mut berth_core::service::Settings) {
    move |settings| change(&mut settings.quotas)
}

async fn create_pod(app: &TestApp, token: &str, id: &str) -> crate::app::Reply {
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", token)
        .json(&json!({"pod_id": id, "image": IMAGE}))
        .send()
        .await
}

#[tokio::test]
async fn containers_past_the_quota_are_refused_in_every_dialect() {
    let app = TestApp::start_with(quotas(|q| q.containers = 3)).await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;

    // Deis: an app at web=2.
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .json(&json!({"id": "shop"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::POST, "/v1/apps/shop/builds")
        .auth("token", &alice)
        .json(&json!({"image": IMAGE, "procfile": {"web": "sleep 3600"}}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::POST, "/v1/apps/shop/scale")
        .auth("token", &alice)
        .json(&json!({"web": 2}))
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    // Tapis: one pod fills the quota, the next is refused and not made.
    create_pod(&app, &alice, "first")
        .await
        .status_is(StatusCode::OK);
    let refused = create_pod(&app, &alice, "second")
        .await
        .status_is(StatusCode::FORBIDDEN);
    assert_eq!(refused.body["status"], json!("error"), "{}", refused.text);
    assert_eq!(
        refused.body["message"],
        json!("quota exceeded: a user may hold at most 3 containers (in use: 3, asked for 1 more)")
    );
    app.call(Method::GET, "/v3/pods/second")
        .header("x-tapis-token", &alice)
        .send()
        .await
        .status_is(StatusCode::NOT_FOUND);
    // Deis: scaling up is refused and the counts stay.
    app.call(Method::POST, "/v1/apps/shop/scale")
        .auth("token", &alice)
        .json(&json!({"web": 3}))
        .send()
        .await
        .is(
            StatusCode::FORBIDDEN,
            json!({"detail": "quota exceeded: a user may hold at most 3 containers (in use: 3, asked for 1 more)"}),
        );
    let shop = app
        .call(Method::GET, "/v1/apps/shop")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(shop.body["structure"], json!({"web": 2}), "{}", shop.text);
    // Tutum: a new application is refused.
    app.call(Method::POST, "/api/v1/application/")
        .auth("ApiKey", &format!("alice:{alice}"))
        .json(&json!({"image": IMAGE, "name": "web"}))
        .send()
        .await
        .is(
            StatusCode::FORBIDDEN,
            json!({"error": "quota exceeded: a user may hold at most 3 containers (in use: 3, asked for 1 more)"}),
        );
    // Another user's quota is their own.
    create_pod(&app, &bob, "bobpod")
        .await
        .status_is(StatusCode::OK);
    // Scaling down is always allowed, and frees room.
    app.call(Method::POST, "/v1/apps/shop/scale")
        .auth("token", &alice)
        .json(&json!({"web": 1}))
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    create_pod(&app, &alice, "second")
        .await
        .status_is(StatusCode::OK);
}

#[tokio::test]
async fn parallel_requests_cannot_both_pass_the_containers_quota() {
    let app = TestApp::start_with(quotas(|q| q.containers = 1)).await;
    let alice = app.sign_up("alice").await;
    let (a, b) = futures::join!(
        create_pod(&app, &alice, "one"),
        create_pod(&app, &alice, "two")
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::FORBIDDEN]);
}

/// Submits a job in busybox as `token`'s user.
async fn submit_job(app: &TestApp, token: &str) -> crate::app::Reply {
    app.call(Method::POST, "/upload")
        .auth("Bearer", token)
        .json(&json!({"script": "sleep 3600", "image_name": "busybox", "image_tag": "latest"}))
        .send()
        .await
}

#[tokio::test]
async fn unfinished_jobs_past_the_quota_are_refused() {
    let app = TestApp::start_with(quotas(|q| q.jobs = 1)).await;
    let alice = app.sign_up("alice").await;
    let first = submit_job(&app, &alice)
        .await
        .status_is(StatusCode::CREATED);
    submit_job(&app, &alice).await.is(
        StatusCode::FORBIDDEN,
        json!({"error": "quota exceeded: a user may hold at most 1 unfinished jobs (in use: 1, asked for 1 more)"}),
    );
    let jobs = app
        .call(Method::GET, "/list_container")
        .auth("Bearer", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(jobs.body.as_array().map(Vec::len), Some(1), "{}", jobs.text);
    // Once the first job ended (nobody has asked since), there is room again.
    let job = first.body["job_id"].as_str().unwrap_or_default();
    let container = app
        .runtime
        .containers()
        .into_iter()
        .find(|c| c.labels.values().any(|v| v == job))
        .expect("the job's container");
    app.runtime.exit(&container.id, 0).expect("the job ends");
    submit_job(&app, &alice)
        .await
        .status_is(StatusCode::CREATED);
}

#[tokio::test]
async fn jobs_past_the_runtime_limit_are_stopped_and_failed() {
    let app = TestApp::start_with(|s| s.max_job_runtime = Some(Duration::from_secs(1))).await;
    let alice = app.sign_up("alice").await;
    let job = submit_job(&app, &alice)
        .await
        .status_is(StatusCode::CREATED)
        .body["job_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let path = format!("/upload?job_id={job}");
    app.eventually(
        || {
            app.berth.signals.wake();
            app.call(Method::GET, &path).auth("Bearer", &alice)
        },
        |reply| reply.body["state"] == json!("FAILED"),
    )
    .await;
    let job_uuid = uuid::Uuid::parse_str(&job).expect("a job id");
    let recorded = app
        .store()
        .get_job(job_uuid)
        .await
        .expect("the store answers")
        .expect("the job is kept");
    assert!(
        recorded
            .output
            .contains("the runtime limit of 1 s was reached"),
        "{}",
        recorded.output
    );
}

#[tokio::test]
async fn builds_past_the_quota_are_refused_at_submission() {
    let app = TestApp::start_with(|s| {
        s.quotas.builds = 1;
        s.build_allow_local_sources = true;
    })
    .await;
    let alice = app.sign_up("alice").await;
    let user = app
        .store()
        .user_by_name("alice")
        .await
        .expect("the store answers")
        .expect("alice exists");
    // A build of alice's still under way.
    let t = berth_core::model::now();
    let running = Task {
        id: uuid::Uuid::new_v4(),
        kind: TASK_KIND_BUILD.into(),
        owner_id: user.id,
        group_id: uuid::Uuid::new_v4(),
        trace_id: uuid::Uuid::new_v4(),
        state: TaskState::Pending,
        payload: json!({}),
        log: String::new(),
        result: None,
        created: t,
        updated: t,
    };
    app.store()
        .insert_task(&running)
        .await
        .expect("the task is written");
    let repo = tempfile::tempdir().expect("a temp dir");
    let body = json!({"image_name": "shop", "tag": "v1",
                      "github_repository": repo.path().to_str()});
    app.call(Method::POST, "/api/v2/containers/build")
        .auth("Bearer", &alice)
        .json(&body)
        .send()
        .await
        .status_is(StatusCode::FORBIDDEN);
    let tasks = app
        .store()
        .list_tasks(&Default::default(), 0, 100)
        .await
        .expect("the store answers");
    assert_eq!(tasks.total, 1, "nothing was written");
}

/// A multipart upload of one file `notes.txt` holding `content`.
fn dataset_form(content: &str) -> (String, String) {
    let boundary = "XBOUNDARYX";
    (
        format!("multipart/form-data; boundary={boundary}"),
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\r\n{content}\r\n--{boundary}--\r\n"
        ),
    )
}

async fn upload_dataset(
    app: &TestApp,
    token: &str,
    name: &str,
    content: &str,
) -> crate::app::Reply {
    let (content_type, body) = dataset_form(content);
    app.call(Method::POST, &format!("/v1/datasets?name={name}"))
        .auth("Bearer", token)
        .raw(&content_type, body)
        .send()
        .await
}

#[tokio::test]
async fn data_set_bytes_past_the_quota_are_refused() {
    let app = TestApp::start_with(quotas(|q| q.dataset_bytes = 10)).await;
    let alice = app.sign_up("alice").await;
    upload_dataset(&app, &alice, "x", "123456")
        .await
        .status_is(StatusCode::CREATED);
    let (content_type, body) = dataset_form("abcdef");
    let body = body.replacen(
        "--XBOUNDARYX\r\n",
        "--XBOUNDARYX\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ny\r\n--XBOUNDARYX\r\n",
        1,
    );
    app.call(Method::POST, "/v1/datasets")
        .auth("Bearer", &alice)
        .raw(&content_type, body)
        .send()
        .await
        .is(
            StatusCode::FORBIDDEN,
            json!({"error": "quota exceeded: a user may hold at most 10 bytes of data sets (in use: 6, asked for 6 more)"}),
        );
    let listed = app
        .call(Method::GET, "/list_data")
        .auth("Bearer", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.text
    );
    assert_eq!(leftovers(&app, "alice"), Vec::<String>::new());
}

/// Files in the user's data-set folder that are not data sets.
fn leftovers(app: &TestApp, user: &str) -> Vec<String> {
    let dir = app.data_dir().join("datasets/users").join(user);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// Upload files in progress in the user's data-set folder, with their sizes.
fn spooled(app: &TestApp, user: &str) -> Vec<u64> {
    let dir = app.data_dir().join("datasets/users").join(user);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .collect()
}

#[tokio::test]
async fn uploads_arrive_on_disk_and_a_cut_one_leaves_nothing() {
    let app = TestApp::start_with(quotas(|q| q.uploads = 1)).await;
    let alice = app.sign_up("alice").await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let head = "--XBOUNDARYX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n";
    let chunk = vec![b'x'; 3 << 20];
    let upload = app
        .call(Method::POST, "/v1/datasets")
        .auth("Bearer", &alice)
        .streamed(
            "multipart/form-data; boundary=XBOUNDARYX",
            Body::from_stream(stream),
        )
        .send();
    let meanwhile = async {
        sender
            .send(Ok(bytes::Bytes::from(head)))
            .await
            .expect("the upload reads");
        sender
            .send(Ok(bytes::Bytes::from(chunk)))
            .await
            .expect("the upload reads");
        // The body arrives on disk while it is sent.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !spooled(&app, "alice").iter().any(|n| *n >= 1 << 20) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nothing of the upload reached the disk"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A second upload at the same time is past the quota.
        upload_dataset(&app, &alice, "other", "hi")
            .await
            .is(
                StatusCode::FORBIDDEN,
                json!({"error": "quota exceeded: a user may hold at most 1 uploads at once (in use: 1, asked for 1 more)"}),
            );
        // The client goes away mid-body.
        sender
            .send(Err(std::io::Error::other("connection reset")))
            .await
            .expect("the upload reads");
    };
    let (reply, ()) = futures::join!(upload, meanwhile);
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(leftovers(&app, "alice"), Vec::<String>::new());
    let listed = app
        .call(Method::GET, "/list_data")
        .auth("Bearer", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(listed.body, json!([]));
    // The slot is free again.
    upload_dataset(&app, &alice, "other", "hi")
        .await
        .status_is(StatusCode::CREATED);
}
