//! `GET /metrics`: the Prometheus text format, with every family and the
//! requests counted under their route template; open to anyone, so no line
//! names a user or an app. And who may open the event streams.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::{IMAGE, TestApp};

/// One sample line: `name{label="value",…} figure`, split into its parts.
fn parse_sample(line: &str) -> (&str, Vec<(&str, &str)>, f64) {
    let (series, figure) = line.rsplit_once(' ').expect("a sample has a figure");
    let figure = figure
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {line}"));
    let Some((name, labels)) = series.split_once('{') else {
        return (series, Vec::new(), figure);
    };
    let labels = labels.strip_suffix('}').expect("labels close");
    let labels = labels
        .split("\",")
        .map(|pair| {
            let (label, value) = pair.split_once("=\"").expect("label=\"value\"");
            (label, value.trim_end_matches('"'))
        })
        .collect();
    (name, labels, figure)
}

#[tokio::test]
async fn metrics_are_prometheus_text_by_route_template_and_name_no_tenant() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .json(&json!({"id": "secret-shop"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::POST, "/v1/apps/secret-shop/builds")
        .auth("token", &alice)
        .json(&json!({"image": IMAGE, "procfile": {"web": "sleep 3600"}}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::GET, "/v1/apps/secret-shop")
        .auth("token", &alice)
        .send()
        .await
        .status_is(StatusCode::OK);
    app.call(Method::GET, "/no/such/secret-path")
        .send()
        .await
        .status_is(StatusCode::NOT_FOUND);

    // No credentials needed.
    let reply = app
        .call(Method::GET, "/metrics")
        .send()
        .await
        .status_is(StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = &reply.text;
    for secret in ["secret", "alice", "sleep"] {
        assert!(!text.contains(secret), "/metrics names {secret}:\n{text}");
    }
    for family in berth_core::metrics::FAMILIES {
        assert!(
            text.contains(&format!("# TYPE {} ", family.name)),
            "{} missing:\n{text}",
            family.name
        );
    }
    let samples: Vec<_> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(parse_sample)
        .collect();
    let has = |name: &str, labels: &[(&str, &str)]| {
        samples
            .iter()
            .any(|(n, l, _)| *n == name && labels.iter().all(|want| l.contains(want)))
    };
    let request = "berth_http_request_duration_seconds_count";
    let detail = [
        ("dialect", "deis"),
        ("method", "GET"),
        ("route", "/v1/apps/{id}"),
        ("status", "200"),
    ];
    assert!(has(request, &detail), "{text}");
    assert!(
        has(request, &[("route", "unmatched"), ("status", "404")]),
        "{text}"
    );
    assert!(has(
        "berth_reconcile_pass_duration_seconds_count",
        &[("outcome", "ok")]
    ));
    assert!(has("berth_reconcile_lag_seconds_count", &[]));
    assert!(has(
        "berth_converge_duration_seconds_count",
        &[("outcome", "ok")]
    ));
    let up = samples
        .iter()
        .find(|(n, l, _)| *n == "berth_instances" && l.contains(&("state", "up")));
    assert_eq!(up.map(|s| s.2), Some(1.0), "{text}");

    // Buckets only grow, and the last one holds every request.
    let buckets: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| {
            *n == "berth_http_request_duration_seconds_bucket"
                && detail.iter().all(|want| l.contains(want))
        })
        .map(|s| s.2)
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&1.0));
}

#[tokio::test]
async fn event_streams_need_credentials_and_access_to_the_app() {
    let app = TestApp::start().await;
    let alice = app.sign_up("alice").await;
    let bob = app.sign_up("bob").await;
    app.call(Method::POST, "/v1/apps")
        .auth("token", &alice)
        .json(&json!({"id": "shop"}))
        .send()
        .await
        .status_is(StatusCode::CREATED);
    app.call(Method::GET, "/v1/events")
        .send()
        .await
        .status_is(StatusCode::UNAUTHORIZED);
    app.call(Method::GET, "/v1/apps/shop/events")
        .auth("token", &bob)
        .send()
        .await
        .is(
            StatusCode::NOT_FOUND,
            json!({"detail": "app shop not found"}),
        );
}

#[tokio::test]
async fn with_metrics_off_nothing_is_kept_and_metrics_is_not_found() {
    let app = TestApp::start().await;
    let metrics = &app.berth.signals.metrics;
    metrics.disable();
    let before = metrics.snapshot();
    app.call(Method::GET, "/healthz").send().await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    app.call(Method::GET, "/metrics")
        .send()
        .await
        .is(StatusCode::NOT_FOUND, json!({"detail": "Not found."}));
    assert_eq!(metrics.snapshot(), before);
}
