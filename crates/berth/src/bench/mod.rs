//! `berth bench`: starts a private Berth server, measures it against the
//! bare engine (the `docker` CLI on the same `DOCKER_HOST`) and prints one
//! table to stdout. Progress lines go to stderr.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use berth_testkit::docker::{check_engine, docker_async, remove_labelled};
use berth_testkit::{Api, IMAGE, Launch, Method, Server, log_tail};
use clap::Args;
use futures::StreamExt;
use serde_json::{Value, json};

const SLEEP_COMMAND: &str = "sleep 3600";
const SCALE_TO: u32 = 10;
const LIST_REQUESTS: usize = 2000;
/// The user the bench calls the API as, who owns the listing's apps.
const BENCH_USER: &str = "bench";
const CREATE_CONCURRENCY: usize = 16;
// Targets: Berth's overhead over the bare engine, and its own costs.
const CREATE_MAX_RATIO: f64 = 1.05;
const SCALE_MAX_RATIO: f64 = 0.9;
const LIST_P99_MAX: Duration = Duration::from_millis(5);
const IDLE_RSS_MAX_BYTES: u64 = 30_000_000;

const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
const SERVER_STOP_TIMEOUT: Duration = Duration::from_secs(10);
// Longer than the server's own converge timeout (120 s), so that it, not
// the bench, decides when a scale or build has failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Timed repetitions of the create and scale measurements; the median is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Apps that exist while `GET /v1/apps` is timed.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub apps: u32,
    /// Keep the temporary directory (server data and log) instead of removing it.
    #[arg(long)]
    pub keep: bool,
    /// Keep-alive connections of the HTTP load (router, nginx, direct).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connections: u32,
    /// Seconds each HTTP load is timed, after one second of warm-up.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=600))]
    pub load_seconds: u32,
}

macro_rules! progress {
    ($($arg:tt)*) => { eprintln!("bench: {}", format_args!($($arg)*)) };
}

// After the macro, which they use.
mod console;
mod load;
mod metrics_cost;
mod router;
mod swarm;

pub async fn run(args: BenchArgs) -> Result<()> {
    ensure_engine_ready().await?;
    let bench_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let workdir = WorkDir::create(&bench_id)?;
    let docker = Docker::new(&bench_id);
    let outcome = bench_with_server(&args, &workdir, &docker).await;
    docker.remove_own_containers().await;
    workdir.finish(args.keep);
    let rows = outcome?;
    print!("{}", render_table(&rows));
    Ok(())
}

/// Runs the measurements against a fresh server and always stops it and
/// sweeps its containers afterwards, whatever happened.
async fn bench_with_server(
    args: &BenchArgs,
    workdir: &WorkDir,
    docker: &Docker,
) -> Result<Vec<Row>> {
    let outcome = match start_server(workdir).await {
        Ok(mut server) => {
            let outcome = tokio::select! {
                rows = measure_all(args, &server, docker) => rows,
                _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
            };
            stop_server(&mut server).await;
            outcome
        }
        Err(e) => Err(e),
    };
    if outcome.is_err() {
        print_log_tail(workdir);
    }
    outcome
}

async fn measure_all(args: &BenchArgs, server: &Server, docker: &Docker) -> Result<Vec<Row>> {
    // First, while this process has allocated little else.
    let router_memory = router::router_memory_row()?;
    let pid = server.pid().context("the server is not running")?;
    let idle_rss = rss_bytes(pid)?;
    progress!(
        "server pid {pid} at {} (id {}), idle RSS {}",
        server.url,
        server.server_id,
        megabytes(idle_rss)
    );
    let (api, _) = Api::try_sign_up(&server.url, BENCH_USER)
        .await
        .map_err(anyhow::Error::msg)?;
    let api = api.with_timeout(REQUEST_TIMEOUT);
    let create = measure_create(&api, docker, args.runs).await?;
    let scale = measure_scale(&api, docker, args.runs).await?;
    let listing = measure_listing(&api, args.apps).await?;
    // While the bench's user owns exactly the listing's apps.
    let console = console::first_load_row(server, BENCH_USER, args.apps).await;
    let final_rss = rss_bytes(pid)?;
    let shape = router::LoadShape {
        connections: args.connections as usize,
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(args.load_seconds.into()),
    };
    let http = router::measure_http(&api, server, shape).await?;
    let runs = args.runs;
    let apps = args.apps;
    let mut rows = vec![
        Row::versus_docker(
            format!("app create → first instance up (median of {runs})"),
            create,
            CREATE_MAX_RATIO,
        ),
        Row::versus_docker(
            format!("scale web 0→{SCALE_TO} (median of {runs})"),
            scale,
            SCALE_MAX_RATIO,
        ),
        Row::berth_only(
            format!("create {apps} apps via API ({CREATE_CONCURRENCY} in flight), total"),
            fmt_duration(listing.setup),
            None,
        ),
        Row::latency(
            format!(
                "GET /v1/apps p50 ({apps} apps, {} per page)",
                listing.page_len
            ),
            listing.p50,
            None,
        ),
        Row::latency(
            format!("GET /v1/apps p99 ({LIST_REQUESTS} sequential GETs)"),
            listing.p99,
            Some(LIST_P99_MAX),
        ),
        console,
        Row::memory(
            "server RSS, idle after start",
            idle_rss,
            Some(IDLE_RSS_MAX_BYTES),
        ),
        Row::memory(
            &format!("server RSS, after {apps} apps and the rows above"),
            final_rss,
            None,
        ),
    ];
    rows.extend(http);
    rows.push(metrics_cost::metrics_cost_row(server).await?);
    rows.push(router_memory);
    rows.extend(swarm::rows(runs).await?);
    Ok(rows)
}

