//! What keeping metrics costs the API: the p99 of one cheap authenticated
//! read, timed on two fresh servers, one with metrics on and one started
//! with `--metrics off`, in alternation so that noise on the machine falls
//! on both alike.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use berth_testkit::{Api, Launch, Method, Server};

use super::{Row, SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT, fmt_duration, percentile, timed};

const REQUESTS: usize = 5000;
/// Requests sent to each server before timing, so that neither is timed
/// while its connections and caches are cold.
const WARM_UP: usize = 200;
const MAX_RATIO: f64 = 1.05;

/// The row comparing `GET /v1/apps/{id}`'s p99 on two fresh servers, one
/// with metrics on and one with them off, both stopped before this returns.
/// (The bench's own `server`, which holds more by now, only lends its
/// directory.)
pub(super) async fn metrics_cost_row(server: &Server) -> Result<Row> {
    let root = server
        .data_dir
        .parent()
        .context("the server's data dir has no parent")?
        .to_path_buf();
    progress!("starting two more servers, with metrics on and off");
    let mut with = start(&root, "on").await?;
    let mut without = match start(&root, "off").await {
        Ok(without) => without,
        Err(e) => {
            with.terminate(SERVER_STOP_TIMEOUT).await;
            return Err(e);
        }
    };
    let timed_both = time_both(&with, &without).await;
    with.terminate(SERVER_STOP_TIMEOUT).await;
    without.terminate(SERVER_STOP_TIMEOUT).await;
    let (on, off) = timed_both?;
    let ratio = on.as_secs_f64() / off.as_secs_f64();
    Ok(Row::versus(
        format!("GET /v1/apps/{{id}} p99, metrics on vs --metrics off ({REQUESTS} each)"),
        fmt_duration(on),
        fmt_duration(off),
        format!("{ratio:.2}×"),
        format!("≤ {MAX_RATIO}× off"),
        Some(ratio <= MAX_RATIO),
    ))
}

/// A server with `--metrics <metrics>`, in a directory of its own under `root`.
async fn start(root: &Path, metrics: &str) -> Result<Server> {
    let root = root.join(format!("metrics-{metrics}"));
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    let exe = std::env::current_exe().context("cannot find the berth binary")?;
    Launch::new(&exe, &root)
        .env("BERTH_METRICS", metrics)
        .startup_timeout(SERVER_START_TIMEOUT)
        .own_process_group()
        .start()
        .await
        .map_err(anyhow::Error::msg)
}

/// The p99s with metrics on and off, requests alternating between them.
async fn time_both(on: &Server, off: &Server) -> Result<(Duration, Duration)> {
    let (on, on_path) = one_app(on).await?;
    let (off, off_path) = one_app(off).await?;
    for _ in 0..WARM_UP {
        read(&on, &on_path).await?;
        read(&off, &off_path).await?;
    }
    progress!("timing {REQUESTS} GET /v1/apps/{{id}} with metrics on and as many off");
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..REQUESTS {
        with.push(timed(read(&on, &on_path)).await?.0);
        without.push(timed(read(&off, &off_path)).await?.0);
    }
    with.sort();
    without.sort();
    progress!(
        "GET /v1/apps/{{id}}: metrics on p50 {}, p99 {}; off p50 {}, p99 {}",
        fmt_duration(percentile(&with, 50.0)),
        fmt_duration(percentile(&with, 99.0)),
        fmt_duration(percentile(&without, 50.0)),
        fmt_duration(percentile(&without, 99.0)),
    );
    Ok((percentile(&with, 99.0), percentile(&without, 99.0)))
}

/// A new user of `server` with one app, and the path that reads it.
async fn one_app(server: &Server) -> Result<(Api, String)> {
    let (api, _) = Api::try_sign_up(&server.url, "bench-metrics")
        .await
        .map_err(anyhow::Error::msg)?;
    let id = "bench-metrics-app";
    api.try_create_app(id).await.map_err(anyhow::Error::msg)?;
    Ok((api, format!("/v1/apps/{id}")))
}

async fn read(api: &Api, path: &str) -> Result<()> {
    api.send_unparsed(Method::GET, path, None)
        .await
        .and_then(|r| r.expect(200))
        .map(drop)
        .map_err(anyhow::Error::msg)
}
