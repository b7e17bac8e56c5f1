//! `GET /v1/nodes`: the engine's machines for administrators (one `local`
//! node on the in-memory engine), Deis's 403 shape for everyone else.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::TestApp;

#[tokio::test]
async fn administrators_list_nodes_and_others_are_refused() {
    let app = TestApp::start().await;
    let bob = app.sign_up("bob").await;
    app.call(Method::GET, "/v1/nodes")
        .auth("token", &bob)
        .send()
        .await
        .is(
            StatusCode::FORBIDDEN,
            json!({"detail": "You do not have permission to perform this action."}),
        );
    app.call(Method::GET, "/v1/nodes")
        .send()
        .await
        .status_is(StatusCode::UNAUTHORIZED);
    let root = app.sign_up("root").await;
    let administrator = app.berth.user("administrator").await.unwrap();
    app.berth
        .set_admin(&administrator, "root", true)
        .await
        .unwrap();
    app.call(Method::GET, "/v1/nodes")
        .auth("token", &root)
        .send()
        .await
        .is(
            StatusCode::OK,
            json!({"count": 1, "next": null, "previous": null, "results": [{
                "name": "local", "state": "ready", "availability": "active",
                "labels": {}, "address": null, "role": "manager", "tasks": 0,
            }]}),
        );
}
