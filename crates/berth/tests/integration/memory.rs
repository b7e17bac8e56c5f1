//! The server's memory stays bounded whatever a container holds or
//! prints: pod files are listed, downloaded and uploaded next to a 300 MB
//! file, and commands print 300 MB, while the server's peak resident set
//! (VmHWM) grows by well under 100 MB. Truncated output says so.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{NdsUser, Part, Server, wait_until};

const BIG_BYTES: u64 = 300 << 20;
/// What the server's peak resident set may grow by over the whole test.
const PEAK_GROWTH_LIMIT_KB: u64 = 100 << 10;
const PRINTS_300_MB: &str = "head -c 300000000 /dev/zero | tr '\\0' y";
const SLOW: Duration = Duration::from_secs(180);

/// The server's peak resident set so far, in kB.
fn peak_rss_kb(server: &Server) -> u64 {
    let pid = server.pid().expect("the server runs");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("its /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {status}"))
}

fn assert_peak_grew_little(server: &Server, before_kb: u64) {
    let after_kb = peak_rss_kb(server);
    eprintln!("the server's peak RSS: {before_kb} kB before, {after_kb} kB after");
    assert!(
        after_kb.saturating_sub(before_kb) < PEAK_GROWTH_LIMIT_KB,
        "the server's peak RSS went from {before_kb} kB to {after_kb} kB"
    );
}

/// Says where the output was cut, and keeps at most the last MiB.
fn assert_truncated(output: &str) {
    assert!(
        output.starts_with("[output truncated: first "),
        "{}",
        &output[..output.len().min(200)]
    );
    let (marker, tail) = output.split_once('\n').expect("a marker line");
    assert!(marker.ends_with(" bytes dropped]"), "{marker}");
    assert!(tail.len() <= 1 << 20, "{} bytes kept", tail.len());
    assert!(
        tail.ends_with('y') || tail.ends_with("y\n"),
        "{}",
        &tail[tail.len() - 20..]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pod_files_and_exec_output_stay_out_of_the_servers_memory() {
    let server = Server::start().await;
    let owner = NdsUser::sign_up(&server.url, "podowner").await;
    let api = owner.api.with_timeout(SLOW);
    api.post(
        "/v3/pods",
        &json!({"pod_id": "bigpod", "image": "busybox:latest", "command": ["sleep", "3600"]}),
    )
    .await
    .status_is(200);
    let exec = async |command: &str| {
        api.post(
            "/v3/pods/bigpod/exec",
            &json!({"commands": ["sh", "-c", command]}),
        )
        .await
    };
    wait_until(
        Duration::from_secs(60),
        "the pod runs commands",
        async || {
            let reply = exec("dd if=/dev/zero of=/big bs=1M count=300 2>&1").await;
            if reply.status == 200 {
                Ok(())
            } else {
                Err(reply.text)
            }
        },
    )
    .await;
    let before = peak_rss_kb(&server);

    // (26) Entries under `/` are `/big`, not `//big`.
    let listed = api
        .get("/v3/pods/bigpod/list_files?path=/")
        .await
        .status_is(200)
        .body;
    let entries = listed["result"].as_array().expect("a listing");
    let big = entries
        .iter()
        .find(|e| e["path"] == json!("/big"))
        .unwrap_or_else(|| panic!("no /big in {listed}"));
    assert_eq!(big["size"], json!(BIG_BYTES), "{big}");
    assert!(
        entries
            .iter()
            .all(|e| !e["path"].as_str().unwrap_or("").starts_with("//")),
        "{listed}"
    );
    let one = api
        .get("/v3/pods/bigpod/list_files?path=/big")
        .await
        .status_is(200)
        .body;
    assert_eq!(one["result"][0]["path"], json!("/big"), "{one}");

    // The download streams: counted here a chunk at a time.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(SLOW)
        .build()
        .unwrap();
    let mut res = http
        .request(
            Method::GET,
            format!("{}/v3/pods/bigpod/download_from_pod?path=/big", server.url),
        )
        .header("X-Tapis-Token", &owner.token)
        .send()
        .await
        .expect("a download");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"big\""
    );
    let mut downloaded = 0u64;
    while let Some(chunk) = res.chunk().await.expect("the download's bytes") {
        assert!(chunk.iter().all(|b| *b == 0));
        downloaded += chunk.len() as u64;
    }
    assert_eq!(downloaded, BIG_BYTES);

    // `/` is a directory: the file lands in it, found by a stat.
    let uploaded = owner
        .post_multipart(
            "/v3/pods/bigpod/upload_to_pod",
            &[
                Part {
                    name: "file",
                    file_name: Some("note.txt"),
                    data: b"hello\n",
                },
                Part {
                    name: "dest_path",
                    file_name: None,
                    data: b"/",
                },
            ],
        )
        .await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    assert_eq!(uploaded.json()["result"]["path"], json!("/note.txt"));
    let cat = exec("cat /note.txt").await.status_is(200).body;
    assert_eq!(
        cat["result"]["results"][0]["stdout"],
        json!("hello\n"),
        "{cat}"
    );

    // (7) 300 MB of output: the tail comes back, marked.
    let printed = exec(PRINTS_300_MB).await.status_is(200).body;
    let result = &printed["result"]["results"][0];
    let stdout = result["stdout"].as_str().expect("stdout");
    assert_truncated(stdout);
    assert_eq!(
        stdout.split_once('\n').unwrap().0,
        format!(
            "[output truncated: first {} bytes dropped]",
            300_000_000 - (1 << 20)
        )
    );
    assert_eq!(result["stderr"], json!(""));

    assert_peak_grew_little(&server, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn run_and_job_output_stay_out_of_the_servers_memory() {
    let server = Server::start().await;
    let user = NdsUser::sign_up(&server.url, "printer").await;
    let api = user.api.with_timeout(SLOW);
    let app = api.create_app("printer").await;
    api.deploy_sleeper(&app).await;
    let job = user.submit(json!({ "script": PRINTS_300_MB })).await;
    let status = user.wait_for(&job, "COMPLETED").await;
    let cont = crate::harness::cont_id(&status);
    let before = peak_rss_kb(&server);

    let ran = api
        .post(
            &format!("/v1/apps/{app}/run"),
            &json!({ "command": PRINTS_300_MB }),
        )
        .await
        .status_is(200)
        .body;
    assert_eq!(ran[0], json!(0), "exit code");
    assert_truncated(ran[1].as_str().expect("the output"));

    let out = api
        .get(&format!("/stdout?cont_id={cont}"))
        .await
        .status_is(200)
        .body;
    assert_truncated(out["stdout"].as_str().expect("stdout"));

    assert_peak_grew_little(&server, before);
}

/// Output under the bound comes back whole and unmarked.
#[tokio::test(flavor = "multi_thread")]
async fn short_run_output_is_whole() {
    let server = Server::start().await;
    let user = NdsUser::sign_up(&server.url, "short").await;
    let app = user.api.create_app("short").await;
    user.api.deploy_sleeper(&app).await;
    let ran: Value = user
        .api
        .post(
            &format!("/v1/apps/{app}/run"),
            &json!({ "command": "echo hi" }),
        )
        .await
        .status_is(200)
        .body;
    assert_eq!(ran, json!([0, "hi\n"]));
}
