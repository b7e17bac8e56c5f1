//! The app under test: the real router over a temp-dir SQLite store and the
//! in-memory runtime, with the reconciler running, driven request by request
//! through `oneshot`. Also a JSON shape matcher for the answers.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use berth_core::reconciler::Reconciler;
use berth_core::runtime::Runtime;
use berth_core::service::{Berth, Settings};
use berth_core::signals::Signals;
use berth_core::spec::ContainerLimits;
use berth_core::store::Store;
use berth_runtime::FakeRuntime;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::watch;
use tower::ServiceExt;

/// The image the fake engine has.
pub const IMAGE: &str = "busybox:latest";
/// The operator's memory maximum, above which per-app limits are refused.
pub const MAX_MEMORY: i64 = 8 << 30;
/// Password of every test user.
pub const PASSWORD: &str = "opensesame-42";
/// Large enough for any answer these tests read.
const MAX_BODY: usize = 16 << 20;

pub struct TestApp {
    router: Router,
    pub berth: Arc<Berth>,
    pub runtime: Arc<FakeRuntime>,
    store: Arc<dyn Store>,
    stop_reconciler: watch::Sender<bool>,
    _data_dir: TempDir,
}

impl TestApp {
    /// A fresh app whose first user (the administrator) is already taken,
    /// so every user a test signs up is an ordinary one.
    pub async fn start() -> TestApp {
        TestApp::start_with(|_| {}).await
    }

    /// Like [`TestApp::start`], with settings changed by `configure`.
    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("cannot make a temp dir");
        let url = format!("sqlite://{}/berth.db", data_dir.path().display());
        let store: Arc<dyn Store> = Arc::new(
            berth_store::SqliteStore::connect(&url)
                .await
                .expect("cannot open the test database"),
        );
        let fake = Arc::new(FakeRuntime::with_images([IMAGE]));
        let runtime: Arc<dyn Runtime> = fake.clone();
        let signals = Arc::new(Signals::default());
        let mut settings = Settings {
            jwt_key: vec![7; 32],
            converge_timeout: std::time::Duration::from_secs(10),
            limits: ContainerLimits {
                max_memory: Some(MAX_MEMORY),
                ..ContainerLimits::default()
            },
            ..Settings::default()
        };
        configure(&mut settings);
        let datasets = Arc::new(berth_store::datasets::FolderDatasets::new(
            data_dir.path().join("datasets"),
        ));
        let berth = Arc::new(Berth::new(
            store.clone(),
            runtime.clone(),
            datasets,
            Arc::new(berth_store::volume_files::FolderVolumeFiles::new(
                data_dir.path().join("pod-volumes"),
            )),
            signals.clone(),
            settings,
        ));
        let (stop_reconciler, stopped) = watch::channel(false);
        let reconciler = Reconciler::new(store.clone(), runtime, signals)
            .with_max_job_runtime(berth.settings.max_job_runtime);
        tokio::spawn(Arc::new(reconciler).run(stopped));
        let app = TestApp {
            router: berth_api::router(berth.clone()),
            berth,
            runtime: fake,
            store,
            stop_reconciler,
            _data_dir: data_dir,
        };
        app.sign_up("administrator").await;
        app
    }

    /// A new user with [`PASSWORD`], and a token of theirs. Made in the store
    /// with one password hash shared by every test: hashing is slow in debug
    /// builds, and what these tests pin is the answers, not sign-up.
    pub async fn sign_up(&self, username: &str) -> String {
        static HASH: OnceLock<String> = OnceLock::new();
        let hash = HASH.get_or_init(|| {
            berth_core::auth::hash_password(PASSWORD).expect("cannot hash the test password")
        });
        let user = self
            .store
            .create_user(username, "", hash)
            .await
            .expect("cannot create a test user");
        let (_, token) = self
            .berth
            .issue_token(&user, None)
            .await
            .expect("cannot issue a test token");
        token
    }

    /// Sends what `call` makes every 50 ms until the answer satisfies
    /// `done`, and returns that answer; panics with the last one after 10 s.
    pub async fn eventually<'a>(
        &'a self,
        call: impl Fn() -> Call<'a>,
        done: impl Fn(&Reply) -> bool,
    ) -> Reply {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let reply = call().send().await;
            if done(&reply) {
                return reply;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "{} never got there; last answer: {}",
                    reply.what, reply.text
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The store under the router, for a test to set up state no request makes.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Where this server keeps its files (data sets under `datasets/`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            request: Request::builder().method(method).uri(path),
            body: Body::empty(),
            what: path.to_string(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop_reconciler.send(true);
    }
}

/// One request being put together.
pub struct Call<'a> {
    app: &'a TestApp,
    request: axum::http::request::Builder,
    body: Body,
    what: String,
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    /// As if sent from `peer` (the server tells handlers the client's address).
    pub fn sent_by(mut self, peer: std::net::SocketAddr) -> Self {
        self.request = self.request.extension(axum::extract::ConnectInfo(peer));
        self
    }

    /// `Authorization: <scheme> <token>`.
    pub fn auth(self, scheme: &str, token: &str) -> Self {
        self.header("authorization", &format!("{scheme} {token}"))
    }

    pub fn json(self, body: &Value) -> Self {
        self.raw("application/json", body.to_string())
    }

    /// A body sent as is, e.g. malformed JSON.
    pub fn raw(mut self, content_type: &str, body: impl Into<String>) -> Self {
        self.request = self.request.header(header::CONTENT_TYPE, content_type);
        self.body = Body::from(body.into());
        self
    }

    /// A body sent as it comes, e.g. a stream a test controls.
    pub fn streamed(mut self, content_type: &str, body: Body) -> Self {
        self.request = self.request.header(header::CONTENT_TYPE, content_type);
        self.body = body;
        self
    }

    pub async fn send(self) -> Reply {
        let request = self
            .request
            .body(self.body)
            .expect("the test built a valid request");
        let method = request.method().clone();
        // The server drops trailing slashes before routing; so do the tests.
        let request = berth_api::strip_trailing_slash(request);
        let response = self
            .app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_BODY)
            .await
            .expect("cannot read the answer");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            what: format!("{method} {}", self.what),
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }
}

