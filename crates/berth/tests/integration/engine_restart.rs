//! The engine stops and starts again under a running Berth (its own private
//! dockerd here, so no other test is disturbed): `/healthz` says so while it
//! is down, nothing is lost, and Berth converges on exactly the desired
//! containers when it is back.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

use crate::harness::{Api, IMAGE, Server, unique_username, wait_until};

/// A dockerd of this test's own: its socket, data and exec roots in a temp
/// dir, no bridge (the test's containers only sleep), no iptables rules, and
/// a network namespace of its own — a dockerd started with `--bridge none`
/// in the host's namespace deletes the shared engine's `docker0`.
struct PrivateEngine {
    root: tempfile::TempDir,
    dockerd: Mutex<Option<Child>>,
}

impl PrivateEngine {
    fn sock(&self) -> PathBuf {
        self.root.path().join("d.sock")
    }

    fn host(&self) -> String {
        format!("unix://{}", self.sock().display())
    }

    fn pidfile(&self) -> PathBuf {
        self.root.path().join("dockerd.pid")
    }

    fn start(&self) {
        let dir = self.root.path();
        let log = std::fs::File::create(dir.join("dockerd.log")).expect("cannot make the log");
        let child = Command::new("unshare")
            .args(["--net", "dockerd", "--host"])
            .arg(self.host())
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(self.pidfile())
            .args([
                "--bridge",
                "none",
                "--iptables=false",
                "--ip6tables=false",
                "--shutdown-timeout",
                "2",
                "--log-level",
                "warn",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cannot share the log"))
            .stderr(log)
            .spawn()
            .expect("cannot start dockerd");
        *self.dockerd.lock().unwrap() = Some(child);
        for _ in 0..150 {
            if self.answers() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("the private dockerd did not come up:\n{}", self.log());
    }

    fn answers(&self) -> bool {
        self.docker(&["version"]).is_ok()
    }

    /// Stops dockerd (its containers die with it) and waits until it is gone.
    fn stop(&self) {
        let Some(mut child) = self.dockerd.lock().unwrap().take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").arg(&pid).status();
        for _ in 0..100 {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    fn docker(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// The running containers of one app, by name.
    fn running(&self, app: &str) -> Vec<String> {
        let filter = format!("label=berth.app={app}");
        self.docker(&["ps", "--filter", &filter, "--format", "{{.Names}}"])
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("dockerd.log")).unwrap_or_default()
    }
}

impl Drop for PrivateEngine {
    fn drop(&mut self) {
        if self.answers() {
            let ids = self.docker(&["ps", "-aq"]).unwrap_or_default();
            for id in ids.split_whitespace() {
                let _ = self.docker(&["rm", "-f", id]);
            }
        }
        self.stop();
    }
}

/// Copies the base image from the shared engine into the private one.
fn load_base_image(engine: &PrivateEngine) {
    let copy = format!("docker save {IMAGE} | docker -H {} load", engine.host());
    let status = Command::new("sh")
        .args(["-c", &copy])
        .status()
        .expect("cannot run sh");
    assert!(
        status.success(),
        "could not copy {IMAGE} into the private engine"
    );
}

async fn healthz(server: &Server) -> u16 {
    Api::new(&server.url).get("/healthz").await.status
}

#[tokio::test(flavor = "multi_thread")]
async fn berth_reports_an_engine_outage_and_converges_when_the_engine_is_back() {
    let engine = PrivateEngine {
        root: tempfile::Builder::new()
            .prefix("berth-engine-")
            .tempdir()
            .expect("cannot make a temp dir"),
        dockerd: Mutex::new(None),
    };
    engine.start();
    load_base_image(&engine);
    let host = engine.host();
    let server = Server::start_with_env(&[("DOCKER_HOST", host.as_str())]).await;
    let (api, _) = Api::sign_up(&server.url, &unique_username("outage")).await;
    let app = api.create_app("outage").await;
    api.deploy_sleeper(&app).await;
    api.scale_web(&app, 2).await;
    assert_eq!(engine.running(&app).len(), 2, "{:?}", engine.running(&app));
    assert_eq!(healthz(&server).await, 200);

    engine.stop();
    wait_until(
        Duration::from_secs(20),
        "/healthz turns 503 with the engine down",
        async || match healthz(&server).await {
            503 => Ok(()),
            other => Err(format!("/healthz {other}")),
        },
    )
    .await;
    // What should run is still known while the engine is away.
    let detail = api.get(&format!("/v1/apps/{app}")).await.status_is(200);
    assert_eq!(
        detail.body["structure"],
        json!({"web": 2}),
        "{}",
        detail.text
    );

    engine.start();
    wait_until(
        Duration::from_secs(60),
        "Berth converges on web=2 with the engine back",
        async || {
            let health = healthz(&server).await;
            let running = engine.running(&app);
            if health == 200 && running.len() == 2 {
                Ok(())
            } else {
                Err(format!("/healthz {health}, running {running:?}"))
            }
        },
    )
    .await;
    let containers = api
        .get(&format!("/v1/apps/{app}/containers"))
        .await
        .status_is(200);
    let states: Vec<&str> = containers.body["results"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|c| c["state"].as_str())
        .collect();
    assert_eq!(states, ["up", "up"], "{}", containers.text);
    let all = engine
        .docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=berth.app={app}"),
            "-q",
        ])
        .unwrap_or_default();
    assert_eq!(
        all.split_whitespace().count(),
        2,
        "a duplicate or an orphan is left"
    );
}