// ------------------------------------------------------------ measurements

/// Medians of the same operation done through Berth and with the bare engine.
struct Versus {
    berth: Duration,
    docker: Duration,
}

async fn measure_create(api: &Api, docker: &Docker, runs: u32) -> Result<Versus> {
    let mut berth = Vec::new();
    let mut engine = Vec::new();
    for run in 1..=runs {
        let app = format!("bench-create-{run}");
        let (berth_took, ()) = timed(create_app_with_first_instance(api, &app)).await?;
        destroy_app(api, &app).await?;
        let (docker_took, id) = timed(docker.run_sleeper()).await?;
        docker.remove(&[id]).await?;
        progress!(
            "app create {run}/{runs}: berth {}, docker {}",
            fmt_duration(berth_took),
            fmt_duration(docker_took)
        );
        berth.push(berth_took);
        engine.push(docker_took);
    }
    Ok(Versus {
        berth: median(berth),
        docker: median(engine),
    })
}

async fn measure_scale(api: &Api, docker: &Docker, runs: u32) -> Result<Versus> {
    let app = "bench-scale";
    create_app_with_first_instance(api, app).await?;
    scale(api, app, 0).await?;
    let mut berth = Vec::new();
    let mut engine = Vec::new();
    for run in 1..=runs {
        let (berth_took, ()) = timed(scale(api, app, SCALE_TO)).await?;
        scale(api, app, 0).await?;
        let (docker_took, ids) = timed(docker.run_sleepers(SCALE_TO)).await?;
        docker.remove(&ids).await?;
        progress!(
            "scale 0→{SCALE_TO} {run}/{runs}: berth {}, docker {}",
            fmt_duration(berth_took),
            fmt_duration(docker_took)
        );
        berth.push(berth_took);
        engine.push(docker_took);
    }
    destroy_app(api, app).await?;
    Ok(Versus {
        berth: median(berth),
        docker: median(engine),
    })
}

struct Listing {
    setup: Duration,
    page_len: usize,
    p50: Duration,
    p99: Duration,
}

async fn measure_listing(api: &Api, apps: u32) -> Result<Listing> {
    progress!("creating {apps} apps, {CREATE_CONCURRENCY} in flight");
    let (setup, ()) = timed(create_many_apps(api, apps)).await?;
    progress!("created {apps} apps in {}", fmt_duration(setup));
    let first: Value =
        serde_json::from_str(&list_apps_page(api).await?).context("GET /v1/apps is not JSON")?;
    let count = first["count"].as_u64().unwrap_or(0);
    ensure!(
        count >= u64::from(apps),
        "GET /v1/apps counts {count} apps, expected at least {apps}"
    );
    let page_len = first["results"].as_array().map_or(0, Vec::len);

    progress!("timing {LIST_REQUESTS} sequential GET /v1/apps");
    let mut samples = Vec::with_capacity(LIST_REQUESTS);
    for _ in 0..LIST_REQUESTS {
        let (took, _page) = timed(list_apps_page(api)).await?;
        samples.push(took);
    }
    samples.sort();
    progress!(
        "GET /v1/apps: p50 {}, p90 {}, p99 {}, max {}",
        fmt_duration(percentile(&samples, 50.0)),
        fmt_duration(percentile(&samples, 90.0)),
        fmt_duration(percentile(&samples, 99.0)),
        fmt_duration(percentile(&samples, 100.0)),
    );
    Ok(Listing {
        setup,
        page_len,
        p50: percentile(&samples, 50.0),
        p99: percentile(&samples, 99.0),
    })
}

