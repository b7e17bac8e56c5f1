//! One user's apps do not exist for another user, nor for anonymous callers.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Api, Server, exactly_running_web, unique_username};

#[tokio::test(flavor = "multi_thread")]
async fn another_user_gets_404_on_every_route_of_an_app_they_do_not_own() {
    let server = Server::start().await;
    // The first user is an administrator and sees every app: keep A and B ordinary.
    Api::sign_up(&server.url, &unique_username("admin")).await;
    let owner_name = unique_username("alice");
    let (alice, _) = Api::sign_up(&server.url, &owner_name).await;
    let (bob, _) = Api::sign_up(&server.url, &unique_username("bob")).await;
    let app = alice.create_app("private").await;
    alice.deploy_sleeper(&app).await;
    alice
        .post(
            &format!("/v1/apps/{app}/domains"),
            &json!({"domain": "private.example.com"}),
        )
        .await
        .status_is(201);

    let a = format!("/v1/apps/{app}");
    let routes: Vec<(Method, String, Option<String>)> = vec![
        (Method::GET, a.clone(), None),
        (Method::GET, format!("{a}/config"), None),
        (
            Method::POST,
            format!("{a}/config"),
            Some(r#"{"values": {"X": "1"}}"#.into()),
        ),
        (Method::GET, format!("{a}/builds"), None),
        (
            Method::POST,
            format!("{a}/builds"),
            Some(r#"{"image": "busybox:latest"}"#.into()),
        ),
        (Method::GET, format!("{a}/releases"), None),
        (Method::GET, format!("{a}/releases/v1"), None),
        (
            Method::POST,
            format!("{a}/releases/rollback"),
            Some("{}".into()),
        ),
        (Method::GET, format!("{a}/containers"), None),
        (Method::GET, format!("{a}/containers/web"), None),
        (Method::POST, format!("{a}/containers/restart"), None),
        (Method::POST, format!("{a}/containers/web/restart"), None),
        (Method::POST, format!("{a}/containers/web/1/restart"), None),
        (
            Method::POST,
            format!("{a}/scale"),
            Some(r#"{"web": 2}"#.into()),
        ),
        (Method::GET, format!("{a}/logs"), None),
        (
            Method::POST,
            format!("{a}/run"),
            Some(r#"{"command": "echo hi"}"#.into()),
        ),
        (Method::GET, format!("{a}/domains"), None),
        (
            Method::POST,
            format!("{a}/domains"),
            Some(r#"{"domain": "b.example.com"}"#.into()),
        ),
        (
            Method::DELETE,
            format!("{a}/domains/private.example.com"),
            None,
        ),
        (Method::GET, format!("{a}/perms"), None),
        (
            Method::POST,
            format!("{a}/perms"),
            Some(format!(r#"{{"username": "{owner_name}"}}"#)),
        ),
        (Method::DELETE, format!("{a}/perms/{owner_name}"), None),
        (Method::DELETE, a.clone(), None),
    ];
    let mut wrong = Vec::new();
    for (method, path, body) in &routes {
        let reply = bob
            .send(method.clone(), path, body.as_deref())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if reply.status != 404 {
            wrong.push(format!("{} → {} {}", reply.what, reply.status, reply.text));
        }
    }
    assert!(
        wrong.is_empty(),
        "not 404 for another user:\n{}",
        wrong.join("\n")
    );

    let bobs = bob.get("/v1/apps").await.status_is(200);
    assert_eq!(bobs.body["count"], json!(0), "{}", bobs.text);
    assert!(!bobs.text.contains(&app), "{}", bobs.text);
    let alices = alice.get("/v1/apps").await.status_is(200);
    assert!(alices.text.contains(&app), "{}", alices.text);

    // Nothing B tried took effect.
    alice.get(&a).await.status_is(200);
    exactly_running_web(&server.containers(Some(&app)), &app, 1)
        .unwrap_or_else(|e| panic!("B changed A's containers: {e}"));
    let releases = alice.get(&format!("{a}/releases")).await.status_is(200);
    assert_eq!(releases.body["count"], json!(2), "{}", releases.text);
    let domains = alice.get(&format!("{a}/domains")).await.status_is(200);
    assert_eq!(domains.body["count"], json!(1), "{}", domains.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_a_valid_token_get_401() {
    let server = Server::start().await;
    let (owner, _) = Api::sign_up(&server.url, &unique_username("owner")).await;
    let app = owner.create_app("guarded").await;

    let anonymous = Api::new(&server.url);
    let handshake = anonymous.get("/v1/").await.status_is(401);
    assert!(
        handshake.header("DEIS_API_VERSION").is_some(),
        "{handshake:?}"
    );

    let forged = anonymous.with_token("not-a-real-token");
    for api in [&anonymous, &forged] {
        let mut wrong = Vec::new();
        for (method, path, body) in [
            (Method::GET, "/v1/apps".to_string(), None),
            (
                Method::POST,
                "/v1/apps".to_string(),
                Some(r#"{"id": "sneaky"}"#),
            ),
            (Method::GET, format!("/v1/apps/{app}"), None),
            (Method::GET, format!("/v1/apps/{app}/config"), None),
            (
                Method::POST,
                format!("/v1/apps/{app}/scale"),
                Some(r#"{"web": 1}"#),
            ),
            (Method::DELETE, format!("/v1/apps/{app}"), None),
            (Method::GET, "/v1/keys".to_string(), None),
        ] {
            let reply = api
                .send(method, &path, body)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            if reply.status != 401 {
                wrong.push(format!("{} → {} {}", reply.what, reply.status, reply.text));
            }
        }
        assert!(
            wrong.is_empty(),
            "not 401 without a valid token:\n{}",
            wrong.join("\n")
        );
    }
    owner.get(&format!("/v1/apps/{app}")).await.status_is(200);
}
