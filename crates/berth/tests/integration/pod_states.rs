//! A pod's states under stop, start and restart, polled every 20 ms: an
//! exit Berth caused is never shown as a crash, in the Tapis status, the
//! Tapis container phase or the Deis container state.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Api, Server, unique_username};

const POLL: Duration = Duration::from_millis(20);
const SETTLE: Duration = Duration::from_secs(60);
/// How long a reached state is watched to stay.
const HOLD: Duration = Duration::from_millis(1500);

const STARTING: &[&str] = &["REQUESTED", "SPAWNER SETUP", "CREATING", "AVAILABLE"];
const STOPPING: &[&str] = &["DELETING", "STOPPED"];

/// What one poll saw: the Tapis status and container phase, and the Deis
/// states of the pod's containers.
async fn observe(api: &Api, pod: &str) -> (String, Value, Vec<String>) {
    let tapis = api
        .get(&format!("/v3/pods/{pod}"))
        .await
        .status_is(200)
        .body;
    let deis = api
        .get(&format!("/v1/apps/{pod}/containers/"))
        .await
        .status_is(200)
        .body;
    let states = deis["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["state"].as_str().unwrap_or_default().to_string())
        .collect();
    (
        tapis["result"]["status"]
            .as_str()
            .unwrap_or_default()
            .into(),
        tapis["result"]["status_container"]["phase"].clone(),
        states,
    )
}

/// Polls until the pod shows `target`, then for [`HOLD`] more; every status
/// seen must be in `allowed`, and no view may show a crash. `once`: the
/// pod may not leave `target` after reaching it (else it may, as long as
/// it comes back and holds). Returns the statuses seen, repeats folded.
async fn walk(api: &Api, pod: &str, allowed: &[&str], target: &str, once: bool) -> Vec<String> {
    let deadline = Instant::now() + SETTLE;
    let mut seen: Vec<String> = Vec::new();
    let mut reached: Option<Instant> = None;
    loop {
        let (status, phase, deis) = observe(api, pod).await;
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        assert!(
            allowed.contains(&status.as_str()),
            "{pod}: status {status} is not one of {allowed:?}; seen {seen:?}"
        );
        assert_ne!(phase, json!("Failed"), "{pod}: phase Failed; seen {seen:?}");
        assert!(
            deis.iter().all(|s| s != "crashed" && s != "error"),
            "{pod}: Deis shows {deis:?}; seen {seen:?}"
        );
        match reached {
            Some(at) if at.elapsed() >= HOLD => return seen,
            Some(_) if status == target => {}
            Some(_) if once => panic!("{pod} left {target}; seen {seen:?}"),
            Some(_) => reached = None,
            None if status == target => reached = Some(Instant::now()),
            None => assert!(
                Instant::now() < deadline,
                "{pod} never reached {target}; seen {seen:?}"
            ),
        }
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_start_and_restart_show_only_legal_states() {
    let server = Server::start().await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("states")).await;
    let pod = "statepod";
    // Exits 143 on SIGTERM at once, as a well-behaved server does.
    api.post(
        "/v3/pods",
        &json!({"pod_id": pod, "image": "busybox:latest",
                "command": ["sh", "-c", "trap 'exit 143' TERM; while :; do sleep 0.1; done"]}),
    )
    .await
    .status_is(200);
    walk(&api, pod, STARTING, "AVAILABLE", true).await;

    for round in 0..2 {
        api.get(&format!("/v3/pods/{pod}/stop"))
            .await
            .status_is(200);
        walk(&api, pod, STOPPING, "STOPPED", true).await;

        api.get(&format!("/v3/pods/{pod}/start"))
            .await
            .status_is(200);
        let seen = walk(&api, pod, STARTING, "AVAILABLE", true).await;
        assert_eq!(
            seen.last().map(String::as_str),
            Some("AVAILABLE"),
            "round {round}"
        );

        api.get(&format!("/v3/pods/{pod}/restart"))
            .await
            .status_is(200);
        walk(&api, pod, STARTING, "AVAILABLE", true).await;

        // A start that comes while the stop is still under way: the stop
        // may land after it, and the pod comes back.
        api.get(&format!("/v3/pods/{pod}/stop"))
            .await
            .status_is(200);
        api.get(&format!("/v3/pods/{pod}/start"))
            .await
            .status_is(200);
        walk(&api, pod, STARTING, "AVAILABLE", false).await;
    }
    // Starting a running pod changes nothing.
    api.get(&format!("/v3/pods/{pod}/start"))
        .await
        .status_is(200);
    walk(&api, pod, &["AVAILABLE"], "AVAILABLE", true).await;
    api.delete(&format!("/v3/pods/{pod}")).await.status_is(200);
}
