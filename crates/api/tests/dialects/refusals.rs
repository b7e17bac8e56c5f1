//! Refusals core reports without wording them (not permitted, a blank
//! field, an invalid email address): each dialect shows Django REST
//! framework's words for them, in its own error shape.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::TestApp;

const NOT_PERMITTED: &str = "You do not have permission to perform this action.";

fn tapis_error(message: &str) -> serde_json::Value {
    json!({"message": message, "metadata": {}, "result": null, "status": "error",
           "version": concat!("berth-", env!("CARGO_PKG_VERSION"))})
}

#[tokio::test]
async fn deis_words_refusals_as_django_rest_framework_does() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .json(&json!({"id": "shop"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::POST, "/v1/apps/shop/perms")
        .auth("token", &alice)
        .json(&json!({"username": "bob"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::DELETE, "/v1/apps/shop")
        .auth("token", &bob)
        .send()
        .await
        .is(StatusCode::FORBIDDEN, json!({"detail": NOT_PERMITTED}));
    app.call(Method::GET, "/v1/users")
        .auth("token", &bob)
        .send()
        .await
        .is(StatusCode::FORBIDDEN, json!({"detail": NOT_PERMITTED}));
    app.call(Method::POST, "/v1/keys")
        .auth("token", &bob)
        .json(&json!({"id": " ", "public": "ssh-ed25519 AAAA"}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"id": ["This field may not be blank."],
                   "detail": "id: This field may not be blank."}),
        );
    app.call(Method::POST, "/v1/auth/register")
        .json(&json!({"username": "carol", "password": "pw", "email": "nope"}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"email": ["Enter a valid email address."],
                   "detail": "email: Enter a valid email address."}),
        );
}

#[tokio::test]
async fn tutum_sign_up_shows_the_same_words() {
    let app = TestApp::start().await;
    app.call(Method::POST, "/api/v1/register/")
        .json(
            &json!({"username": "carol", "password1": "pw", "password2": "pw",
                      "email": "nope"}),
        )
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"register": {"email": ["Enter a valid email address."]}}),
        );
}

#[tokio::test]
async fn tapis_refuses_a_reader_in_its_envelope() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    app.call(Method::POST, "/v3/pods/templates")
        .auth("Bearer", &alice)
        .json(&json!({"template_id": "webtpl"}))
        .send()
        .await
        .status_is(StatusCode::OK);
    app.call(Method::POST, "/v3/pods/templates/webtpl/permissions")
        .auth("Bearer", &alice)
        .json(&json!({"user": "bob", "level": "READ"}))
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"message": "Template permissions.", "metadata": {},
                   "result": {"permissions": ["alice:ADMIN", "bob:READ"]},
                   "status": "success", "version": "<string>"}),
        );
    app.call(Method::DELETE, "/v3/pods/templates/webtpl")
        .auth("Bearer", &bob)
        .send()
        .await
        .is(StatusCode::FORBIDDEN, tapis_error(NOT_PERMITTED));
}

#[tokio::test]
async fn rcabench_shows_the_words_after_the_field() {
    let app = TestApp::start().await;
    app.call(Method::POST, "/api/v2/auth/register")
        .json(&json!({"username": "carol", "password": "long-enough", "email": "nope"}))
        .send()
        .await
        .is(
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "message": "email: Enter a valid email address.",
                   "timestamp": "<int>"}),
        );
}
