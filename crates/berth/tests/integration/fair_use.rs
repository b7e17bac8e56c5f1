//! One tenant's trouble stays theirs: an app whose image must be pulled
//! from a registry that never answers does not hold up other users' changes.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::TcpListener;

use crate::harness::{Api, IMAGE, Server, docker, unique_username};

/// A registry on loopback (which the engine talks plain HTTP to) that
/// accepts connections and never answers: a pull from it hangs until the
/// reconciler's pull deadline.
async fn silent_registry() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    (port, held)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_whose_image_cannot_be_pulled_does_not_delay_another_users_scale() {
    let server = Server::start().await;
    let (port, registry) = silent_registry().await;
    let image = format!(
        "127.0.0.1:{port}/berth-stuck-{}:v1",
        uuid::Uuid::new_v4().simple()
    );
    docker(&["tag", IMAGE, &image]).unwrap();

    let (mallory, _) = Api::sign_up(&server.url, &unique_username("stuck")).await;
    let stuck = mallory.create_app("stuck").await;
    mallory
        .try_build(&stuck, &image, &json!({"web": "sleep 3600"}))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The image leaves the engine and so do the app's containers: the
    // reconciler has to pull it again, from the registry that never answers.
    docker(&["rmi", &image]).unwrap();
    for container in server.containers(Some(&stuck)) {
        let _ = docker(&["rm", "-f", &container.id]);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let (alice, _) = Api::sign_up(&server.url, &unique_username("bystander")).await;
    let app = alice.create_app("bystander").await;
    let started = Instant::now();
    alice.deploy_sleeper(&app).await;
    alice.scale_web(&app, 2).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(12),
        "another user's deploy and scale took {took:?} while a pull hung"
    );
    registry.abort();
}