async fn create_many_apps(api: &Api, count: u32) -> Result<()> {
    let mut creations = futures::stream::iter(1..=count)
        .map(|n| async move { create_app(api, &format!("bench-list-{n:04}")).await })
        .buffer_unordered(CREATE_CONCURRENCY);
    while let Some(created) = creations.next().await {
        created?;
    }
    Ok(())
}

async fn timed<T>(work: impl Future<Output = Result<T>>) -> Result<(Duration, T)> {
    let start = Instant::now();
    let value = work.await?;
    Ok((start.elapsed(), value))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ------------------------------------------------------------- the server

async fn start_server(workdir: &WorkDir) -> Result<Server> {
    let exe = std::env::current_exe().context("cannot find the berth binary")?;
    let launch = Launch::new(&exe, &workdir.path)
        .startup_timeout(SERVER_START_TIMEOUT)
        // Ctrl-C then reaches only the bench, which stops the server in order.
        .own_process_group();
    progress!(
        "starting {} serve (data in {})",
        exe.display(),
        launch.data_dir().display()
    );
    launch.start().await.map_err(anyhow::Error::msg)
}

/// Stops the server, then removes every container it labelled as its own.
async fn stop_server(server: &mut Server) {
    // SIGTERM first, so that the reconciler is stopped and cannot start
    // containers again after the sweep.
    server.terminate(SERVER_STOP_TIMEOUT).await;
    let label = format!("berth.server={}", server.server_id);
    match tokio::task::spawn_blocking(move || remove_labelled(&label)).await {
        Ok(0) => {}
        Ok(n) => progress!("removed {n} containers left by the server"),
        Err(e) => progress!("warning: could not remove the server's containers: {e}"),
    }
}

fn rss_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("cannot read the server's /proc status")?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .context("no VmRSS in the server's /proc status")?;
    Ok(kib * 1024)
}

fn print_log_tail(workdir: &WorkDir) {
    let tail = log_tail(&workdir.server_log(), 20);
    if tail.is_empty() {
        return;
    }
    progress!("last lines of the server log:");
    for line in tail.lines() {
        eprintln!("  {line}");
    }
}

// ------------------------------------------------------- the /v1 calls

async fn create_app(api: &Api, id: &str) -> Result<()> {
    api.try_create_app(id).await.map_err(anyhow::Error::msg)
}

/// The first build starts web=1 and answers once that instance is up.
async fn create_app_with_first_instance(api: &Api, id: &str) -> Result<()> {
    create_app(api, id).await?;
    let procfile = json!({ "web": SLEEP_COMMAND });
    api.try_build(id, IMAGE, &procfile)
        .await
        .map(drop)
        .map_err(anyhow::Error::msg)
}

/// Answers once the engine runs exactly `web` instances.
async fn scale(api: &Api, id: &str, web: u32) -> Result<()> {
    api.try_scale(id, "web", web)
        .await
        .map_err(anyhow::Error::msg)
}

async fn destroy_app(api: &Api, id: &str) -> Result<()> {
    api.try_destroy_app(id).await.map_err(anyhow::Error::msg)
}

/// The first page of apps, as the raw body (parsing it is not the server's time).
async fn list_apps_page(api: &Api) -> Result<String> {
    let reply = api
        .send_unparsed(Method::GET, "/v1/apps", None)
        .await
        .and_then(|r| r.expect(200))
        .map_err(anyhow::Error::msg)?;
    Ok(reply.text)
}

// ------------------------------------------------------ the docker CLI

/// The bare-engine side: containers started here carry a label of their own,
/// so that even half-finished runs can be swept.
struct Docker {
    label: String,
}

impl Docker {
    fn new(bench_id: &str) -> Docker {
        Docker {
            label: format!("berth.bench={bench_id}"),
        }
    }

    /// `docker run -d --init busybox:latest sleep 3600`; returns the container id.
    async fn run_sleeper(&self) -> Result<String> {
        let mut args = vec!["run", "-d", "--init", "--label", &self.label, IMAGE];
        args.extend(SLEEP_COMMAND.split(' '));
        let id = docker_async(&args).await.map_err(anyhow::Error::msg)?;
        Ok(id.trim().to_string())
    }

