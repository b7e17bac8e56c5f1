//! The router: requests by Host reach the app's ready instances straight on
//! their tenant network, with forwarding headers; unknown hosts, apps with
//! nothing ready and instances that fail get short answers; upgrades and
//! streams pass; and a release, a redeploy and a scale down under steady
//! traffic drop nothing.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Api, Server, unique_username};

fn demo_image() -> String {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_berth-demo-app"));
    berth_testkit::docker::demo_image(binary).unwrap_or_else(|e| panic!("{e}"))
}

/// A GET through the router for `host`.
async fn through(server: &Server, host: &str, path: &str) -> (u16, String) {
    let client = reqwest::Client::new();
    match client
        .get(format!("{}{path}", server.router_url))
        .header("host", host)
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// Waits until `host` answers `status` through the router.
async fn until_status(server: &Server, host: &str, status: u16) -> String {
    let mut last = (0, String::new());
    for _ in 0..200 {
        last = through(server, host, "/").await;
        if last.0 == status {
            return last.1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{host} never answered {status}; last: {last:?}");
}

/// The instances that answer for `host`, asking until `want` of them did
/// (or 10 s passed); every answer must be a 200.
async fn answering_instances(server: &Server, host: &str, want: usize) -> BTreeSet<String> {
    let mut instances = BTreeSet::new();
    for _ in 0..200 {
        let (status, text) = through(server, host, "/").await;
        assert_eq!(status, 200, "{text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        instances.insert(body["instance"].as_str().unwrap().to_string());
        if instances.len() >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    instances
}

async fn deploy_demo(api: &Api, app: &str) {
    api.post(
        &format!("/v1/apps/{app}/builds"),
        &json!({"image": demo_image()}),
    )
    .await
    .status_is(201);
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_by_host_and_domain_to_every_ready_instance() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("router")).await;
    let app = api.create_app("web").await;
    let host = format!("{app}.berth.local");

    // Unknown hosts and apps with nothing to run.
    let (status, text) = through(&server, "nobody.berth.local", "/").await;
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("nobody.berth.local"), "{text}");
    until_status(&server, &host, 503).await;

    deploy_demo(&api, &app).await;
    api.post(&format!("/v1/apps/{app}/scale"), &json!({"cmd": 2}))
        .await
        .status_is(204);
    let body: Value = serde_json::from_str(&until_status(&server, &host, 200).await).unwrap();
    let headers = &body["headers"];
    assert_eq!(headers["host"], host.as_str());
    assert_eq!(headers["x-forwarded-host"], host.as_str());
    assert_eq!(headers["x-forwarded-proto"], "http");
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(headers["x-request-id"].as_str().unwrap().len(), 32);

    // Both instances answer, in turn (the scale answers once both are up;
    // each joins the table when its port opens).
    assert_eq!(answering_instances(&server, &host, 2).await.len(), 2);

    // A custom domain reaches the same app; Host case and port do not matter.
    api.post(
        &format!("/v1/apps/{app}/domains"),
        &json!({"domain": format!("www.{app}.example")}),
    )
    .await
    .status_is(201);
    until_status(&server, &format!("WWW.{app}.example:80"), 200).await;

    // Chunked answers stream through.
    let (status, text) = through(&server, &host, "/stream").await;
    assert_eq!(
        (status, text.as_str()),
        (200, "chunk 1\nchunk 2\nchunk 3\n")
    );

    // An upgrade joins client and instance end to end.
    let router = server.router_url.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&router).await.unwrap();
    socket
        .write_all(
            format!(
                "GET /ws HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = vec![0u8; 1024];
    let n = socket.read(&mut head).await.unwrap();
    let head = String::from_utf8_lossy(&head[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    socket.write_all(b"ping over the upgrade").await.unwrap();
    let mut echo = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut echo))
        .await
        .expect("no echo within 5 s")
        .unwrap();
    assert_eq!(&echo[..n], b"ping over the upgrade");

    // Turned off: nothing is ready, and the router says so.
    api.post(&format!("/v1/apps/{app}/scale"), &json!({"cmd": 0}))
        .await
        .status_is(204);
    until_status(&server, &host, 503).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tutum_application_serves_http_at_its_web_public_dns() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("tutum")).await;
    // Tutum creates and deploys at once; the port with outer_port null is
    // the one HTTP reaches.
    let reply = api
        .post(
            "/api/v1/application/",
            &json!({"image_tag": demo_image(), "name": "tweb", "target_num_containers": 2,
                    "container_ports": [{"protocol": "tcp", "inner_port": 8000}]}),
        )
        .await;
    assert!([201, 202].contains(&reply.status), "{}", reply.text);
    let uuid = reply.body["uuid"].as_str().unwrap().to_string();
    let dns = reply.body["web_public_dns"].as_str().unwrap().to_string();
    assert!(dns.ends_with(".berth.local"), "{dns}");
    let body: Value = serde_json::from_str(&until_status(&server, &dns, 200).await).unwrap();
    assert_eq!(body["headers"]["host"], dns.as_str());
    assert_eq!(answering_instances(&server, &dns, 2).await.len(), 2);

    // Each container also publishes the port on the tenant-safety address.
    let containers = api
        .get(&format!("/api/v1/container/?application__uuid={uuid}"))
        .await;
    let containers = containers.body["objects"].as_array().unwrap();
    assert_eq!(containers.len(), 2, "{containers:?}");
    for container in containers {
        let ports = container["container_ports"].as_array().unwrap();
        let port = ports.iter().find(|p| p["inner_port"] == 8000);
        assert!(
            port.is_some_and(|p| p["outer_port"].as_u64().is_some()),
            "{container}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_right_after_a_deploy_waits_for_the_app_to_open_its_port() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("router")).await;
    let app = api.create_app("slow").await;
    let host = format!("{app}.berth.local");
    // It opens its port a second after it starts: the build answers once
    // the instance is up (no declared check), before the port is open.
    api.post(
        &format!("/v1/apps/{app}/config"),
        &json!({"values": {"START_DELAY_MS": "1000"}}),
    )
    .await
    .status_is(201);
    deploy_demo(&api, &app).await;
    let (status, text) = through(&server, &host, "/").await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_that_does_not_answer_gives_502() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("router")).await;
    let app = api.create_app("mute").await;
    // It never opens its port: after the grace period it counts as serving no
    // HTTP, gets routed anyway, and the router answers for it.
    api.deploy_sleeper(&app).await;
    let text = until_status(&server, &format!("{app}.berth.local"), 502).await;
    assert!(text.contains(&app), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn releases_redeploys_and_scale_downs_drop_no_request() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("rollout")).await;
    let app = api.create_app("steady").await;
    let host = format!("{app}.berth.local");
    deploy_demo(&api, &app).await;
    api.post(
        &format!("/v1/apps/{app}/config"),
        &json!({"values": {"HEALTHCHECK_URL": "/healthz", "GREETING": "one"}}),
    )
    .await
    .status_is(201);
    api.post(&format!("/v1/apps/{app}/scale"), &json!({"cmd": 2}))
        .await
        .status_is(204);
    until_status(&server, &host, 200).await;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (stop, sent, failed, failures) =
            (stop.clone(), sent.clone(), failed.clone(), failures.clone());
        let (router, host) = (server.router_url.clone(), host.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let answer = client
                    .get(format!("{router}/"))
                    .header("host", &host)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                sent.fetch_add(1, Ordering::Relaxed);
                match answer {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        failures.lock().unwrap().push(format!("{}", r.status()));
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        failures.lock().unwrap().push(e.to_string());
                    }
                }
            }
        }));
    }
    // A config change (new release), a redeploy of the image, a scale down.
    api.post(
        &format!("/v1/apps/{app}/config"),
        &json!({"values": {"GREETING": "two"}}),
    )
    .await
    .status_is(201);
    deploy_demo(&api, &app).await;
    api.post(&format!("/v1/apps/{app}/scale"), &json!({"cmd": 1}))
        .await
        .status_is(204);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(sent > 50, "only {sent} requests were sent");
    assert_eq!(
        failed,
        0,
        "{failed} of {sent} requests failed: {:?}",
        failures.lock().unwrap()
    );
    let body: Value = serde_json::from_str(&through(&server, &host, "/").await.1).unwrap();
    assert_eq!(body["greeting"], "two");
    assert_eq!(body["release"], "v5");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pod_with_tapis_auth_lets_in_only_signed_in_users() {
    let server = Server::start().await;
    let username = unique_username("podder");
    let (api, _) = Api::sign_up(&server.url, &username).await;
    let token = api.token().expect("a token").to_string();
    api.post(
        "/v3/pods",
        &json!({"pod_id": "guarded", "image": demo_image(),
                "networking": {"default": {"protocol": "http", "port": 5000, "tapis_auth": true,
                    "tapis_auth_response_headers": {"X-Tapis-Username": "<<tapisusername>>"}}}}),
    )
    .await
    .status_is(200);
    let host = "guarded.berth.local";
    // Without a token: 401 for a program, a login redirect for a browser.
    let text = until_status(&server, host, 401).await;
    assert!(text.contains("token"), "{text}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let browser = client
        .get(format!("{}/", server.router_url))
        .header("host", host)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status().as_u16(), 302);
    let location = browser.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("/v3/pods/guarded/auth"), "{location}");
    // A bad token is refused; a good one passes, and the pod learns who it is.
    let refused = client
        .get(format!("{}/", server.router_url))
        .header("host", host)
        .header("x-tapis-token", "not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let mut answer = None;
    for _ in 0..100 {
        let r = client
            .get(format!("{}/", server.router_url))
            .header("host", host)
            .header("x-tapis-token", &token)
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 200 {
            answer = Some(r.text().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body: Value = serde_json::from_str(&answer.expect("the pod never answered")).unwrap();
    assert_eq!(body["headers"]["x-tapis-username"], username.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_is_served_by_sni_with_the_certificate_a_user_added() {
    let server = Server::start_with_env(&[("BERTH_ROUTER_TLS_LISTEN", "127.0.0.1:0")]).await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("tls")).await;
    let app = api.create_app("secure").await;
    let host = format!("{app}.berth.local");
    deploy_demo(&api, &app).await;
    until_status(&server, &host, 200).await;

    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg(format!("/CN={host}"))
        .arg("-addext")
        .arg(format!("subjectAltName=DNS:{host}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    api.post(
        "/v1/certs",
        &json!({"certificate": std::fs::read_to_string(&cert).unwrap(),
                "key": std::fs::read_to_string(&key).unwrap()}),
    )
    .await
    .status_is(201);

    let port = server
        .router_tls_url
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let mut last = String::new();
    for _ in 0..50 {
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "5", "--cacert"])
            .arg(&cert)
            .arg("--resolve")
            .arg(format!("{host}:{port}:127.0.0.1"))
            .arg(format!("https://{host}:{port}/"))
            .output()
            .expect("curl runs");
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            let body: Value = serde_json::from_str(&last).unwrap();
            assert_eq!(body["headers"]["x-forwarded-proto"], "https");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("https://{host} never answered with the added certificate: {last}");
}
