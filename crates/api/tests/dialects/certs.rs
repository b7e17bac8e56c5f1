//! Deis v1 TLS certificates at `/v1/certs`, as `deis certs:add/list/remove`
//! send them: create from PEM, list, get and delete by common name, 400s for
//! what does not parse or match, and other users' certificates hidden.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::TestApp;

/// A self-signed certificate and its key, in PEM.
fn self_signed(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let pair = rcgen::generate_simple_self_signed(names).unwrap();
    (pair.cert.pem(), pair.signing_key.serialize_pem())
}

fn cert_shape(common_name: &str, owner: &str, san: &[&str]) -> Value {
    json!({
        "common_name": common_name, "owner": owner, "expires": "<deis-timestamp>", "san": san,
        "created": "<deis-timestamp>", "updated": "<deis-timestamp>",
    })
}

async fn admin_token(app: &TestApp) -> String {
    let user = app.berth.user("administrator").await.unwrap();
    let (_, token) = app.berth.issue_token(&user, None).await.unwrap();
    token
}

#[tokio::test]
async fn adds_lists_shows_and_removes_certificates() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let (cert, key) = self_signed(&["shop.example.com", "www.example.com"]);
    let shape = cert_shape(
        "shop.example.com",
        "alice",
        &["shop.example.com", "www.example.com"],
    );
    let added = app
        .call(Method::POST, "/v1/certs")
        .auth("token", &alice)
        .json(&json!({"certificate": cert, "key": key}))
        .send()
        .await
        .is(StatusCode::CREATED, shape.clone());
    assert!(!added.text.contains("PRIVATE KEY"), "{}", added.text);
    assert!(!added.text.contains("BEGIN CERTIFICATE"), "{}", added.text);
    assert_eq!(added.header("x_deis_api_version"), Some("1.5"));

    // The same pair again under another name, as `--subject-alt-names` sends it.
    app.call(Method::POST, "/v1/certs")
        .auth("token", &alice)
        .json(&json!({"certificate": cert, "key": key, "common_name": "WWW.example.com"}))
        .send()
        .await
        .is(
            StatusCode::CREATED,
            cert_shape(
                "www.example.com",
                "alice",
                &["shop.example.com", "www.example.com"],
            ),
        );

    let listed = app
        .call(Method::GET, "/v1/certs")
        .auth("token", &alice)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"count": 2, "next": null, "previous": null, "results": [
                shape.clone(),
                cert_shape("www.example.com", "alice", &["shop.example.com", "www.example.com"]),
            ]}),
        );
    assert!(!listed.text.contains("PRIVATE KEY"));
    app.call(Method::GET, "/v1/certs/shop.example.com")
        .auth("token", &alice)
        .send()
        .await
        .is(StatusCode::OK, shape);

    let removed = app
        .call(Method::DELETE, "/v1/certs/shop.example.com")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    assert_eq!(removed.text, "");
    app.call(Method::GET, "/v1/certs/shop.example.com")
        .auth("token", &alice)
        .send()
        .await
        .is(
            StatusCode::NOT_FOUND,
            json!({"detail": "certificate shop.example.com not found"}),
        );
    // The router's own load still holds the key of what is left.
    let serving = app.berth.serving_certs().await.unwrap();
    assert_eq!(serving.len(), 1);
    assert_eq!(serving[0].names, ["www.example.com", "shop.example.com"]);
    assert_eq!(serving[0].key_pem, key.trim());
}

