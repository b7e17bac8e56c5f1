//! NDS Labs script jobs at the root paths, through HTTP against the real
//! engine: their output, files and state (also across a server restart),
//! bad input and isolation between users.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Inspection, JOB_DONE, NdsUser, Part, Server, cont_id, docker, error_of, job_containers,
    tar_listing, wait_until,
};

#[tokio::test(flavor = "multi_thread")]
async fn a_script_job_runs_to_completion_and_stays_readable_until_deleted() {
    let server = Server::start().await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    let script = "echo hello; echo oops >&2; mkdir out; echo result > out/r.txt; \
                  ln -s /etc/passwd out/link; exit 0";
    let job = alice.submit(json!({ "script": script })).await;
    let status = alice.wait_for(&job, "COMPLETED").await;
    assert_eq!(status["job_id"], json!(job));
    assert_eq!(status["exit_code"], json!(0), "{status}");
    assert!(
        status["worker"].as_str().is_some_and(|w| !w.is_empty()),
        "{status}"
    );
    for field in ["created", "started", "finished"] {
        assert!(status[field].is_string(), "{field} missing: {status}");
    }
    let cont = cont_id(&status);

    let stdout = alice
        .api
        .get(&format!("/stdout?cont_id={cont}"))
        .await
        .status_is(200);
    // Two streams: the engine may put either line first.
    let mut lines: Vec<&str> = stdout.body["stdout"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .collect();
    lines.sort();
    assert_eq!(lines, ["hello", "oops"], "{}", stdout.text);
    // The short id docker shows works too.
    let short = alice
        .api
        .get(&format!("/stdout?cont_id={}", &cont[..12]))
        .await;
    assert_eq!(short.status_is(200).body, stdout.body);

    let Inspection { info, diff, metric } = alice.inspect(&cont).await;
    assert_eq!(info["image"], json!("busybox:latest"), "{info}");
    assert_eq!(info["command"], json!("/bin/sh script.sh"), "{info}");
    assert_eq!(info["job_id"], json!(job));
    assert_eq!(info["state"], json!("COMPLETED"));
    assert_eq!(info["container_state"], json!("exited"));
    let all = alice.api.get("/info").await.status_is(200).body;
    assert_eq!(all[0]["cont_id"], json!(cont), "{all}");
    assert!(all[0]["last_used"].is_string(), "{all}");
    let listed = alice.api.get("/list_container").await.status_is(200).body;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["job_id"], json!(job));
    assert_eq!(listed[0]["state"], json!("COMPLETED"));
    assert_eq!(listed[0]["image"], json!("busybox:latest"));

    assert!(
        diff.as_array()
            .is_some_and(|d| d.contains(&json!({"path": "/job/out/r.txt", "kind": "A"}))),
        "{diff}"
    );
    // Finished too fast for the periodic sampler to be sure to see it: the
    // shape, with figures only if a sample was taken.
    assert_eq!(metric["state"], json!("COMPLETED"));
    assert!(
        metric["memory_usage"].is_null() || metric["memory_usage"].is_u64(),
        "{metric}"
    );
    let stop = alice.read("stop", &cont).await;
    assert_eq!(stop["state"], json!("failed"), "{stop}");
    assert!(
        stop["error"]
            .as_str()
            .is_some_and(|e| e.contains("already finished")),
        "{stop}"
    );

    let file = alice
        .get_bytes(&format!("/download?job_id={job}&path=out/r.txt"))
        .await;
    assert_eq!((file.status, file.text()), (200, "result\n".to_string()));
    let same = alice
        .get_bytes(&format!("/download?job_id={job}&path=/job/out/r.txt"))
        .await;
    assert_eq!(same.bytes, file.bytes);
    let dir = alice
        .get_bytes(&format!("/download?job_id={job}&path=out"))
        .await;
    assert_eq!(
        (dir.status, dir.content_type.as_str()),
        (200, "application/x-tar")
    );
    let entries = tar_listing(&dir.bytes);
    assert!(entries.iter().any(|e| e == "out/r.txt"), "{entries:?}");
    let whole = alice.get_bytes(&format!("/download?job_id={job}")).await;
    assert!(
        tar_listing(&whole.bytes)
            .iter()
            .any(|e| e == "job/script.sh")
    );
    for (path, code) in [
        ("../etc/passwd", 400),
        ("out/../../etc", 400),
        ("out/link", 403),
        ("nothere.txt", 404),
    ] {
        let reply = alice
            .api
            .get(&format!("/download?job_id={job}&path={path}"))
            .await;
        assert_eq!(reply.status, code, "{path}: {}", reply.text);
        error_of(&reply);
    }

    let images = alice.api.get("/list_images").await.status_is(200).body;
    assert!(
        images
            .as_array()
            .is_some_and(|i| i.contains(&json!({"image_name": "busybox", "image_tag": "latest"}))),
        "{images}"
    );

    // Kept across reconciler passes, then deleted with its container.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(job_containers(&server), vec![cont.clone()]);
    let deleted = alice
        .api
        .delete(&format!("/upload?job_id={job}"))
        .await
        .status_is(200);
    assert_eq!(deleted.body["job_id"], json!(job));
    alice
        .api
        .get(&format!("/upload?job_id={job}"))
        .await
        .status_is(404);
    alice
        .api
        .get(&format!("/stdout?cont_id={cont}"))
        .await
        .status_is(404);
    assert_eq!(
        alice.api.get("/list_container").await.status_is(200).body,
        json!([])
    );
    wait_until(JOB_DONE, "the job's container is removed", async || {
        let left = job_containers(&server);
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{left:?}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_job_is_removed_once_the_configured_retention_passed() {
    // Zero hours: a job expires as soon as it finished; a running one stays.
    let server = Server::start_with_env(&[("BERTH_JOB_RETENTION_HOURS", "0")]).await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    let done = alice.submit(json!({ "script": "echo done" })).await;
    alice.wait_for(&done, "COMPLETED").await;
    let running = alice.submit(json!({ "script": "sleep 600" })).await;
    alice.wait_for(&running, "RUNNING").await;

    let listed = alice.api.get("/list_container").await.status_is(200).body;
    let jobs: Vec<&Value> = listed
        .as_array()
        .map(|a| a.iter().map(|j| &j["job_id"]).collect())
        .unwrap_or_default();
    assert_eq!(jobs, [&json!(running)], "{listed}");
    alice
        .api
        .get(&format!("/upload?job_id={done}"))
        .await
        .status_is(404);
    wait_until(
        JOB_DONE,
        "only the running job's container is left",
        async || {
            let left = job_containers(&server);
            if left.len() == 1 {
                Ok(())
            } else {
                Err(format!("{left:?}"))
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_job_shows_output_and_metrics_and_a_stopped_or_failing_one_is_failed() {
    let server = Server::start().await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    let job = alice
        .submit(json!({
            "script": "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done",
            "scriptname": "loop.sh",
            "image_name": "busybox",
            "image_tag": "latest",
        }))
        .await;
    let status = alice.wait_for(&job, "RUNNING").await;
    let cont = cont_id(&status);
    assert!(
        status["exit_code"].is_null() && status["finished"].is_null(),
        "{status}"
    );
    wait_until(JOB_DONE, "the job has written output", async || {
        let out = alice.api.get(&format!("/stdout?cont_id={cont}")).await;
        let text = out.body["stdout"].as_str().unwrap_or_default().to_string();
        if text.contains("tick 2") {
            Ok(())
        } else {
            Err(out.text)
        }
    })
    .await;
    let Inspection { info, metric, .. } = alice.inspect(&cont).await;
    assert_eq!(metric["state"], json!("RUNNING"), "{metric}");
    assert!(
        metric["memory_usage"].as_u64().is_some_and(|m| m > 0),
        "{metric}"
    );
    assert!(
        metric["memory_limit"].as_u64().is_some_and(|m| m > 0),
        "{metric}"
    );
    assert!(
        metric["cpu_percent"].is_number() && metric["sampled"].is_string(),
        "{metric}"
    );
    assert_eq!(info["command"], json!("/bin/sh loop.sh"));
    assert_eq!(info["container_state"], json!("running"));
    assert_eq!(alice.api.get("/info").await.body[0]["running"], json!(true));

    let stop = alice.read("stop", &cont).await;
    assert_eq!(stop["state"], json!("success"), "{stop}");
    assert!(stop["msg"].is_string(), "{stop}");
    let status = alice.status(&job).await;
    assert_eq!(status["state"], json!("FAILED"), "{status}");
    assert!(status["finished"].is_string(), "{status}");
    let again = alice.read("stop", &cont).await;
    assert_eq!(again["state"], json!("failed"), "{again}");
    // The last figures remain after the end (the periodic sampler may have
    // taken a later one than ours).
    let after = alice.read("metric", &cont).await;
    let sampled = |m: &Value| m["sampled"].as_str().unwrap_or_default().to_string();
    assert!(sampled(&after) >= sampled(&metric), "{after} vs {metric}");
    assert!(
        after["memory_usage"].as_u64().is_some_and(|m| m > 0),
        "{after}"
    );

    let failing = alice.submit(json!({"script": "echo bad; exit 3"})).await;
    let status = alice.wait_for(&failing, "FAILED").await;
    assert_eq!(status["exit_code"], json!(3), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_come_as_form_fields_or_uploaded_files() {
    let server = Server::start().await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    let form = alice
        .post_form(
            "/upload",
            &[("script", "echo form; pwd"), ("scriptname", "f.sh")],
        )
        .await;
    assert_eq!(form.status, 201, "{}", form.text());
    let job = form.json()["job_id"].as_str().expect("job_id").to_string();
    let status = alice.wait_for(&job, "COMPLETED").await;
    let out = alice
        .api
        .get(&format!("/stdout?cont_id={}", cont_id(&status)))
        .await;
    assert_eq!(out.body["stdout"], json!("form\n/job\n"));

    let upload = alice
        .post_multipart(
            "/upload",
            &[
                Part {
                    name: "file",
                    file_name: Some("analysis.sh"),
                    data: b"echo from a file: $0\n",
                },
                Part {
                    name: "image_name",
                    file_name: None,
                    data: b"local/busybox",
                },
            ],
        )
        .await;
    assert_eq!(upload.status, 201, "{}", upload.text());
    let job = upload.json()["job_id"]
        .as_str()
        .expect("job_id")
        .to_string();
    let status = alice.wait_for(&job, "COMPLETED").await;
    let cont = cont_id(&status);
    let out = alice.api.get(&format!("/stdout?cont_id={cont}")).await;
    assert_eq!(out.body["stdout"], json!("from a file: analysis.sh\n"));
    let info = alice.api.get(&format!("/info?cont_id={cont}")).await.body;
    assert_eq!(info["image"], json!("local/busybox:latest"), "{info}");
    assert_eq!(info["script"], json!("analysis.sh"), "{info}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nds_routes_refuse_anonymous_callers_and_bad_input() {
    let server = Server::start().await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    let job = alice.submit(json!({"script": "true"})).await;
    let cont = cont_id(&alice.wait_for(&job, "COMPLETED").await);

    let routes = [
        (Method::GET, format!("/upload?job_id={job}")),
        (Method::POST, "/upload".to_string()),
        (Method::DELETE, format!("/upload?job_id={job}")),
        (Method::GET, format!("/stdout?cont_id={cont}")),
        (Method::GET, format!("/stop?cont_id={cont}")),
        (Method::GET, format!("/info?cont_id={cont}")),
        (Method::GET, "/info".to_string()),
        (Method::GET, format!("/diff?cont_id={cont}")),
        (Method::GET, format!("/metric?cont_id={cont}")),
        (Method::GET, format!("/download?job_id={job}")),
        (Method::GET, "/list_images".to_string()),
        (Method::GET, "/list_container".to_string()),
        (Method::GET, "/list_data".to_string()),
        (Method::GET, "/v1/datasets".to_string()),
        (Method::POST, "/v1/datasets".to_string()),
        (Method::GET, "/v1/datasets/x".to_string()),
    ];
    for (method, path) in &routes {
        for token in [None, Some("not-a-token")] {
            let reply = alice.raw(method.clone(), path, None, token).await;
            assert_eq!(
                reply.status,
                401,
                "{method} {path} with {token:?}: {}",
                reply.text()
            );
            assert!(
                reply.json()["error"].is_string(),
                "{method} {path}: {}",
                reply.text()
            );
        }
    }
    // The job is untouched by all that.
    assert_eq!(alice.status(&job).await["state"], json!("COMPLETED"));

    let bad_uploads = [
        (json!({}), "script"),
        (json!({"script": ""}), "script"),
        (
            json!({"script": "true", "image_name": "nosuchimage", "image_tag": "v9"}),
            "nosuchimage:v9",
        ),
        (
            json!({"script": "true", "image_name": "Bad Name"}),
            "image_name",
        ),
        (json!({"script": "true", "image_tag": "-x"}), "image_tag"),
        (
            json!({"script": "true", "scriptname": "../escape.sh"}),
            "scriptname",
        ),
        (
            json!({"script": "true", "data": "no-such-set"}),
            "no-such-set",
        ),
        (json!({"script": "true", "data": "../.."}), "data"),
        (json!({"script": 42}), "script"),
        (json!({"script": "true", "file": "x.sh"}), "file"),
    ];
    for (body, mentions) in bad_uploads {
        let reply = alice.api.post("/upload", &body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert!(
            error_of(&reply).contains(mentions),
            "{body}: {}",
            reply.text
        );
    }
    alice
        .api
        .post_raw("/upload", "{not json")
        .await
        .status_is(400);
    let both = alice
        .post_multipart(
            "/upload",
            &[
                Part {
                    name: "script",
                    file_name: None,
                    data: b"true",
                },
                Part {
                    name: "file",
                    file_name: Some("a.sh"),
                    data: b"true",
                },
            ],
        )
        .await;
    assert_eq!(both.status, 400, "{}", both.text());

    let unknown = uuid::Uuid::new_v4();
    for (path, code) in [
        ("/upload".to_string(), 400),
        ("/upload?job_id=12".to_string(), 400),
        (format!("/upload?job_id={unknown}"), 404),
        ("/stdout".to_string(), 400),
        ("/stdout?cont_id=xyz".to_string(), 400),
        ("/stdout?cont_id=%00%ff".to_string(), 400),
        ("/diff?cont_id=0123456789ab".to_string(), 404),
        ("/metric?cont_id=".to_string(), 400),
        ("/stop".to_string(), 400),
        ("/download?path=x".to_string(), 400),
        (format!("/download?job_id={unknown}"), 404),
    ] {
        let reply = alice.api.get(&path).await;
        assert_eq!(reply.status, code, "{path}: {}", reply.text);
        error_of(&reply);
    }
    let reply = alice.api.delete(&format!("/upload?job_id={unknown}")).await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    // Nothing bad input did left a container behind.
    assert_eq!(job_containers(&server), vec![cont]);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_user_gets_404_for_a_job_and_sees_none_of_it() {
    let server = Server::start().await;
    // The first user is an administrator and sees every job: keep A and B ordinary.
    NdsUser::sign_up(&server.url, "admin").await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    let bob = NdsUser::sign_up(&server.url, "bob").await;
    let job = alice
        .submit(json!({"script": "echo secret > s.txt; sleep 300"}))
        .await;
    let cont = cont_id(&alice.wait_for(&job, "RUNNING").await);

    for path in [
        format!("/upload?job_id={job}"),
        format!("/stdout?cont_id={cont}"),
        format!("/stdout?cont_id={}", &cont[..12]),
        format!("/stop?cont_id={cont}"),
        format!("/info?cont_id={cont}"),
        format!("/diff?cont_id={cont}"),
        format!("/metric?cont_id={cont}"),
        format!("/download?job_id={job}&path=s.txt"),
    ] {
        let reply = bob.api.get(&path).await;
        assert_eq!(reply.status, 404, "bob GET {path}: {}", reply.text);
        error_of(&reply);
    }
    bob.api
        .delete(&format!("/upload?job_id={job}"))
        .await
        .status_is(404);
    assert_eq!(
        bob.api.get("/list_container").await.status_is(200).body,
        json!([])
    );
    assert_eq!(bob.api.get("/info").await.status_is(200).body, json!([]));

    // Bob's stop and delete did nothing to it.
    assert_eq!(alice.status(&job).await["state"], json!("RUNNING"));
    let file = alice
        .get_bytes(&format!("/download?job_id={job}&path=s.txt"))
        .await;
    assert_eq!(file.text(), "secret\n");
    assert_eq!(
        alice.api.get("/list_container").await.body[0]["job_id"],
        json!(job)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_nobody_watched_still_shows_its_last_resource_use_after_it_ended() {
    let server = Server::start().await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    // Longer than the server's sampling period (10 s), and never asked about.
    let job = alice.submit(json!({"script": "sleep 14"})).await;
    let status = alice.wait_for(&job, "COMPLETED").await;
    let cont = cont_id(&status);
    let metric = alice.read("metric", &cont).await;
    assert_eq!(metric["state"], json!("COMPLETED"), "{metric}");
    assert!(
        metric["memory_usage"].as_u64().is_some_and(|m| m > 0),
        "{metric}"
    );
    assert!(metric["sampled"].is_string(), "{metric}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_keeps_running_through_a_server_restart_and_reads_right_afterwards() {
    let mut server = Server::start().await;
    let mut alice = NdsUser::sign_up(&server.url, "alice").await;
    let finished = alice.submit(json!({"script": "echo early"})).await;
    let finished_cont = cont_id(&alice.wait_for(&finished, "COMPLETED").await);
    let job = alice
        .submit(json!({"script": "echo started; sleep 12; echo done > done.txt; echo finished"}))
        .await;
    let cont = cont_id(&alice.wait_for(&job, "RUNNING").await);

    server.restart_killed().await;
    alice.api.base = server.url.clone();

    let status = alice.status(&job).await;
    assert_eq!(
        status["state"],
        json!("RUNNING"),
        "right after the restart: {status}"
    );
    assert_eq!(cont_id(&status), cont);
    assert!(
        status["finished"].is_null() && status["exit_code"].is_null(),
        "{status}"
    );
    let listed = alice.api.get("/list_container").await.status_is(200).body;
    assert_eq!(listed[1]["state"], json!("RUNNING"), "{listed}");
    assert_eq!(alice.status(&finished).await["state"], json!("COMPLETED"));

    let status = alice.wait_for(&job, "COMPLETED").await;
    assert_eq!(status["exit_code"], json!(0), "{status}");
    assert_eq!(cont_id(&status), cont);
    let out = alice
        .api
        .get(&format!("/stdout?cont_id={cont}"))
        .await
        .status_is(200);
    assert_eq!(out.body["stdout"], json!("started\nfinished\n"));
    let file = alice
        .get_bytes(&format!("/download?job_id={job}&path=done.txt"))
        .await;
    assert_eq!(file.text(), "done\n");

    // Reconciler passes after the restart keep both finished jobs' containers.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut kept = job_containers(&server);
    kept.sort();
    let mut want = vec![cont, finished_cont];
    want.sort();
    assert_eq!(kept, want);
    let running = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=berth.server={}", server.server_id),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        running.trim().is_empty(),
        "nothing was restarted: {running}"
    );
}
