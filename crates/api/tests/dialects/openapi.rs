//! `/openapi.json` describes every route the router serves, each dialect
//! under its own tag; it is served as generated and matches the committed
//! snapshot `docs/openapi.json`, so a route or schema cannot change without
//! the change showing in review. Regenerate the snapshot with
//! `BERTH_UPDATE_OPENAPI=1 cargo test -p berth-api --test dialects openapi`.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::app::TestApp;
use crate::routes_doc::{Route, served_as_mounted};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

fn generated() -> Value {
    serde_json::to_value(berth_api::common::openapi::document()).expect("the document serialises")
}

/// Every method and path the document describes, with its tags; `{x}` as
/// the router would spell a rest-of-path parameter is `{*x}` there, so the
/// two are compared with the star dropped.
fn described(doc: &Value) -> Vec<(Route, Vec<String>)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let tags = operation["tags"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            out.push(((method.to_uppercase(), path.clone()), tags));
        }
    }
    out
}

fn unstarred((method, path): &Route) -> Route {
    (method.clone(), path.replace("{*", "{"))
}

/// The routes one dialect serves that the document lacks,
/// and those it describes that are not served.
fn coverage(dialect: &str) -> (Vec<Route>, Vec<Route>) {
    let owns = |path: &str| dialect_of(path) == dialect;
    let served: BTreeSet<Route> = served_as_mounted()
        .iter()
        .filter(|(_, path)| owns(path))
        .map(unstarred)
        .collect();
    let doc = generated();
    let described: BTreeSet<Route> = described(&doc)
        .into_iter()
        .map(|(route, _)| route)
        .filter(|(_, path)| owns(path))
        .collect();
    (
        served.difference(&described).cloned().collect(),
        described.difference(&served).cloned().collect(),
    )
}

fn assert_covered(dialect: &str) {
    let (undescribed, unserved) = coverage(dialect);
    assert!(
        undescribed.is_empty() && unserved.is_empty(),
        "{dialect}: /openapi.json is out of step with the router.\n\
         served but not described: {undescribed:#?}\n\
         described but not served: {unserved:#?}"
    );
}

/// The dialect (tag) a path belongs to, by where the router mounts it.
fn dialect_of(path: &str) -> &'static str {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if ["/healthz", "/metrics", "/openapi.json", "/docs"]
        .iter()
        .any(|p| under(p))
    {
        "berth"
    } else if under("/ui") {
        // The web console's page and assets, and the JSON API the page calls.
        "console"
    } else if under("/v3/pods") || under("/pods") || under("/v3/oauth2") {
        "tapis"
    } else if under("/api/v1") {
        "tutum"
    } else if under("/api/v2") {
        "rcabench"
    } else if under("/v1") && !under("/v1/datasets") {
        "deis"
    } else {
        "nds"
    }
}

#[test]
fn berths_own_routes_are_all_described() {
    assert_covered("berth");
}

#[test]
fn deis_routes_are_all_described() {
    assert_covered("deis");
}

#[test]
fn tutum_routes_are_all_described() {
    assert_covered("tutum");
}

#[test]
fn tapis_routes_are_all_described() {
    assert_covered("tapis");
}

#[test]
fn rcabench_routes_are_all_described() {
    assert_covered("rcabench");
}

#[test]
fn nds_routes_are_all_described() {
    assert_covered("nds");
}

#[test]
fn console_routes_are_all_described() {
    assert_covered("console");
}

#[test]
fn every_operation_has_its_dialects_tag_an_answer_and_a_unique_id() {
    let doc = generated();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = BTreeSet::new();
    for ((method, path), tags) in described(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        assert_eq!(
            tags,
            [dialect_of(&path)],
            "{method} {path}: one tag, its dialect's"
        );
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{method} {path} describes no answer"
        );
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            ids.insert(id.to_string()),
            "{method} {path}: operationId `{id}` is used twice"
        );
    }
}

#[test]
fn the_document_matches_its_snapshot() {
    let generated = serde_json::to_string_pretty(&generated()).expect("serialises") + "\n";
    if std::env::var_os("BERTH_UPDATE_OPENAPI").is_some() {
        std::fs::write(SNAPSHOT, &generated).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        committed == generated,
        "the OpenAPI document changed: review the difference, then regenerate \
         docs/openapi.json with BERTH_UPDATE_OPENAPI=1 cargo test -p berth-api --test dialects openapi"
    );
}

#[tokio::test]
async fn the_document_and_the_reference_page_are_served_to_anyone() {
    let app = TestApp::start().await;
    let reply = app
        .call(Method::GET, "/openapi.json")
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(reply.body, generated());
    let page = app.call(Method::GET, "/docs").send().await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), Some("/docs/index.html"));
    for (file, kind) in [
        ("/docs/index.html", "text/html"),
        ("/docs/swagger-ui-bundle.js", "javascript"),
        ("/docs/swagger-ui.css", "text/css"),
    ] {
        let reply = app.call(Method::GET, file).send().await;
        assert_eq!(reply.status, StatusCode::OK, "{file}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.contains(kind)),
            "{file}: {:?}",
            reply.header("content-type")
        );
    }
    let initializer = app
        .call(Method::GET, "/docs/swagger-initializer.js")
        .send()
        .await;
    assert_eq!(initializer.status, StatusCode::OK);
    app.call(Method::GET, "/docs/no-such-file.js")
        .send()
        .await
        .status_is(StatusCode::NOT_FOUND);
}