#[tokio::test]
async fn a_wildcard_certificate_is_filed_and_removed_by_its_name() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let (cert, key) = self_signed(&["*.example.com"]);
    app.call(Method::POST, "/v1/certs")
        .auth("token", &alice)
        .json(&json!({"certificate": cert, "key": key}))
        .send()
        .await
        .is(
            StatusCode::CREATED,
            cert_shape("*.example.com", "alice", &["*.example.com"]),
        );
    app.call(Method::DELETE, "/v1/certs/*.example.com")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn refuses_bad_pem_a_foreign_key_and_a_taken_name() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let (cert, key) = self_signed(&["shop.example.com"]);
    let (_, other_key) = self_signed(&["shop.example.com"]);
    let post = |body: Value| {
        app.call(Method::POST, "/v1/certs")
            .auth("token", &alice)
            .json(&body)
            .send()
    };
    post(json!({"certificate": "not a certificate", "key": key}))
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({
                "certificate": ["Could not read the certificate: give an X.509 certificate in PEM"],
                "detail": "certificate: Could not read the certificate: give an X.509 certificate in PEM",
            }),
        );
    post(json!({"certificate": cert, "key": "not a key"}))
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"key": ["<string>"], "detail": "<string>"}),
        );
    post(json!({"certificate": cert, "key": other_key}))
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({
                "key": ["The key does not match the certificate"],
                "detail": "key: The key does not match the certificate",
            }),
        );
    post(json!({"key": key})).await.is(
        StatusCode::BAD_REQUEST,
        json!({"certificate": ["<string>"], "detail": "<string>"}),
    );
    post(json!({"certificate": cert, "key": key, "common_name": "not a host"}))
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"common_name": ["<string>"], "detail": "<string>"}),
        );
    post(json!({"certificate": cert, "key": key}))
        .await
        .status_is(StatusCode::CREATED);
    post(json!({"certificate": cert, "key": key})).await.is(
        StatusCode::BAD_REQUEST,
        json!({"common_name": ["<string>"], "detail": "<string>"}),
    );
    app.call(Method::PUT, "/v1/certs/shop.example.com")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::METHOD_NOT_ALLOWED);
    app.call(Method::GET, "/v1/certs")
        .send()
        .await
        .status_is(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn other_users_neither_see_nor_remove_a_certificate() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    let (cert, key) = self_signed(&["shop.example.com"]);
    app.call(Method::POST, "/v1/certs")
        .auth("token", &alice)
        .json(&json!({"certificate": cert, "key": key}))
        .send()
        .await
        .status_is(StatusCode::CREATED);

    app.call(Method::GET, "/v1/certs")
        .auth("token", &bob)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"count": 0, "next": null, "previous": null, "results": []}),
        );
    for method in [Method::GET, Method::DELETE] {
        app.call(method, "/v1/certs/shop.example.com")
            .auth("token", &bob)
            .send()
            .await
            .is(
                StatusCode::NOT_FOUND,
                json!({"detail": "certificate shop.example.com not found"}),
            );
    }
    // Nor take its name.
    let (cert, key) = self_signed(&["shop.example.com"]);
    app.call(Method::POST, "/v1/certs")
        .auth("token", &bob)
        .json(&json!({"certificate": cert, "key": key}))
        .send()
        .await
        .status_is(StatusCode::BAD_REQUEST);

    // An administrator sees and may remove everyone's.
    let admin = admin_token(&app).await;
    app.call(Method::GET, "/v1/certs")
        .auth("token", &admin)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"count": 1, "next": null, "previous": null,
                   "results": [cert_shape("shop.example.com", "alice", &["shop.example.com"])]}),
        );
    app.call(Method::DELETE, "/v1/certs/shop.example.com")
        .auth("token", &admin)
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_certificate_change_wakes_the_tls_listener() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let mut changes = app.berth.signals.watch_certs();
    let (cert, key) = self_signed(&["shop.example.com"]);
    app.call(Method::POST, "/v1/certs")
        .auth("token", &alice)
        .json(&json!({"certificate": cert, "key": key}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    assert!(changes.has_changed().unwrap());
    changes.mark_unchanged();
    app.call(Method::DELETE, "/v1/certs/shop.example.com")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    assert!(changes.has_changed().unwrap());
}

#[tokio::test]
async fn a_cancelled_account_takes_its_certificates_along() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let (cert, key) = self_signed(&["shop.example.com"]);
    app.call(Method::POST, "/v1/certs")
        .auth("token", &alice)
        .json(&json!({"certificate": cert, "key": key}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    let changes = app.berth.signals.watch_certs();
    app.call(Method::DELETE, "/v1/auth/cancel")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::NO_CONTENT);
    assert!(changes.has_changed().unwrap());
    assert!(app.berth.serving_certs().await.unwrap().is_empty());
}
