//! The NDS Labs job API at the root paths, through HTTP against the real
//! engine: script jobs, their output, files and state (also across a
//! server restart), data sets, bad input and isolation between users.

use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Api, Reply, Server, docker, unique_username, wait_until};

const JOB_DONE: Duration = Duration::from_secs(30);

/// A signed-up user of the NDS API: the `/v1` client for JSON, and the
/// token for requests that client does not make (`Bearer`, other bodies).
struct NdsUser {
    api: Api,
    token: String,
    http: reqwest::Client,
}

/// A response read as bytes.
struct Raw {
    status: u16,
    content_type: String,
    bytes: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// One part of a multipart form: a text field, or a file when it has a file name.
struct Part<'a> {
    name: &'a str,
    file_name: Option<&'a str>,
    data: &'a [u8],
}

fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = "berth-nds-test-boundary-7f3a";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match part.file_name {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                part.name
            ),
            None => format!(
                "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                part.name
            ),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(part.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl NdsUser {
    async fn sign_up(base: &str, prefix: &str) -> NdsUser {
        NdsUser::sign_up_as(base, &unique_username(prefix)).await
    }

    async fn sign_up_as(base: &str, username: &str) -> NdsUser {
        let (api, _) = Api::sign_up(base, username).await;
        // A fresh token this test knows (the old one is revoked).
        let reply = api.post("/v1/auth/tokens", &json!({})).await.status_is(200);
        let token = reply.body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {}", reply.text))
            .to_string();
        NdsUser {
            api: api.with_token(&token),
            token,
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(45))
                .build()
                .expect("cannot build an HTTP client"),
        }
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        token: Option<&str>,
    ) -> Raw {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.api.base));
        if let Some(token) = token {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("Content-Type", content_type).body(bytes);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = res.bytes().await.expect("response body").to_vec();
        Raw {
            status,
            content_type,
            bytes,
        }
    }

    async fn get_bytes(&self, path: &str) -> Raw {
        self.raw(Method::GET, path, None, Some(&self.token)).await
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Raw {
        let res = self
            .http
            .post(format!("{}{path}", self.api.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        Raw {
            status: res.status().as_u16(),
            content_type: String::new(),
            bytes: res.bytes().await.expect("response body").to_vec(),
        }
    }

    /// `POST /v1/datasets` of one file under the data set `name`.
    async fn upload_file_dataset(&self, name: &[u8], file_name: &str, data: &[u8]) -> Raw {
        self.post_multipart(
            "/v1/datasets",
            &[
                Part {
                    name: "name",
                    file_name: None,
                    data: name,
                },
                Part {
                    name: "file",
                    file_name: Some(file_name),
                    data,
                },
            ],
        )
        .await
    }

    async fn post_multipart(&self, path: &str, parts: &[Part<'_>]) -> Raw {
        let (content_type, body) = multipart(parts);
        self.raw(
            Method::POST,
            path,
            Some((&content_type, body)),
            Some(&self.token),
        )
        .await
    }

    /// Submits a JSON job and returns its id.
    async fn submit(&self, body: Value) -> String {
        let reply = self.api.post("/upload", &body).await.status_is(201);
        reply.body["job_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no job_id: {}", reply.text))
            .to_string()
    }

    async fn status(&self, job: &str) -> Value {
        self.api
            .get(&format!("/upload?job_id={job}"))
            .await
            .status_is(200)
            .body
    }

    /// Waits until the job is in `state` and returns its status.
    async fn wait_for(&self, job: &str, state: &str) -> Value {
        wait_until(JOB_DONE, &format!("job {job} is {state}"), async || {
            let status = self.status(job).await;
            if status["state"] == json!(state) {
                Ok(status)
            } else {
                Err(status.to_string())
            }
        })
        .await
    }
}

fn cont_id(status: &Value) -> String {
    status["cont_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no cont_id: {status}"))
        .to_string()
}

fn error_of(reply: &Reply) -> &str {
    reply.body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{} gave no {{\"error\"}}: {}", reply.what, reply.text))
}

/// Paths in a tar, read with the system's tar.
fn tar_listing(bytes: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a.tar");
    std::fs::write(&path, bytes).expect("write tar");
    let out = Command::new("tar")
        .arg("-tf")
        .arg(&path)
        .output()
        .expect("cannot run tar");
    assert!(out.status.success(), "not a tar: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .collect()
}

/// Containers of this server labelled as jobs.
fn job_containers(server: &Server) -> Vec<String> {
    server
        .containers(None)
        .into_iter()
        .filter(|c| !c.label("berth.job").is_empty())
        .map(|c| c.id)
        .collect()
}

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

    let info = alice
        .api
        .get(&format!("/info?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
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

    let diff = alice
        .api
        .get(&format!("/diff?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
    assert!(
        diff.as_array()
            .is_some_and(|d| d.contains(&json!({"path": "/job/out/r.txt", "kind": "A"}))),
        "{diff}"
    );
    // Finished too fast for the periodic sampler to be sure to see it: the
    // shape, with figures only if a sample was taken.
    let metric = alice
        .api
        .get(&format!("/metric?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
    assert_eq!(metric["state"], json!("COMPLETED"));
    assert!(
        metric["memory_usage"].is_null() || metric["memory_usage"].is_u64(),
        "{metric}"
    );
    let stop = alice
        .api
        .get(&format!("/stop?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
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
    let metric = alice
        .api
        .get(&format!("/metric?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
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
    let info = alice
        .api
        .get(&format!("/info?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
    assert_eq!(info["command"], json!("/bin/sh loop.sh"));
    assert_eq!(info["container_state"], json!("running"));
    assert_eq!(alice.api.get("/info").await.body[0]["running"], json!(true));

    let stop = alice
        .api
        .get(&format!("/stop?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
    assert_eq!(stop["state"], json!("success"), "{stop}");
    assert!(stop["msg"].is_string(), "{stop}");
    let status = alice.status(&job).await;
    assert_eq!(status["state"], json!("FAILED"), "{status}");
    assert!(status["finished"].is_string(), "{status}");
    let again = alice
        .api
        .get(&format!("/stop?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
    assert_eq!(again["state"], json!("failed"), "{again}");
    // The last figures remain after the end (the periodic sampler may have
    // taken a later one than ours).
    let after = alice
        .api
        .get(&format!("/metric?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
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
            .post_multipart(
                "/v1/datasets",
                &[
                    Part {
                        name: "name",
                        file_name: None,
                        data: name.as_bytes(),
                    },
                    Part {
                        name: "file",
                        file_name: Some("x.tar"),
                        data: archive,
                    },
                ],
            )
            .await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
        assert!(reply.json()["error"].is_string());
    }
    for name in ["../up", ".hidden", "users", "a b"] {
        let reply = alice
            .post_multipart(
                "/v1/datasets",
                &[
                    Part {
                        name: "name",
                        file_name: None,
                        data: name.as_bytes(),
                    },
                    Part {
                        name: "file",
                        file_name: Some("f.txt"),
                        data: b"x",
                    },
                ],
            )
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
async fn a_job_nobody_watched_still_shows_its_last_resource_use_after_it_ended() {
    let server = Server::start().await;
    let alice = NdsUser::sign_up(&server.url, "alice").await;
    // Longer than the server's sampling period (10 s), and never asked about.
    let job = alice.submit(json!({"script": "sleep 14"})).await;
    let status = alice.wait_for(&job, "COMPLETED").await;
    let cont = cont_id(&status);
    let metric = alice
        .api
        .get(&format!("/metric?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
    assert_eq!(metric["state"], json!("COMPLETED"), "{metric}");
    assert!(
        metric["memory_usage"].as_u64().is_some_and(|m| m > 0),
        "{metric}"
    );
    assert!(metric["sampled"].is_string(), "{metric}");
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
