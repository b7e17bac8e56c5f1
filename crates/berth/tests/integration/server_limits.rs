//! How the server faces its clients: a deadline for request headers, a cap
//! on open connections, a bounded shutdown that also ends follow streams,
//! a private data dir, `/healthz` staying fast while logins are hashed,
//! and an administrator made before the server starts.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use berth_testkit::{Launch, PASSWORD};

use crate::harness::{Api, Server, unique_username};

fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection or `wait` passes; true when it closed.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let server = Server::start_with_env(&[("BERTH_HEADER_TIMEOUT", "2")]).await;
    let mut slow = TcpStream::connect(address(&server)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(8)).await,
        "a client without the end of its headers kept its connection"
    );
    // Clients that finish their headers are served as before.
    Api::new(&server.url).get("/healthz").await.status_is(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_trickles_its_body_is_cut_off() {
    let server = Server::start_with_env(&[("BERTH_BODY_TIMEOUT", "2")]).await;
    let mut slow = TcpStream::connect(address(&server)).await.unwrap();
    slow.write_all(
        b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    )
    .await
    .unwrap();
    let started = Instant::now();
    // A byte a second keeps the connection busy but never finishes the body.
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if slow.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(12), trickle)
        .await
        .ok();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 4") || answer.is_empty(),
        "the trickled request got {answer:?}"
    );
    assert!(
        closed_within(&mut slow, Duration::from_secs(1)).await,
        "a client trickling its body kept its connection"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the body had no deadline"
    );
    Api::new(&server.url).get("/healthz").await.status_is(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let server = Server::start_with_env(&[("BERTH_MAX_CONNECTIONS", "2")]).await;
    let held: Vec<TcpStream> = vec![
        TcpStream::connect(address(&server)).await.unwrap(),
        TcpStream::connect(address(&server)).await.unwrap(),
    ];
    let quick = Api::new(&server.url).with_timeout(Duration::from_secs(2));
    assert!(
        quick.send(Method::GET, "/healthz", None).await.is_err(),
        "a third connection was served while two were open"
    );
    drop(held);
    let served = Api::new(&server.url)
        .with_timeout(Duration::from_secs(10))
        .send(Method::GET, "/healthz", None)
        .await;
    assert_eq!(served.map(|r| r.status).ok(), Some(200));
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_ends_follow_streams_and_unfinished_requests_within_the_grace_period() {
    let mut server = Server::start_with_env(&[("BERTH_SHUTDOWN_GRACE", "2")]).await;
    let username = unique_username("follow");
    let (api, _) = Api::sign_up(&server.url, &username).await;
    let app = api.create_app("follow").await;
    let login = Api::new(&server.url)
        .post(
            "/v1/auth/login",
            &json!({"username": username, "password": PASSWORD}),
        )
        .await;
    let token = login.body["token"].as_str().unwrap().to_string();
    // A follow stream that never ends on its own.
    let follow = reqwest::Client::new()
        .get(format!("{}/v1/apps/{app}/logs?follow=true", server.url))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .expect("the follow stream starts");
    assert_eq!(follow.status(), 200);
    // A request whose body never arrives in full.
    let mut unfinished = TcpStream::connect(address(&server)).await.unwrap();
    unfinished
        .write_all(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    server.terminate(Duration::from_secs(15)).await;
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "the server took {took:?} to stop with a follow stream open"
    );
    drop(follow);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_dir_and_database_are_private() {
    let server = Server::start().await;
    // A write, so the write-ahead log exists.
    Api::sign_up(&server.url, &unique_username("modes")).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&server.data_dir), 0o700, "data dir");
    for name in ["berth.db", "berth.db-wal", "berth.db-shm"] {
        let path = server.data_dir.join(name);
        if name == "berth.db" || path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
}

/// Concurrent wrong logins: hashing them on the async workers would
/// hold `/healthz` up for seconds.
const BURST: usize = 40;

#[tokio::test(flavor = "multi_thread")]
async fn healthz_stays_fast_during_a_burst_of_wrong_logins() {
    let server = Server::start().await;
    let victim = unique_username("victim");
    Api::sign_up(&server.url, &victim).await;
    let anonymous = Api::new(&server.url).with_timeout(Duration::from_secs(120));
    let burst: Vec<_> = (0..BURST)
        .map(|i| {
            let api = anonymous.clone();
            // Most for the real user (a hash each), some for unknown ones.
            let username = if i % 4 != 0 {
                victim.clone()
            } else {
                format!("nobody{i}")
            };
            tokio::spawn(async move {
                api.send(
                    Method::POST,
                    "/v1/auth/login",
                    Some(&json!({"username": username, "password": "wrong-password"}).to_string()),
                )
                .await
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    while !burst.iter().all(|login| login.is_finished()) {
        let started = Instant::now();
        anonymous.get("/healthz").await.status_is(200);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("slowest /healthz during the burst: {slowest:?}");
    for login in burst {
        let status = login.await.unwrap().map(|r| r.status).unwrap_or(0);
        assert!(
            [400, 401, 429].contains(&status),
            "a wrong login answered {status}"
        );
    }
    assert!(
        slowest < Duration::from_millis(1000),
        "/healthz took {slowest:?} during the burst"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_made_before_start_owns_a_closed_server() {
    let root = tempfile::tempdir().unwrap();
    let launch =
        Launch::new(env!("CARGO_BIN_EXE_berth"), root.path()).env("BERTH_REGISTRATION", "closed");
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["admin", "create", "--username", "boss"])
        .args(["--password", "boss-password-1"])
        .arg("--data-dir")
        .arg(launch.data_dir())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = launch.start().await.unwrap();
    let anonymous = Api::new(&server.url);
    let refused = anonymous
        .post(
            "/v1/auth/register",
            &json!({"username": "early", "password": "early-bird-1"}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let login = anonymous
        .post(
            "/v1/auth/login",
            &json!({"username": "boss", "password": "boss-password-1"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let boss = Api::new(&server.url).with_token(login.body["token"].as_str().unwrap());
    let users = boss.get("/v1/users").await;
    assert_eq!(
        users.status, 200,
        "the administrator is one: {}",
        users.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_from_the_environment_is_made_at_start() {
    let server = Server::start_with_env(&[
        ("BERTH_REGISTRATION", "admin"),
        ("BERTH_ADMIN_USERNAME", "chief"),
        ("BERTH_ADMIN_PASSWORD", "chief-password-1"),
    ])
    .await;
    let anonymous = Api::new(&server.url);
    let refused = anonymous
        .post(
            "/v1/auth/register",
            &json!({"username": "early", "password": "early-bird-1"}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let login = anonymous
        .post(
            "/v1/auth/login",
            &json!({"username": "chief", "password": "chief-password-1"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let chief = Api::new(&server.url).with_token(login.body["token"].as_str().unwrap());
    // In `admin` mode an administrator registers accounts.
    let made = chief
        .post(
            "/v1/auth/register",
            &json!({"username": "invited", "password": "invited-pw-1"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
}
