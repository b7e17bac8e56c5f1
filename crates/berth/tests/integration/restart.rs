//! A SIGKILLed server, restarted on the same data dir, converges Docker
//! back to the desired state: no lost, duplicate or orphan containers.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::harness::{
    Api, Container, Reply, Server, docker, exactly_running_web, rows_match_docker, unique_username,
    wait_until,
};

const CONVERGE: Duration = Duration::from_secs(30);

/// Waits until the server's containers (all of them: anything else is an
/// orphan) are exactly web.1..web.n of `app`, then checks they stay so and
/// that the API's instance rows match them.
async fn converges_to_exactly(server: &Server, api: &Api, app: &str, n: u32) -> Vec<Container> {
    wait_until(
        CONVERGE,
        &format!("{app} runs exactly web=1..{n}"),
        async || exactly_running_web(&server.containers(None), app, n),
    )
    .await;
    // Settled, not passing through: the same containers a moment later.
    let first = server.containers(None);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = server.containers(None);
    exactly_running_web(&later, app, n).unwrap_or_else(|e| panic!("did not stay converged: {e}"));
    let ids = |cs: &[Container]| cs.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&first),
        ids(&later),
        "containers kept changing after convergence"
    );
    wait_until(CONVERGE, "instance rows match Docker", async || {
        rows_match_docker(api, app, &later).await
    })
    .await;
    later
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sigkill_a_removed_and_a_stopped_container_are_replaced_without_duplicates() {
    let mut server = Server::start().await;
    let (mut api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = api.create_app("crash").await;
    api.deploy_sleeper(&app).await;
    api.scale_web(&app, 3).await;
    let before = server.containers(Some(&app));
    exactly_running_web(&before, &app, 3).unwrap_or_else(|e| panic!("before the kill: {e}"));

    server.kill().await;
    // Behind the dead server's back: web.2 disappears, web.3 stops.
    docker(&["rm", "-f", &before[1].id]).unwrap_or_else(|e| panic!("{e}"));
    docker(&["stop", "-t", "1", &before[2].id]).unwrap_or_else(|e| panic!("{e}"));

    server.relaunch().await;
    api.base = server.url.clone();
    let after = converges_to_exactly(&server, &api, &app, 3).await;
    assert_eq!(
        after[0].id, before[0].id,
        "the untouched web.1 was replaced"
    );
    for c in &after {
        assert_eq!(
            c.label("berth.release"),
            before[0].label("berth.release"),
            "{c:?}"
        );
    }
    // The app itself is intact.
    let detail = api.get(&format!("/v1/apps/{app}")).await.status_is(200);
    assert_eq!(
        detail.body["structure"],
        json!({"web": 3}),
        "{}",
        detail.text
    );
}

/// Sends `{"web": n}` to every app at once, in the background.
fn scale_in_background(
    api: &Api,
    apps: &[String],
    n: u32,
) -> Vec<JoinHandle<Result<Reply, String>>> {
    apps.iter()
        .map(|app| {
            let api = api.clone();
            let path = format!("/v1/apps/{app}/scale");
            tokio::spawn(async move {
                api.send(Method::POST, &path, Some(&json!({ "web": n }).to_string()))
                    .await
            })
        })
        .collect()
}

/// Scales every app's web to 0, then to 5, SIGKILLs the server `delay` into
/// those requests and restarts it at once on the same data dir; returns
/// the replies to scaling them to 5 again.
async fn rescale_after_kill_during_scale_up(
    server: &mut Server,
    api: &mut Api,
    apps: &[String],
    delay: Duration,
) -> Vec<Reply> {
    for task in scale_in_background(api, apps, 0) {
        let reply = task.await.expect("a scale task panicked");
        reply.unwrap_or_else(|e| panic!("{e}")).status_is(204);
    }
    let left = server.containers(None);
    assert!(left.is_empty(), "web=0 still runs {left:#?}");

    let scaling = scale_in_background(api, apps, 5);
    tokio::time::sleep(delay).await;
    server.restart_killed().await;
    for task in scaling {
        // The request either finished before the kill or lost its server.
        if let Ok(reply) = task.await.expect("a scale task panicked") {
            assert_eq!(reply.status, 204, "{}", reply.text);
        }
    }
    api.base = server.url.clone();
    let mut replies = Vec::new();
    for task in scale_in_background(api, apps, 5) {
        let reply = task.await.expect("a scale task panicked");
        replies.push(reply.unwrap_or_else(|e| panic!("{e}")));
    }
    replies
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_300ms_into_scale_up_then_rescale_gives_exactly_five_distinct_instances() {
    let mut server = Server::start().await;
    let (mut api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = api.create_app("midscale").await;
    api.deploy_sleeper(&app).await;
    let apps = [app.clone()];
    for reply in
        rescale_after_kill_during_scale_up(&mut server, &mut api, &apps, Duration::from_millis(300))
            .await
    {
        reply.status_is(204);
    }
    converges_to_exactly(&server, &api, &app, 5).await;
}

/// The same at the very start of several scale-ups at once, so that the
/// engine is still busy with the dead server's requests when the new server
/// starts. The race is timing-dependent, so it is tried several times.
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_early_in_scale_ups_and_immediate_restart_never_fail_the_rescale() {
    let mut server = Server::start().await;
    let (mut api, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let mut apps = Vec::new();
    for _ in 0..3 {
        let app = api.create_app("earlykill").await;
        api.deploy_sleeper(&app).await;
        apps.push(app);
    }
    let mut failed = Vec::new();
    for ms in [40, 50, 60, 70, 80] {
        let delay = Duration::from_millis(ms);
        for reply in rescale_after_kill_during_scale_up(&mut server, &mut api, &apps, delay).await {
            if reply.status != 204 {
                failed.push(format!(
                    "killed after {ms} ms: {} → {} {}",
                    reply.what, reply.status, reply.text
                ));
            }
        }
        // Whatever the replies said, the server must get there by itself.
        wait_until(
            CONVERGE,
            &format!("every app runs web=1..5 (killed after {ms} ms)"),
            async || {
                let all = server.containers(None);
                for app in &apps {
                    let own: Vec<Container> = all
                        .iter()
                        .filter(|c| c.label("berth.app") == app)
                        .cloned()
                        .collect();
                    exactly_running_web(&own, app, 5)?;
                }
                if all.len() == 5 * apps.len() {
                    Ok(())
                } else {
                    Err(format!("{} containers, want {}", all.len(), 5 * apps.len()))
                }
            },
        )
        .await;
    }
    assert!(
        failed.is_empty(),
        "scaling to 5 again right after a restart failed, although the server then \
         converged by itself:\n{}",
        failed.join("\n")
    );
}
