//! An in-memory [`Runtime`] for tests that need no container engine.
//!
//! Containers live in a map with their labels and states; starting one makes
//! it `Running` until it is stopped, waited for (its process then "finishes"
//! with exit code 0) or made to exit with [`FakeRuntime::exit`]. Images exist
//! when they are in a configurable set; pulls always fail, as they do with no
//! registry in reach, and builds add their tag to the set. What needs a real
//! process (exec, reading files back) answers with an error saying the fake
//! runtime does not support it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use berth_core::model::{PublishedPort, now};
use berth_core::runtime::*;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast;

/// The node every fake container runs on.
pub const FAKE_NODE: &str = "fake";
/// Exit code of a stopped container: its init forwarded SIGTERM.
const STOPPED_EXIT_CODE: i64 = 143;
/// First host port handed out for published ports.
const FIRST_HOST_PORT: u16 = 49152;
/// Events a slow subscriber may lag behind before it misses some.
const EVENT_BUFFER: usize = 1024;

/// An in-memory container engine.
pub struct FakeRuntime {
    state: Mutex<Engine>,
    events: broadcast::Sender<EngineEvent>,
    /// How many times the engine was pinged, and whether pings fail.
    pings: AtomicUsize,
    down: AtomicBool,
}

#[derive(Default)]
struct Engine {
    containers: BTreeMap<String, ContainerInfo>,
    images: BTreeSet<String>,
    /// Every container and image gets a new number, so ids never repeat.
    serial: u64,
    next_host_port: u16,
}

impl Default for FakeRuntime {
    fn default() -> Self {
        FakeRuntime::with_images::<&str>([])
    }
}

impl FakeRuntime {
    /// An engine that has exactly these images (`name:tag`; no tag means `latest`).
    pub fn with_images<S: AsRef<str>>(images: impl IntoIterator<Item = S>) -> FakeRuntime {
        let engine = Engine {
            images: images.into_iter().map(|i| with_tag(i.as_ref())).collect(),
            next_host_port: FIRST_HOST_PORT,
            ..Engine::default()
        };
        FakeRuntime {
            state: Mutex::new(engine),
            events: broadcast::channel(EVENT_BUFFER).0,
            pings: AtomicUsize::new(0),
            down: AtomicBool::new(false),
        }
    }

    /// Makes pings fail (an engine outage) or answer again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// How many times the engine was pinged.
    pub fn pings(&self) -> usize {
        self.pings.load(Ordering::SeqCst)
    }

    pub fn add_image(&self, image: &str) {
        self.engine().images.insert(with_tag(image));
    }

    /// Every container, by id.
    pub fn containers(&self) -> Vec<ContainerInfo> {
        self.engine().containers.values().cloned().collect()
    }

    /// Makes a running container's process exit with `code`, as a crash would.
    pub fn exit(&self, id: &str, code: i64) -> Result<(), RuntimeError> {
        let info = {
            let mut engine = self.engine();
            let c = engine.container(id)?;
            c.state = EngineState::Exited;
            c.exit_code = Some(code);
            c.finished_at = Some(now());
            c.clone()
        };
        self.announce(&info, "die");
        Ok(())
    }

    fn engine(&self) -> MutexGuard<'_, Engine> {
        // A test that panicked while holding the lock has failed already;
        // the map itself is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn announce(&self, c: &ContainerInfo, action: &str) {
        // No subscriber is not an error: nobody is watching yet.
        let _ = self.events.send(EngineEvent {
            container_id: c.id.clone(),
            action: action.to_string(),
            labels: c.labels.clone(),
        });
    }

    fn inspect_now(&self, id: &str) -> Result<ContainerInfo, RuntimeError> {
        self.engine().container(id).map(|c| c.clone())
    }
}

impl Engine {
    /// A container by id or name, as the engine resolves either.
    fn container(&mut self, id: &str) -> Result<&mut ContainerInfo, RuntimeError> {
        let key = self
            .containers
            .values()
            .find(|c| c.id == id || c.name == id)
            .map(|c| c.id.clone());
        key.and_then(|key| self.containers.get_mut(&key))
            .ok_or_else(|| RuntimeError::NotFound(id.to_string()))
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }
}