    /// Starts `count` sleepers with parallel CLI calls and waits for all of them.
    async fn run_sleepers(&self, count: u32) -> Result<Vec<String>> {
        let runs = (0..count).map(|_| self.run_sleeper());
        futures::future::join_all(runs).await.into_iter().collect()
    }

    async fn remove(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(ids.iter().map(String::as_str));
        docker_async(&args)
            .await
            .map(drop)
            .map_err(anyhow::Error::msg)
    }

    async fn remove_own_containers(&self) {
        let label = self.label.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || remove_labelled(&label)).await {
            progress!("warning: could not remove the bench's own containers: {e}");
        }
    }
}

async fn ensure_engine_ready() -> Result<()> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "(default socket)".into());
    tokio::task::spawn_blocking(|| check_engine(IMAGE))
        .await?
        .map_err(anyhow::Error::msg)
        .with_context(|| {
            format!(
                "the engine at DOCKER_HOST={host} is not ready; try: eval \"$(bash scripts/engine.sh)\""
            )
        })?;
    progress!("engine at DOCKER_HOST={host}");
    Ok(())
}

// -------------------------------------------------------- the temp dir

struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(bench_id: &str) -> Result<WorkDir> {
        let path = std::env::temp_dir().join(format!("berth-bench-{bench_id}"));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(WorkDir { path })
    }

    fn server_log(&self) -> PathBuf {
        self.path.join("server.log")
    }

    fn finish(self, keep: bool) {
        if keep {
            progress!("kept {}", self.path.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.path) {
            progress!("warning: could not remove {}: {e}", self.path.display());
        }
    }
}

// ------------------------------------------------------------ the table

struct Row {
    measurement: String,
    berth: String,
    /// The same measurement on what Berth is compared with: the docker CLI
    /// for engine rows, nginx for HTTP rows.
    baseline: String,
    ratio: String,
    target: String,
    ok: Option<bool>,
}

const NONE: &str = "—";

impl Row {
    fn versus_docker(measurement: String, v: Versus, max_ratio: f64) -> Row {
        let ratio = v.berth.as_secs_f64() / v.docker.as_secs_f64();
        Row::versus(
            measurement,
            fmt_duration(v.berth),
            fmt_duration(v.docker),
            format!("{ratio:.2}×"),
            format!("≤ {max_ratio}× docker"),
            Some(ratio <= max_ratio),
        )
    }

    /// A value with no engine counterpart, with its target if it has one.
    fn berth_only(measurement: String, berth: String, target: Option<(String, bool)>) -> Row {
        let (target, ok) = match target {
            Some((target, ok)) => (target, Some(ok)),
            None => (NONE.to_string(), None),
        };
        Row::versus(measurement, berth, NONE.into(), NONE.into(), target, ok)
    }

    /// A row whose cells are already formatted.
    fn versus(
        measurement: String,
        berth: String,
        baseline: String,
        ratio: String,
        target: String,
        ok: Option<bool>,
    ) -> Row {
        Row {
            measurement,
            berth,
            baseline,
            ratio,
            target,
            ok,
        }
    }

    fn latency(measurement: String, took: Duration, limit: Option<Duration>) -> Row {
        let target = limit.map(|l| (format!("≤ {} ms", l.as_millis()), took <= l));
        Row::berth_only(measurement, fmt_duration(took), target)
    }

    fn memory(measurement: &str, bytes: u64, limit: Option<u64>) -> Row {
        let target = limit.map(|l| (format!("≤ {} MB", l / 1_000_000), bytes <= l));
        Row::berth_only(measurement.to_string(), megabytes(bytes), target)
    }

    fn cells(&self) -> [&str; 6] {
        let ok = match self.ok {
            Some(true) => "yes",
            Some(false) => "NO",
            None => NONE,
        };
        [
            &self.measurement,
            &self.berth,
            &self.baseline,
            &self.ratio,
            &self.target,
            ok,
        ]
    }
}

fn render_table(rows: &[Row]) -> String {
    let header = ["measurement", "berth", "baseline", "ratio", "target", "ok?"];
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row.cells()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut table = line(header);
    let rules = widths.map(|w| "-".repeat(w));
    table += &line(rules.each_ref().map(String::as_str));
    for row in rows {
        table += &line(row.cells());
    }
    table
}

fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
