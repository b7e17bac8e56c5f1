//! `berth bench`: starts a private Berth server, measures it against the
//! bare engine (the `docker` CLI on the same `DOCKER_HOST`) and prints one
//! table to stdout. Progress lines go to stderr.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::Args;
use futures::StreamExt;
use reqwest::header::AUTHORIZATION;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const IMAGE: &str = "busybox:latest";
const SLEEP_COMMAND: &str = "sleep 3600";
const SCALE_TO: u32 = 10;
const LIST_REQUESTS: usize = 2000;
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
}

macro_rules! progress {
    ($($arg:tt)*) => { eprintln!("bench: {}", format_args!($($arg)*)) };
}

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
    let outcome = match Server::start(workdir).await {
        Ok(server) => {
            let outcome = tokio::select! {
                rows = measure_all(args, &server, docker) => rows,
                _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
            };
            server.stop(docker).await;
            outcome
        }
        Err(e) => Err(e),
    };
    if outcome.is_err() {
        print_log_tail(&workdir.server_log());
    }
    outcome
}

async fn measure_all(args: &BenchArgs, server: &Server, docker: &Docker) -> Result<Vec<Row>> {
    let idle_rss = server.rss_bytes()?;
    progress!(
        "server pid {} at {} (id {}), idle RSS {}",
        server.pid,
        server.base_url,
        server.id,
        megabytes(idle_rss)
    );
    let api = Api::sign_up(&server.base_url).await?;
    let create = measure_create(&api, docker, args.runs).await?;
    let scale = measure_scale(&api, docker, args.runs).await?;
    let listing = measure_listing(&api, args.apps).await?;
    let final_rss = server.rss_bytes()?;
    let runs = args.runs;
    let apps = args.apps;
    Ok(vec![
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
        Row::memory(
            "server RSS, idle after start",
            idle_rss,
            Some(IDLE_RSS_MAX_BYTES),
        ),
        Row::memory("server RSS, after the run", final_rss, None),
    ])
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
        let (berth_took, ()) = timed(api.create_app_with_first_instance(&app)).await?;
        api.destroy_app(&app).await?;
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
    api.create_app_with_first_instance(app).await?;
    api.scale(app, 0).await?;
    let mut berth = Vec::new();
    let mut engine = Vec::new();
    for run in 1..=runs {
        let (berth_took, ()) = timed(api.scale(app, SCALE_TO)).await?;
        api.scale(app, 0).await?;
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
    api.destroy_app(app).await?;
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
        serde_json::from_str(&api.list_apps_page().await?).context("GET /v1/apps is not JSON")?;
    let count = first["count"].as_u64().unwrap_or(0);
    ensure!(
        count >= u64::from(apps),
        "GET /v1/apps counts {count} apps, expected at least {apps}"
    );
    let page_len = first["results"].as_array().map_or(0, Vec::len);

    progress!("timing {LIST_REQUESTS} sequential GET /v1/apps");
    let mut samples = Vec::with_capacity(LIST_REQUESTS);
    for _ in 0..LIST_REQUESTS {
        let (took, _page) = timed(api.list_apps_page()).await?;
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
        .map(|n| async move { api.create_app(&format!("bench-list-{n:04}")).await })
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

struct Server {
    child: Child,
    pid: u32,
    base_url: String,
    id: String,
    // Held open: the server would fail writing to a closed stdout.
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl Server {
    async fn start(workdir: &WorkDir) -> Result<Server> {
        let exe = std::env::current_exe().context("cannot find the berth binary")?;
        let data_dir = workdir.path.join("data");
        let log =
            std::fs::File::create(workdir.server_log()).context("cannot create the server log")?;
        progress!(
            "starting {} serve (data in {})",
            exe.display(),
            data_dir.display()
        );
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            // The log is a file, read by people: no colour codes.
            .env("NO_COLOR", "1")
            // Ctrl-C then reaches only the bench, which stops the server in order.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start berth serve")?;
        let pid = child.id().context("the server exited at once")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no server stdout")?).lines();
        let base_url =
            tokio::time::timeout(SERVER_START_TIMEOUT, wait_until_listening(&mut stdout))
                .await
                .map_err(|_| {
                    anyhow!("the server did not listen within {SERVER_START_TIMEOUT:?}")
                })??;
        let id = std::fs::read_to_string(data_dir.join("server-id"))
            .context("cannot read the server id")?
            .trim()
            .to_string();
        Ok(Server {
            child,
            pid,
            base_url,
            id,
            _stdout: stdout,
        })
    }

    fn rss_bytes(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
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

    /// Stops the server, then removes every container it labelled as its own.
    async fn stop(mut self, docker: &Docker) {
        // SIGTERM first, so that the reconciler is stopped and cannot start
        // containers again after the sweep.
        let terminated = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .is_ok_and(|s| s.success());
        let exited = terminated
            && tokio::time::timeout(SERVER_STOP_TIMEOUT, self.child.wait())
                .await
                .is_ok();
        if !exited {
            let _ = self.child.kill().await;
        }
        match docker
            .remove_labelled(&format!("berth.server={}", self.id))
            .await
        {
            Ok(0) => {}
            Ok(n) => progress!("removed {n} containers left by the server"),
            Err(e) => progress!("warning: could not remove the server's containers: {e:#}"),
        }
    }
}

async fn wait_until_listening(stdout: &mut Lines<BufReader<ChildStdout>>) -> Result<String> {
    while let Some(line) = stdout.next_line().await? {
        if let Some(url) = line.strip_prefix("listening on ") {
            return Ok(url.trim().to_string());
        }
    }
    bail!("the server exited before it listened")
}

fn print_log_tail(log: &Path) {
    let Ok(text) = std::fs::read_to_string(log) else {
        return;
    };
    let lines: Vec<&str> = text.lines().collect();
    progress!("last lines of the server log:");
    for line in &lines[lines.len().saturating_sub(20)..] {
        eprintln!("  {line}");
    }
}

// ------------------------------------------------------- the /v1 client

struct Api {
    http: reqwest::Client,
    base_url: String,
    authorization: String,
}

impl Api {
    async fn sign_up(base_url: &str) -> Result<Api> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        let credentials = [("username", "bench"), ("password", "bench-password")];
        let register = http
            .post(format!("{base_url}/v1/auth/register"))
            .form(&credentials);
        expect(register, StatusCode::CREATED).await?;
        let login = http
            .post(format!("{base_url}/v1/auth/login"))
            .form(&credentials);
        let body: Value = expect(login, StatusCode::OK).await?.json().await?;
        let token = body["token"]
            .as_str()
            .context("login answered without a token")?;
        Ok(Api {
            authorization: format!("token {token}"),
            http,
            base_url: base_url.to_string(),
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/v1{path}", self.base_url))
            .header(AUTHORIZATION, &self.authorization)
    }

    async fn create_app(&self, id: &str) -> Result<()> {
        let req = self
            .request(reqwest::Method::POST, "/apps")
            .json(&json!({ "id": id }));
        expect(req, StatusCode::CREATED).await.map(drop)
    }

    /// The first build starts web=1 and answers once that instance is up.
    async fn create_app_with_first_instance(&self, id: &str) -> Result<()> {
        self.create_app(id).await?;
        let build = json!({ "image": IMAGE, "procfile": { "web": SLEEP_COMMAND } });
        let req = self
            .request(reqwest::Method::POST, &format!("/apps/{id}/builds"))
            .json(&build);
        expect(req, StatusCode::CREATED).await.map(drop)
    }

    /// Answers once the engine runs exactly `web` instances.
    async fn scale(&self, id: &str, web: u32) -> Result<()> {
        let req = self
            .request(reqwest::Method::POST, &format!("/apps/{id}/scale"))
            .json(&json!({ "web": web }));
        expect(req, StatusCode::NO_CONTENT).await.map(drop)
    }

    async fn destroy_app(&self, id: &str) -> Result<()> {
        let req = self.request(reqwest::Method::DELETE, &format!("/apps/{id}"));
        expect(req, StatusCode::NO_CONTENT).await.map(drop)
    }

    /// The first page of apps, as the raw body (parsing it is not the server's time).
    async fn list_apps_page(&self) -> Result<String> {
        let req = self.request(reqwest::Method::GET, "/apps");
        Ok(expect(req, StatusCode::OK).await?.text().await?)
    }
}

async fn expect(req: RequestBuilder, wanted: StatusCode) -> Result<Response> {
    let (client, req) = req.build_split();
    let req = req?;
    let what = format!("{} {}", req.method(), req.url().path());
    let resp = client.execute(req).await.with_context(|| what.clone())?;
    if resp.status() != wanted {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        bail!("{what}: {status} (wanted {wanted}): {body}");
    }
    Ok(resp)
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
        Ok(docker_cli(&args).await?.trim().to_string())
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
        docker_cli(&args).await.map(drop)
    }

    async fn remove_labelled(&self, label: &str) -> Result<usize> {
        let filter = format!("label={label}");
        let listed = docker_cli(&["ps", "-aq", "--filter", &filter]).await?;
        let ids: Vec<String> = listed.split_whitespace().map(str::to_string).collect();
        self.remove(&ids).await?;
        Ok(ids.len())
    }

    async fn remove_own_containers(&self) {
        if let Err(e) = self.remove_labelled(&self.label).await {
            progress!("warning: could not remove the bench's own containers: {e:#}");
        }
    }
}

async fn docker_cli(args: &[&str]) -> Result<String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run the docker CLI")?;
    if !out.status.success() {
        bail!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn ensure_engine_ready() -> Result<()> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "(default socket)".into());
    docker_cli(&["version", "--format", "{{.Server.Version}}"])
        .await
        .with_context(|| {
            format!(
                "no engine answers at DOCKER_HOST={host}; try: eval \"$(bash scripts/engine.sh)\""
            )
        })?;
    docker_cli(&["image", "inspect", "--format", "{{.Id}}", IMAGE])
        .await
        .with_context(|| format!("the engine lacks {IMAGE}; scripts/engine.sh provides it"))?;
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
    docker: String,
    ratio: String,
    target: String,
    ok: Option<bool>,
}

const NONE: &str = "—";

impl Row {
    fn versus_docker(measurement: String, v: Versus, max_ratio: f64) -> Row {
        let ratio = v.berth.as_secs_f64() / v.docker.as_secs_f64();
        Row {
            measurement,
            berth: fmt_duration(v.berth),
            docker: fmt_duration(v.docker),
            ratio: format!("{ratio:.2}×"),
            target: format!("≤ {max_ratio}× docker"),
            ok: Some(ratio <= max_ratio),
        }
    }

    /// A value with no engine counterpart, with its target if it has one.
    fn berth_only(measurement: String, berth: String, target: Option<(String, bool)>) -> Row {
        let (target, ok) = match target {
            Some((target, ok)) => (target, Some(ok)),
            None => (NONE.to_string(), None),
        };
        Row {
            measurement,
            berth,
            docker: NONE.into(),
            ratio: NONE.into(),
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
            &self.docker,
            &self.ratio,
            &self.target,
            ok,
        ]
    }
}

fn render_table(rows: &[Row]) -> String {
    let header = ["measurement", "berth", "docker", "ratio", "target", "ok?"];
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
