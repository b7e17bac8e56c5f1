//! `GET /metrics`: the server's figures in the Prometheus text format, and
//! the layer that times every API request by dialect, method, route
//! template and status. Anyone may scrape: no label names a user or an
//! app, and the raw path is never a label (only the template it matched),
//! so the answer says nothing about any one tenant.

use std::fmt::Write;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use berth_core::metrics::{
    BUCKETS, FAMILIES, Figures, HTTP_REQUEST_SECONDS, INSTANCES, Kind, Series,
};

use crate::AppState;

/// The content type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// The page; 503 while the store does not answer (the instance counts come
/// from it), like `/healthz`, naming no error text (core logs it).
#[utoipa::path(get, path = "/metrics", tag = "berth", responses(
    (status = 200, description = "The Prometheus text format", content_type = "text/plain; version=0.0.4", body = String),
    (status = 404, description = "Metrics are turned off (`--metrics off`)"),
    (status = 503, description = "The store does not answer"),
))]
pub(crate) async fn metrics(State(s): State<AppState>) -> Response {
    if !s.berth.signals.metrics.enabled() {
        return super::error::not_found().await;
    }
    let counts = match s.berth.instance_counts().await {
        Ok(counts) => counts,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot count instances");
            return (StatusCode::SERVICE_UNAVAILABLE, "store not answering\n").into_response();
        }
    };
    let mut series = s.berth.signals.metrics.snapshot();
    series.extend(counts.into_iter().map(|(state, n)| Series {
        family: INSTANCES,
        labels: vec![state.as_str().to_string()],
        figures: Figures::Gauge(n as i64),
    }));
    ([(header::CONTENT_TYPE, TEXT_FORMAT)], render(&series)).into_response()
}

/// The route template a request matched, kept on the response for
/// [`time_request`], which runs outside routing and cannot see it.
#[derive(Clone)]
struct RouteTemplate(MatchedPath);

/// Marks the response with the route it came from; layered on the routes.
pub async fn mark_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(RouteTemplate(matched));
    }
    response
}

/// Times a request and counts it under its dialect, method, route template and status.
pub async fn time_request(State(s): State<AppState>, request: Request, next: Next) -> Response {
    if !s.berth.signals.metrics.enabled() {
        return next.run(request).await;
    }
    let began = Instant::now();
    let dialect = dialect_of(request.uri().path());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map(|t| t.0.as_str())
        // A nested router's fallback matches under a name axum makes up.
        .filter(|route| !route.contains("__private__"))
        .unwrap_or(UNMATCHED);
    let status = response.status();
    s.berth.signals.metrics.observe(
        HTTP_REQUEST_SECONDS,
        &[dialect, method, route, status.as_str()],
        began.elapsed(),
    );
    response
}

/// The dialect a path belongs to, by its prefix.
fn dialect_of(path: &str) -> &'static str {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/v1/datasets") {
        "nds"
    } else if under("/v1") {
        "deis"
    } else if under("/api/v1") {
        "tutum"
    } else if under("/api/v2") {
        "rcabench"
    } else if under("/v3") || under("/pods") {
        "tapis"
    } else if ["/healthz", "/metrics", "/openapi.json", "/docs"]
        .iter()
        .any(|p| under(p))
    {
        "berth"
    } else if under("/ui") {
        "console"
    } else {
        "nds"
    }
}

/// The method as a label; any method no route takes counts as `other`,
/// so a client cannot make new series by inventing methods.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Every family in the Prometheus text format, with its series.
fn render(series: &[Series]) -> String {
    let mut out = String::new();
    for family in FAMILIES {
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {kind}", family.name);
        for one in series.iter().filter(|s| s.family == family.name) {
            let labels: Vec<(&str, &str)> = family
                .labels
                .iter()
                .copied()
                .zip(one.labels.iter().map(String::as_str))
                .collect();
            let name = family.name;
            match &one.figures {
                Figures::Counter(n) => sample(&mut out, name, &labels, &n.to_string()),
                Figures::Gauge(n) => sample(&mut out, name, &labels, &n.to_string()),
                Figures::Histogram {
                    buckets,
                    count,
                    sum,
                } => {
                    let bucket = format!("{name}_bucket");
                    let mut below = 0;
                    for (bound, n) in BUCKETS.iter().zip(buckets) {
                        below += n;
                        let le = bound.to_string();
                        let with_le = [labels.as_slice(), &[("le", le.as_str())]].concat();
                        sample(&mut out, &bucket, &with_le, &below.to_string());
                    }
                    let with_le = [labels.as_slice(), &[("le", "+Inf")]].concat();
                    sample(&mut out, &bucket, &with_le, &count.to_string());
                    sample(&mut out, &format!("{name}_sum"), &labels, &sum.to_string());
                    sample(
                        &mut out,
                        &format!("{name}_count"),
                        &labels,
                        &count.to_string(),
                    );
                }
            }
        }
    }
    out
}

/// One line: `name{label="value",…} figure`.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], figure: &str) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let value = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{label}=\"{value}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {figure}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_belong_to_the_dialect_of_their_prefix() {
        assert_eq!(dialect_of("/v1/apps"), "deis");
        assert_eq!(dialect_of("/v1x"), "nds");
        assert_eq!(dialect_of("/api/v1/application"), "tutum");
        assert_eq!(dialect_of("/api/v2/containers"), "rcabench");
        assert_eq!(dialect_of("/v3/pods"), "tapis");
        assert_eq!(dialect_of("/metrics"), "berth");
        assert_eq!(dialect_of("/docs/index.html"), "berth");
        assert_eq!(dialect_of("/v1/datasets/genomes"), "nds");
        assert_eq!(dialect_of("/ui/api/apps"), "console");
    }

    #[test]
    fn a_histogram_is_cumulative_and_label_values_are_escaped() {
        let mut buckets = [0; BUCKETS.len()];
        buckets[0] = 1;
        buckets[3] = 2;
        let text = render(&[Series {
            family: HTTP_REQUEST_SECONDS,
            labels: ["deis", "GET", "/v1/apps/{id}", "200"]
                .map(String::from)
                .to_vec(),
            figures: Figures::Histogram {
                buckets,
                count: 4,
                sum: 2.5,
            },
        }]);
        let labels = r#"dialect="deis",method="GET",route="/v1/apps/{id}",status="200""#;
        for line in [
            format!("berth_http_request_duration_seconds_bucket{{{labels},le=\"0.001\"}} 1"),
            format!("berth_http_request_duration_seconds_bucket{{{labels},le=\"0.01\"}} 3"),
            format!("berth_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 4"),
            format!("berth_http_request_duration_seconds_sum{{{labels}}} 2.5"),
            format!("berth_http_request_duration_seconds_count{{{labels}}} 4"),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        let mut escaped = String::new();
        sample(&mut escaped, "m", &[("a", "x\"y\\z\n")], "1");
        assert_eq!(escaped, "m{a=\"x\\\"y\\\\z\\n\"} 1\n");
    }
}
