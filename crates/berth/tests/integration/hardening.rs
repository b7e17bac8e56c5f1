//! The confinement every container gets from a real engine: limits, a capped
//! log, no privilege escalation, dropped capabilities, ports published on
//! loopback, its owner's own network (other owners' containers out of
//! reach), and Berth labels an image cannot forge.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::{Api, IMAGE, NdsUser, Server, cont_id, docker, unique_username, wait_until};

const PIDS_LIMIT: i64 = 512;
const DEFAULT_MEMORY: i64 = 512 << 20;
const DEFAULT_CPU_SHARES: i64 = 1024;

/// `docker inspect` of one container.
fn inspect(id: &str) -> Value {
    let out = docker(&["inspect", id]).unwrap_or_else(|e| panic!("{e}"));
    let all: Value = serde_json::from_str(&out).expect("docker inspect prints JSON");
    all[0].clone()
}

/// Asserts the server's policy on one inspected container, which has
/// `memory` and `cpu_shares` (its app's own, or the server's defaults).
fn assert_confined(c: &Value, server: &Server, what: &str, memory: i64, cpu_shares: i64) {
    let host = &c["HostConfig"];
    assert_eq!(host["PidsLimit"], json!(PIDS_LIMIT), "{what}: {host}");
    assert_eq!(host["Memory"], json!(memory), "{what}: {host}");
    assert_eq!(host["CpuShares"], json!(cpu_shares), "{what}: {host}");
    assert_eq!(host["LogConfig"]["Type"], json!("json-file"), "{what}");
    assert_eq!(
        host["LogConfig"]["Config"]["max-size"],
        json!("10m"),
        "{what}"
    );
    assert_eq!(
        host["LogConfig"]["Config"]["max-file"],
        json!("3"),
        "{what}"
    );
    assert_eq!(
        host["SecurityOpt"],
        json!(["no-new-privileges:true"]),
        "{what}"
    );
    let dropped = host["CapDrop"].to_string();
    assert!(
        dropped.contains("NET_RAW") && dropped.contains("MKNOD"),
        "{what}: CapDrop {dropped}"
    );
    let network = host["NetworkMode"].as_str().unwrap_or_default();
    assert!(
        network.starts_with(&format!("berth-{}-u", server.server_id)),
        "{what}: network {network}"
    );
    for label in [
        "berth.app",
        "berth.instance",
        "berth.release",
        "berth.proc",
        "berth.num",
        "berth.job",
    ] {
        assert!(
            c["Config"]["Labels"][label].is_string(),
            "{what}: {label} unset"
        );
    }
}

/// The running containers of `app`, once there are `n`.
async fn running(server: &Server, app: &str, n: usize) -> Vec<String> {
    wait_until(
        std::time::Duration::from_secs(60),
        &format!("{n} running containers of {app}"),
        async || {
            let found: Vec<String> = server
                .containers(Some(app))
                .into_iter()
                .filter(|c| c.running && !c.label("berth.instance").is_empty())
                .map(|c| c.id)
                .collect();
            if found.len() == n {
                Ok(found)
            } else {
                Err(format!("{} running", found.len()))
            }
        },
    )
    .await
}

