//! The swarm rows of `berth bench`, measured only when `BERTH_BENCH_SWARM`
//! names a swarm manager's socket (e.g. `unix:///tmp/swarm3/n1.sock`): a
//! second server with `--runtime swarm` on that manager against the bare
//! swarm through the docker CLI — app create until its first instance runs
//! vs `docker service create`, and scale 0→10 vs `docker service scale`
//! (each until `docker service ls` counts the replicas running). Every node
//! needs the bench's image.

use std::time::Duration;

use anyhow::{Context, Result};
use berth_testkit::docker::docker_async;
use berth_testkit::{Api, IMAGE, Launch};

use super::{
    NONE, REQUEST_TIMEOUT, Row, SCALE_TO, SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT, SLEEP_COMMAND,
    WorkDir, create_app_with_first_instance, destroy_app, fmt_duration, median, scale, timed,
};

/// The variable naming the swarm manager.
const SWARM_ENV: &str = "BERTH_BENCH_SWARM";

/// The swarm rows, or none when no swarm is named.
pub(super) async fn rows(runs: u32) -> Result<Vec<Row>> {
    let host = match std::env::var(SWARM_ENV) {
        Ok(host) if !host.is_empty() => host,
        _ => return Ok(Vec::new()),
    };
    let bench_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let workdir = WorkDir::create(&format!("swarm-{bench_id}"))?;
    let swarm = Swarm {
        host: host.clone(),
        label: format!("berth.bench={bench_id}"),
    };
    let exe = std::env::current_exe().context("cannot find the berth binary")?;
    progress!("swarm: starting a server with --runtime swarm on {host}");
    let launch = Launch::new(&exe, &workdir.path)
        .env("DOCKER_HOST", &host)
        .env("BERTH_RUNTIME", "swarm")
        .startup_timeout(SERVER_START_TIMEOUT)
        .own_process_group();
    let mut server = launch.start().await.map_err(anyhow::Error::msg)?;
    let outcome = measure(&server.url, &swarm, runs).await;
    server.terminate(SERVER_STOP_TIMEOUT).await;
    swarm
        .remove_labelled(&format!("berth.server={}", server.server_id))
        .await;
    swarm.remove_labelled(&swarm.label).await;
    workdir.finish(false);
    outcome
}

async fn measure(url: &str, swarm: &Swarm, runs: u32) -> Result<Vec<Row>> {
    let (api, _) = Api::try_sign_up(url, "bench")
        .await
        .map_err(anyhow::Error::msg)?;
    let api = api.with_timeout(REQUEST_TIMEOUT);

    let (mut berth, mut engine) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let app = format!("bench-swarm-create-{run}");
        let (berth_took, ()) = timed(create_app_with_first_instance(&api, &app)).await?;
        destroy_app(&api, &app).await?;
        let service = format!("bench-create-{run}-{}", swarm.suffix());
        let (docker_took, _) = timed(swarm.create(&service, 1)).await?;
        swarm.remove(&service).await?;
        progress!(
            "swarm: app create {run}/{runs}: berth {}, docker service create {}",
            fmt_duration(berth_took),
            fmt_duration(docker_took)
        );
        berth.push(berth_took);
        engine.push(docker_took);
    }
    let create = (median(berth), median(engine));

    let app = "bench-swarm-scale";
    create_app_with_first_instance(&api, app).await?;
    scale(&api, app, 0).await?;
    let service = format!("bench-scale-{}", swarm.suffix());
    swarm.create(&service, 0).await?;
    let (mut berth, mut engine) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let (berth_took, ()) = timed(scale(&api, app, SCALE_TO)).await?;
        scale(&api, app, 0).await?;
        let (docker_took, _) = timed(swarm.scale(&service, SCALE_TO)).await?;
        swarm.scale(&service, 0).await?;
        progress!(
            "swarm: scale 0→{SCALE_TO} {run}/{runs}: berth {}, docker service scale {}",
            fmt_duration(berth_took),
            fmt_duration(docker_took)
        );
        berth.push(berth_took);
        engine.push(docker_took);
    }
    destroy_app(&api, app).await?;
    swarm.remove(&service).await?;
    let scaled = (median(berth), median(engine));

    Ok(vec![
        versus(
            format!("swarm: app create → first instance running (median of {runs})"),
            create,
        ),
        versus(
            format!("swarm: scale web 0→{SCALE_TO}, {SCALE_TO} services (median of {runs})"),
            scaled,
        ),
    ])
}

/// Berth against `docker service …`, with no target: the swarm's own
/// scheduling dominates both.
fn versus(measurement: String, (berth, docker): (Duration, Duration)) -> Row {
    Row::versus(
        measurement,
        fmt_duration(berth),
        format!("{} (docker service)", fmt_duration(docker)),
        format!("{:.2}×", berth.as_secs_f64() / docker.as_secs_f64()),
        NONE.into(),
        None,
    )
}

/// The bare swarm through the docker CLI; its services carry the bench's label.
struct Swarm {
    host: String,
    label: String,
}

impl Swarm {
    fn suffix(&self) -> &str {
        self.label.rsplit('=').next().unwrap_or_default()
    }

    async fn docker(&self, args: &[&str]) -> Result<String> {
        let mut all = vec!["-H", self.host.as_str()];
        all.extend_from_slice(args);
        docker_async(&all).await.map_err(anyhow::Error::msg)
    }

    /// `docker service create` of `replicas` sleepers, then waits until they run.
    async fn create(&self, name: &str, replicas: u32) -> Result<()> {
        let count = replicas.to_string();
        let mut args = vec![
            "service",
            "create",
            "--detach",
            "--quiet",
            "--endpoint-mode",
            "dnsrr",
            "--label",
            &self.label,
            "--name",
            name,
            "--replicas",
            &count,
            IMAGE,
        ];
        args.extend(SLEEP_COMMAND.split(' '));
        self.docker(&args).await?;
        self.wait_running(name, replicas).await
    }

    /// `docker service scale`, then waits until the replicas run (or are gone).
    async fn scale(&self, name: &str, replicas: u32) -> Result<()> {
        let target = format!("{name}={replicas}");
        self.docker(&["service", "scale", "--detach", &target])
            .await?;
        self.wait_running(name, replicas).await
    }

    /// Polls the service's `running/desired` count: the CLI's own wait
    /// (`--detach=false`) adds seconds to check that the tasks stay up.
    async fn wait_running(&self, name: &str, replicas: u32) -> Result<()> {
        let filter = format!("name={name}");
        let want = format!("{replicas}/{replicas}");
        let deadline = tokio::time::Instant::now() + REQUEST_TIMEOUT;
        loop {
            let listed = self
                .docker(&[
                    "service",
                    "ls",
                    "--filter",
                    &filter,
                    "--format",
                    "{{.Replicas}}",
                ])
                .await?;
            if listed.trim() == want {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "{name} never reached {want} replicas"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn remove(&self, name: &str) -> Result<()> {
        self.docker(&["service", "rm", name]).await.map(drop)
    }

    /// Removes every service carrying `label`.
    async fn remove_labelled(&self, label: &str) {
        let filter = format!("label={label}");
        let listed = self
            .docker(&["service", "ls", "-q", "--filter", &filter])
            .await;
        let ids: Vec<String> = listed
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if ids.is_empty() {
            return;
        }
        let mut args = vec!["service", "rm"];
        args.extend(ids.iter().map(String::as_str));
        if let Err(e) = self.docker(&args).await {
            progress!("warning: could not remove swarm services labelled {label}: {e}");
        }
    }
}
