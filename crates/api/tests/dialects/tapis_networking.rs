//! Tapis pod `networking`: entries are checked, each reports its own `url`,
//! the `/auth` login routes hand out one-time codes for the pod's host, and
//! `authorize_pod_traffic` (what the router asks per request) follows
//! `tapis_auth` and `tapis_auth_allowed_users`.

use axum::http::{Method, StatusCode};
use berth_core::pods::{TrafficDenied, TrafficUser};
use serde_json::{Value, json};

use crate::app::{IMAGE, PASSWORD, TestApp};

async fn create_pod(app: &TestApp, token: &str, pod_id: &str, networking: Value) {
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", token)
        .json(&json!({"pod_id": pod_id, "image": IMAGE, "networking": networking}))
        .send()
        .await
        .status_is(StatusCode::OK);
}

fn refused(message: &str) -> Value {
    json!({"message": message, "metadata": {}, "result": null, "status": "error",
           "version": "<string>"})
}

#[tokio::test]
async fn networking_entries_are_checked_on_create_and_update() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &alice)
        .json(&json!({"pod_id": "mypod", "image": IMAGE,
                      "networking": {"default": {"protocol": "udp"}}}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            refused("networking: default.protocol must be one of http, tcp, postgres, local_only"),
        );
    app.call(Method::POST, "/v3/pods")
        .header("x-tapis-token", &alice)
        .json(&json!({"pod_id": "mypod", "image": IMAGE,
                      "networking": {"default": {"port": 0}}}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            refused("networking: default.port must be a port number from 10 to 65535"),
        );
    create_pod(&app, &alice, "mypod", json!({})).await;
    let reply = app
        .call(Method::PUT, "/v3/pods/mypod")
        .header("x-tapis-token", &alice)
        .json(&json!({"networking": {"default": {"port": 8000, "colour": "red"}}}))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .starts_with("networking: default.colour is not a networking field"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn each_entry_reports_its_own_url() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    create_pod(
        &app,
        &alice,
        "mypod",
        json!({"default": {"port": 8000}, "api": {"protocol": "tcp", "port": 9000}}),
    )
    .await;
    let reply = app
        .call(Method::GET, "/v3/pods/mypod")
        .header("x-tapis-token", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(
        reply.body["result"]["networking"],
        json!({
            "api": {"protocol": "tcp", "port": 9000, "url": "mypod-api.berth.local"},
            "default": {"port": 8000, "url": "mypod.berth.local"},
        })
    );
}

/// The code in a redirect to the pod's callback.
fn code_of(location: &str, host: &str) -> String {
    let prefix = format!("http://{host}/_tapis/auth/callback?code=");
    location
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{location} does not go to {prefix}"))
        .to_string()
}

#[tokio::test]
async fn the_auth_routes_log_in_and_hand_a_code_to_the_pod_host() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    create_pod(
        &app,
        &alice,
        "mypod",
        json!({"default": {"tapis_auth": true, "tapis_auth_return_path": "/home"},
               "open": {"port": 8080}}),
    )
    .await;

    // Without a token: the login form.
    let form = app
        .call(Method::GET, "/v3/pods/mypod/auth")
        .send()
        .await
        .status_is(StatusCode::OK);
    assert!(
        form.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        form.text.contains("<form method=\"post\">"),
        "{}",
        form.text
    );

    // With a token: straight to the pod's host with a code.
    let reply = app
        .call(Method::GET, "/v3/pods/mypod/auth")
        .header("x-tapis-token", &alice)
        .send()
        .await
        .status_is(StatusCode::FOUND);
    let code = code_of(reply.header("location").unwrap(), "mypod.berth.local");
    assert!(
        app.berth
            .redeem_pod_auth_code(&code, "evil.berth.local")
            .is_none()
    );
    // A code tried on the wrong host is spent.
    assert!(
        app.berth
            .redeem_pod_auth_code(&code, "mypod.berth.local")
            .is_none()
    );

    // The form's post, wrong then right.
    app.call(Method::POST, "/v3/pods/mypod/auth")
        .raw(
            "application/x-www-form-urlencoded",
            "username=alice&password=wrong-password&origin=",
        )
        .send()
        .await
        .status_is(StatusCode::UNAUTHORIZED);
    let reply = app
        .call(Method::POST, "/v3/pods/mypod/auth")
        .raw(
            "application/x-www-form-urlencoded",
            format!(
                "username=alice&password={PASSWORD}&origin=http%3A%2F%2Fmypod.berth.local%3A8080"
            ),
        )
        .send()
        .await
        .status_is(StatusCode::SEE_OTHER);
    let code = code_of(reply.header("location").unwrap(), "mypod.berth.local:8080");
    let grant = app
        .berth
        .redeem_pod_auth_code(&code, "mypod.berth.local:8080")
        .expect("the code is good once");
    assert_eq!(
        (grant.pod_id.as_str(), grant.endpoint.as_str()),
        ("mypod", "default")
    );
    assert_eq!(grant.username, "alice");
    assert_eq!(grant.return_path, "/home");
    assert!(
        app.berth
            .redeem_pod_auth_code(&code, "mypod.berth.local")
            .is_none(),
        "a code is good only once"
    );
    // The session opens this endpoint, for alice.
    assert_eq!(
        app.berth
            .authorize_pod_traffic("mypod", "default", Some(&grant.session))
            .await
            .unwrap()
            .username
            .as_deref(),
        Some("alice")
    );

    // Codes go to the pod's own host only.
    app.call(
        Method::GET,
        "/v3/pods/mypod/auth?origin=https://evil.example",
    )
    .header("x-tapis-token", &alice)
    .send()
    .await
    .is(
        StatusCode::BAD_REQUEST,
        refused("origin: must be http(s)://mypod.berth.local[:port]"),
    );
    // Tapis's callback path passes the code on to the pod's host.
    let reply = app
        .call(Method::GET, "/v3/pods/mypod/auth/callback?code=abc123")
        .send()
        .await
        .status_is(StatusCode::FOUND);
    assert_eq!(
        reply.header("location"),
        Some("http://mypod.berth.local/_tapis/auth/callback?code=abc123")
    );
    app.call(Method::GET, "/v3/pods/mypod/auth/callback")
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            refused("code: the login code is missing"),
        );
    // An entry without tapis_auth, and a pod that does not exist.
    app.call(Method::GET, "/v3/pods/mypod-open/auth")
        .send()
        .await
        .is(
            StatusCode::FORBIDDEN,
            refused("pod mypod-open does not have tapis_auth configured"),
        );
    app.call(Method::GET, "/v3/pods/nopod/auth")
        .send()
        .await
        .is(StatusCode::NOT_FOUND, refused("pod nopod not found"));
}

#[tokio::test]
async fn traffic_follows_tapis_auth_and_the_allowed_users() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let reader = app.sign_up("reader").await;
    let stranger = app.sign_up("stranger").await;
    create_pod(
        &app,
        &alice,
        "mypod",
        json!({
            "default": {"tapis_auth": true,
                        "tapis_auth_response_headers": {"X-Tapis-Username": "<<tapisusername>>"}},
            "readers": {"tapis_auth": true, "tapis_auth_allowed_users": ["AUTHORIZED_READS"]},
            "named": {"tapis_auth": true, "tapis_auth_allowed_users": ["Stranger"]},
            "open": {"port": 8080},
        }),
    )
    .await;
    app.call(Method::POST, "/v3/pods/mypod/permissions")
        .header("x-tapis-token", &alice)
        .json(&json!({"user": "reader", "level": "READ"}))
        .send()
        .await
        .status_is(StatusCode::OK);
    let pass = |endpoint: &'static str, token: Option<String>| {
        let berth = app.berth.clone();
        async move {
            berth
                .authorize_pod_traffic("mypod", endpoint, token.as_deref())
                .await
        }
    };
    let login_url = "http://localhost/v3/pods/mypod-readers/auth".to_string();

    // Owner: in, with the headers filled in.
    assert_eq!(
        pass("default", Some(alice.clone())).await,
        Ok(TrafficUser {
            username: Some("alice".into()),
            headers: vec![("X-Tapis-Username".into(), "alice".into())],
        })
    );
    // The default allow list (`*`) lets every signed-in user in, as in Tapis.
    assert!(pass("default", Some(stranger.clone())).await.is_ok());
    // AUTHORIZED_READS: the owner and READ grantees, not strangers.
    assert!(pass("readers", Some(alice.clone())).await.is_ok());
    assert!(pass("readers", Some(reader.clone())).await.is_ok());
    assert_eq!(
        pass("readers", Some(stranger.clone())).await,
        Err(TrafficDenied::NotAllowed {
            username: "stranger".into()
        })
    );
    // Names, in any case; no one else.
    assert!(pass("named", Some(stranger.clone())).await.is_ok());
    assert!(matches!(
        pass("named", Some(reader.clone())).await,
        Err(TrafficDenied::NotAllowed { .. })
    ));
    // No token, a bad token.
    assert_eq!(
        pass("readers", None).await,
        Err(TrafficDenied::NoToken {
            login_url: login_url.clone()
        })
    );
    assert_eq!(
        pass("readers", Some("not-a-token".into())).await,
        Err(TrafficDenied::InvalidToken { login_url })
    );
    // A session is for one endpoint only.
    let location = app
        .call(Method::GET, "/v3/pods/mypod-readers/auth")
        .header("x-tapis-token", &reader)
        .send()
        .await
        .status_is(StatusCode::FOUND)
        .header("location")
        .unwrap()
        .to_string();
    let session = app
        .berth
        .redeem_pod_auth_code(
            &code_of(&location, "mypod-readers.berth.local"),
            "mypod-readers.berth.local",
        )
        .unwrap()
        .session;
    assert!(pass("readers", Some(session.clone())).await.is_ok());
    assert!(matches!(
        pass("default", Some(session)).await,
        Err(TrafficDenied::InvalidToken { .. })
    ));
    // A stranger cannot even get a code for an endpoint that would refuse them.
    app.call(Method::GET, "/v3/pods/mypod-readers/auth")
        .header("x-tapis-token", &stranger)
        .send()
        .await
        .is(
            StatusCode::FORBIDDEN,
            refused(
                "user 'stranger' is authenticated but not in the tapis_auth_allowed_users of pod mypod-readers",
            ),
        );
    // Without tapis_auth anyone passes; unknown endpoints do not exist.
    assert_eq!(
        pass("open", None).await,
        Ok(TrafficUser {
            username: None,
            headers: vec![],
        })
    );
    assert_eq!(
        pass("nope", Some(alice)).await,
        Err(TrafficDenied::NoSuchEndpoint)
    );
}