/// The container's address on its (single) network.
fn address(id: &str) -> String {
    let c = inspect(id);
    let networks = c["NetworkSettings"]["Networks"]
        .as_object()
        .expect("a container on a network");
    assert_eq!(networks.len(), 1, "{networks:?}");
    networks.values().next().unwrap()["IPAddress"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The output of a one-off `run` in `app`.
async fn run(api: &Api, app: &str, command: &str) -> String {
    let reply = api
        .post(
            &format!("/v1/apps/{app}/run"),
            &json!({ "command": command }),
        )
        .await
        .status_is(200);
    reply.body[1]
        .as_str()
        .unwrap_or_else(|| panic!("no output: {}", reply.text))
        .to_string()
}

async fn users(server: &Server) -> (Api, Api) {
    // The first user is an administrator: keep alice and bob ordinary.
    Api::sign_up(&server.url, &unique_username("admin")).await;
    let (alice, _) = Api::sign_up(&server.url, &unique_username("alice")).await;
    let (bob, _) = Api::sign_up(&server.url, &unique_username("bob")).await;
    (alice, bob)
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_runs_and_jobs_are_confined() {
    let server = Server::start().await;
    let (alice, _) = users(&server).await;

    // An app instance with a published port (Tutum's container_ports).
    let reply = alice
        .post(
            "/api/v1/application/",
            &json!({"image_tag": IMAGE, "name": "confined", "entrypoint": "sleep",
                    "run_command": "3600",
                    "container_ports": [{"protocol": "tcp", "inner_port": 8080}]}),
        )
        .await;
    assert!([201, 202].contains(&reply.status), "{}", reply.text);
    let app = reply.body["unique_name"].as_str().unwrap().to_string();
    let ids = running(&server, &app, 1).await;
    let instance = inspect(&ids[0]);
    // Tutum's default container size XS: 256M and 256 shares.
    assert_confined(&instance, &server, "instance", 256 << 20, 256);
    let bindings = &instance["HostConfig"]["PortBindings"]["8080/tcp"];
    assert_eq!(bindings[0]["HostIp"], json!("127.0.0.1"), "{bindings}");
    let published = &instance["NetworkSettings"]["Ports"]["8080/tcp"];
    assert!(
        published
            .as_array()
            .is_some_and(|b| !b.is_empty() && b.iter().all(|b| b["HostIp"] == json!("127.0.0.1"))),
        "{published}"
    );

    // A one-off run sees its limits from inside.
    let deis_app = alice.create_app("runs").await;
    alice.deploy_sleeper(&deis_app).await;
    let output = run(
        &alice,
        &deis_app,
        "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes; \
         grep -E 'CapEff|NoNewPrivs' /proc/self/status; grep nameserver /etc/resolv.conf",
    )
    .await;
    assert!(
        output.contains(&format!("{PIDS_LIMIT}\n{DEFAULT_MEMORY}\n")),
        "{output}"
    );
    assert!(output.contains("NoNewPrivs:\t1"), "{output}");
    // Docker's default set less NET_RAW and MKNOD.
    assert!(output.contains("CapEff:\t00000000a00405fb"), "{output}");
    // The embedded DNS of a user-defined network.
    assert!(output.contains("nameserver 127.0.0.11"), "{output}");

    // An NDS job, inspected while it runs.
    let nds = NdsUser::sign_up(&server.url, "carol").await;
    let job = nds.submit(json!({ "script": "sleep 30" })).await;
    let status = nds.wait_for(&job, "RUNNING").await;
    assert_confined(
        &inspect(&cont_id(&status)),
        &server,
        "NDS job",
        DEFAULT_MEMORY,
        DEFAULT_CPU_SHARES,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_owners_containers_reach_each_other_and_no_one_elses() {
    let server = Server::start().await;
    let (alice, bob) = users(&server).await;
    let procfile = json!({"web": "httpd -f -p 8080"});
    let alice_app = alice.create_app("web").await;
    alice
        .try_build(&alice_app, IMAGE, &procfile)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    alice.scale_web(&alice_app, 2).await;
    let targets: Vec<String> = running(&server, &alice_app, 2)
        .await
        .iter()
        .map(|id| address(id))
        .collect();
    let bob_app = bob.create_app("probe").await;
    bob.deploy_sleeper(&bob_app).await;

    // busybox httpd answers any request line with an HTTP status line.
    let probe = |ip: &str| format!("echo GET / HTTP/1.0 | nc -w 3 {ip} 8080 || echo unreachable");
    let mut alice_own = running(&server, &alice_app, 2).await;
    alice_own.sort();
    for ip in &targets {
        // From inside alice's other instance, then from bob's one-off run.
        let from_alice =
            docker(&["exec", &alice_own[0], "sh", "-c", &probe(ip)]).unwrap_or_else(|e| e);
        assert!(from_alice.contains("HTTP/1"), "alice -> {ip}: {from_alice}");
        let from_bob = run(&bob, &bob_app, &probe(ip)).await;
        assert!(
            !from_bob.contains("HTTP/1"),
            "bob reached alice's {ip}: {from_bob}"
        );
    }
    // Within bob's network the engine's DNS resolves his own containers.
    let bob_web = &server.containers(Some(&bob_app))[0].name;
    let own = run(
        &bob,
        &bob_app,
        &format!("nslookup {bob_web} && echo dns-ok"),
    )
    .await;
    assert!(own.contains("dns-ok"), "{own}");
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_an_image_carries_do_not_make_a_job_look_like_an_app() {
    let server = Server::start().await;
    let nds = NdsUser::sign_up(&server.url, "mallory").await;
    let image = format!("berth-forged-{}", &server.server_id);
    let dockerfile = format!(
        "FROM {IMAGE}\nLABEL berth.app=victim berth.instance=00000000-0000-0000-0000-000000000001 \
         berth.proc=web berth.num=1 berth.server={}\n",
        server.server_id
    );
    let mut build = Command::new("docker")
        .args(["build", "-q", "-t", &format!("{image}:latest"), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("cannot run docker build");
    build
        .stdin
        .take()
        .unwrap()
        .write_all(dockerfile.as_bytes())
        .unwrap();
    assert!(build.wait().unwrap().success(), "docker build failed");

    let job = nds
        .submit(json!({ "script": "sleep 30", "image_name": image, "image_tag": "latest" }))
        .await;
    let status = nds.wait_for(&job, "RUNNING").await;
    let c = inspect(&cont_id(&status));
    let labels = &c["Config"]["Labels"];
    for label in [
        "berth.app",
        "berth.instance",
        "berth.proc",
        "berth.num",
        "berth.release",
    ] {
        assert_eq!(labels[label], json!(""), "{label}: {labels}");
    }
    assert_eq!(labels["berth.job"], json!(job), "{labels}");
    // The reconciler takes no instance of any app for it, so it keeps running.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(nds.status(&job).await["state"], json!("RUNNING"));
    let _ = docker(&["rmi", "-f", &format!("{image}:latest")]);
}