/// An answer; `body` is `Null` unless it was JSON.
#[derive(Debug)]
pub struct Reply {
    pub what: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub fn status_is(self, status: StatusCode) -> Reply {
        assert_eq!(
            self.status, status,
            "{} answered {} {}",
            self.what, self.status, self.text
        );
        self
    }

    /// Asserts the status and that the body matches `shape` (see [`assert_shape`]).
    pub fn is(self, status: StatusCode, shape: Value) -> Reply {
        let reply = self.status_is(status);
        assert_shape(&reply.what, &reply.body, &shape);
        reply
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Asserts `actual` matches `shape`: objects have exactly the same keys,
/// arrays the same length, and leaves are equal, except where `shape` holds
/// a placeholder: `"<any>"`, `"<string>"` (non-empty), `"<uuid>"`,
/// `"<timestamp>"` (RFC 3339), `"<deis-timestamp>"` (Deis's
/// `2014-01-01T00:00:00UTC`), `"<int>"`.
pub fn assert_shape(what: &str, actual: &Value, shape: &Value) {
    if let Err(at) = shape_mismatch(actual, shape, "$") {
        panic!(
            "{what}: the answer differs at {at}\n answer: {}\n shape:  {}",
            serde_json::to_string_pretty(actual).unwrap_or_default(),
            serde_json::to_string_pretty(shape).unwrap_or_default()
        );
    }
}

fn shape_mismatch(actual: &Value, shape: &Value, at: &str) -> Result<(), String> {
    let fits = match (shape, actual) {
        (Value::String(p), _) if p == "<any>" => true,
        (Value::String(p), Value::String(s)) if p == "<string>" => !s.is_empty(),
        (Value::String(p), Value::String(s)) if p == "<uuid>" => is_uuid(s),
        (Value::String(p), Value::String(s)) if p == "<timestamp>" => is_timestamp(s),
        (Value::String(p), Value::String(s)) if p == "<deis-timestamp>" => is_deis_timestamp(s),
        (Value::String(p), Value::Number(n)) if p == "<int>" => n.is_i64() || n.is_u64(),
        (Value::Object(want), Value::Object(have)) => {
            let want_keys: Vec<&String> = want.keys().collect();
            let have_keys: Vec<&String> = have.keys().collect();
            if want_keys != have_keys {
                return Err(format!("{at}: keys {have_keys:?}, expected {want_keys:?}"));
            }
            for (key, want) in want {
                shape_mismatch(&have[key], want, &format!("{at}.{key}"))?;
            }
            true
        }
        (Value::Array(want), Value::Array(have)) => {
            if want.len() != have.len() {
                return Err(format!(
                    "{at}: {} items, expected {}",
                    have.len(),
                    want.len()
                ));
            }
            for (i, (have, want)) in have.iter().zip(want).enumerate() {
                shape_mismatch(have, want, &format!("{at}[{i}]"))?;
            }
            true
        }
        (shape, actual) => shape == actual,
    };
    if fits {
        Ok(())
    } else {
        Err(format!("{at}: {actual}, expected {shape}"))
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_timestamp(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

/// Whole seconds in UTC with the zone's name after them, as Deis v1 wrote times.
fn is_deis_timestamp(s: &str) -> bool {
    s.strip_suffix("UTC")
        .is_some_and(|t| t.len() == 19 && is_timestamp(&format!("{t}Z")))
}

/// One Tapis call with a token in `X-Tapis-Token`, and a JSON body if given.
pub async fn tapis_call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let call = app.call(method, path).header("x-tapis-token", token);
    match body {
        Some(b) => call.json(&b).send().await,
        None => call.send().await,
    }
}