fn with_tag(image: &str) -> String {
    let name = image.rsplit('/').next().unwrap_or(image);
    if name.contains(':') || name.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

fn unsupported(what: &str) -> RuntimeError {
    RuntimeError::Engine(format!("{what} is not supported by the fake runtime"))
}

fn matches(c: &ContainerInfo, labels: &[(&str, Option<&str>)]) -> bool {
    labels.iter().all(|(key, value)| match value {
        Some(v) => c.label(key) == Some(*v),
        None => c.label(key).is_some_and(|v| !v.is_empty()),
    })
}

#[async_trait]
impl Runtime for FakeRuntime {
    async fn ping(&self) -> Result<String, RuntimeError> {
        self.pings.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(RuntimeError::Engine("fake engine is down".into()));
        }
        Ok("fake 1".into())
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, RuntimeError> {
        let mut engine = self.engine();
        if !engine.images.contains(&with_tag(&spec.image)) {
            return Err(RuntimeError::ImageNotFound(spec.image.clone()));
        }
        if engine.containers.values().any(|c| c.name == spec.name) {
            return Err(RuntimeError::Conflict(format!(
                "the container name {:?} is already in use",
                spec.name
            )));
        }
        let id = format!("{:064x}", engine.next_serial());
        let mut ports = Vec::new();
        for p in &spec.ports {
            let outer = engine.next_host_port;
            engine.next_host_port = engine.next_host_port.wrapping_add(1).max(FIRST_HOST_PORT);
            ports.push(PublishedPort {
                inner: p.inner,
                outer: Some(outer),
                protocol: p.protocol.clone(),
            });
        }
        let info = ContainerInfo {
            id: id.clone(),
            name: spec.name.clone(),
            labels: spec.labels.clone(),
            state: EngineState::Created,
            exit_code: None,
            error: None,
            started_at: None,
            finished_at: None,
            node: Some(FAKE_NODE.to_string()),
            ports,
            // Addresses from TEST-NET-1: never reachable, like a container on another host.
            address: Some(format!("192.0.2.{}", 1 + engine.containers.len() % 254)),
        };
        engine.containers.insert(id.clone(), info.clone());
        drop(engine);
        self.announce(&info, "create");
        Ok(id)
    }

    async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        let info = {
            let mut engine = self.engine();
            let c = engine.container(id)?;
            if c.state == EngineState::Running {
                return Ok(());
            }
            c.state = EngineState::Running;
            c.exit_code = None;
            c.started_at = Some(now());
            c.finished_at = None;
            c.clone()
        };
        self.announce(&info, "start");
        Ok(())
    }

    async fn stop(&self, id: &str, _timeout: Duration) -> Result<(), RuntimeError> {
        let info = {
            let mut engine = self.engine();
            let c = engine.container(id)?;
            if c.state != EngineState::Running {
                return Ok(());
            }
            c.state = EngineState::Exited;
            c.exit_code = Some(STOPPED_EXIT_CODE);
            c.finished_at = Some(now());
            c.clone()
        };
        self.announce(&info, "die");
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        let removed = {
            let mut engine = self.engine();
            match engine.container(id) {
                Ok(c) => {
                    let key = c.id.clone();
                    engine.containers.remove(&key)
                }
                Err(_) => None,
            }
        };
        if let Some(info) = removed {
            self.announce(&info, "destroy");
        }
        Ok(())
    }

    async fn inspect(&self, id: &str) -> Result<ContainerInfo, RuntimeError> {
        self.inspect_now(id)
    }

    async fn list(
        &self,
        labels: &[(&str, Option<&str>)],
    ) -> Result<Vec<ContainerInfo>, RuntimeError> {
        Ok(self
            .engine()
            .containers
            .values()
            .filter(|c| matches(c, labels))
            .cloned()
            .collect())
    }

    async fn events(
        &self,
    ) -> Result<BoxStream<'static, Result<EngineEvent, RuntimeError>>, RuntimeError> {
        let receiver = self.events.subscribe();
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) if event.labels.contains_key(LABEL_APP) => {
                        return Some((Ok(event), receiver));
                    }
                    Ok(_) => continue,
                    // A lagging watcher only needs a wake-up, not every event.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(stream.boxed())
    }

    async fn logs(
        &self,
        id: &str,
        _tail: Option<usize>,
        _follow: bool,
    ) -> Result<BoxStream<'static, Result<LogLine, RuntimeError>>, RuntimeError> {
        // Fake processes print nothing.
        self.inspect_now(id)?;
        Ok(futures::stream::empty().boxed())
    }

    async fn exec(
        &self,
        id: &str,
        _argv: &[String],
        _timeout: Duration,
    ) -> Result<ExecOutput, RuntimeError> {
        self.inspect_now(id)?;
        Err(unsupported("exec"))
    }

    async fn wait(&self, id: &str) -> Result<i64, RuntimeError> {
        let running = self.inspect_now(id)?.state == EngineState::Running;
        if running {
            self.exit(id, 0)?;
        }
        Ok(self.inspect_now(id)?.exit_code.unwrap_or(0))
    }

    async fn image_exists(&self, image: &str) -> Result<bool, RuntimeError> {
        Ok(self.engine().images.contains(&with_tag(image)))
    }

    async fn pull(&self, image: &str, _timeout: Duration) -> Result<(), RuntimeError> {
        Err(RuntimeError::Engine(format!(
            "the fake runtime cannot pull {image}: it reaches no registry"
        )))
    }

    async fn list_images(&self) -> Result<Vec<String>, RuntimeError> {
        Ok(self.engine().images.iter().cloned().collect())
    }

    async fn put_archive(&self, id: &str, _dir: &str, _tar: Vec<u8>) -> Result<(), RuntimeError> {
        // Accepted and forgotten: nothing in a fake container reads files.
        self.inspect_now(id).map(drop)
    }

    async fn get_archive(&self, id: &str, _path: &str) -> Result<Vec<u8>, RuntimeError> {
        self.inspect_now(id)?;
        Err(unsupported("reading files"))
    }

    async fn archive_stream(&self, id: &str, _path: &str) -> Result<ArchiveChunks, RuntimeError> {
        self.inspect_now(id)?;
        Err(unsupported("reading files"))
    }

    async fn stat_path(&self, id: &str, _path: &str) -> Result<PathStat, RuntimeError> {
        self.inspect_now(id)?;
        Err(unsupported("reading files"))
    }

    async fn diff(&self, id: &str) -> Result<Vec<FsChange>, RuntimeError> {
        self.inspect_now(id)?;
        Ok(Vec::new())
    }

    async fn stats(&self, id: &str) -> Result<ContainerStats, RuntimeError> {
        self.inspect_now(id)?;
        Ok(ContainerStats::default())
    }

    async fn build_image(
        &self,
        _context_tar: Vec<u8>,
        options: BuildOptions,
        log: tokio::sync::mpsc::Sender<String>,
    ) -> Result<String, RuntimeError> {
        let serial = {
            let mut engine = self.engine();
            engine.images.insert(with_tag(&options.tag));
            engine.next_serial()
        };
        // A gone receiver only means nobody reads the log any more.
        let _ = log
            .send(format!("Successfully tagged {}\n", options.tag))
            .await;
        Ok(format!("sha256:{serial:064x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, app: &str) -> ContainerSpec {
        ContainerSpec {
            name: name.into(),
            image: "busybox".into(),
            labels: BTreeMap::from([(LABEL_APP.to_string(), app.to_string())]),
            ..ContainerSpec::default()
        }
    }

    #[tokio::test]
    async fn containers_go_through_their_lifecycle() {
        let fake = FakeRuntime::with_images(["busybox:latest"]);
        let id = fake.create(&spec("web.1", "shop")).await.unwrap();
        assert_eq!(fake.inspect(&id).await.unwrap().state, EngineState::Created);
        fake.start(&id).await.unwrap();
        assert_eq!(
            fake.inspect("web.1").await.unwrap().state,
            EngineState::Running
        );
        fake.stop(&id, Duration::from_secs(1)).await.unwrap();
        let stopped = fake.inspect(&id).await.unwrap();
        assert_eq!(
            (stopped.state, stopped.exit_code),
            (EngineState::Exited, Some(STOPPED_EXIT_CODE))
        );
        fake.remove(&id).await.unwrap();
        fake.remove(&id).await.unwrap();
        assert!(matches!(
            fake.inspect(&id).await,
            Err(RuntimeError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn names_are_unique_and_images_must_exist() {
        let fake = FakeRuntime::with_images(["busybox"]);
        fake.create(&spec("a", "shop")).await.unwrap();
        assert!(matches!(
            fake.create(&spec("a", "shop")).await,
            Err(RuntimeError::Conflict(_))
        ));
        let missing = ContainerSpec {
            image: "nginx:1".into(),
            ..spec("b", "shop")
        };
        assert_eq!(
            fake.create(&missing).await,
            Err(RuntimeError::ImageNotFound("nginx:1".into()))
        );
        assert!(fake.image_exists("busybox:latest").await.unwrap());
        assert!(fake.pull("nginx:1", Duration::from_secs(1)).await.is_err());
    }

    #[tokio::test]
    async fn lists_by_label_presence_and_value() {
        let fake = FakeRuntime::with_images(["busybox"]);
        fake.create(&spec("a", "shop")).await.unwrap();
        fake.create(&spec("b", "blog")).await.unwrap();
        let names = |list: Vec<ContainerInfo>| -> Vec<String> {
            list.into_iter().map(|c| c.name).collect()
        };
        assert_eq!(
            names(fake.list(&[(LABEL_APP, None)]).await.unwrap()),
            ["a", "b"]
        );
        assert_eq!(
            names(fake.list(&[(LABEL_APP, Some("blog"))]).await.unwrap()),
            ["b"]
        );
        assert!(fake.list(&[(LABEL_JOB, None)]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn waiting_finishes_the_process_and_events_tell() {
        let fake = FakeRuntime::with_images(["busybox"]);
        let mut events = fake.events().await.unwrap();
        let id = fake.create(&spec("once", "shop")).await.unwrap();
        fake.start(&id).await.unwrap();
        assert_eq!(fake.wait(&id).await.unwrap(), 0);
        let actions: Vec<String> = events
            .by_ref()
            .take(3)
            .map(|e| e.unwrap().action)
            .collect()
            .await;
        assert_eq!(actions, ["create", "start", "die"]);
        assert!(fake.exec(&id, &[], Duration::from_secs(1)).await.is_err());
    }

    #[tokio::test]
    async fn builds_add_their_tag() {
        let fake = FakeRuntime::default();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let options = BuildOptions {
            tag: "local/app:1".into(),
            ..BuildOptions::default()
        };
        fake.build_image(Vec::new(), options, tx).await.unwrap();
        assert!(rx.recv().await.unwrap().contains("local/app:1"));
        assert_eq!(fake.list_images().await.unwrap(), ["local/app:1"]);
    }
}
