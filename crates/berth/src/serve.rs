//! `berth serve`: wires store, runtime, reconciler and API together.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use berth_core::auth::Registration;
use berth_core::datasets::Datasets;
use berth_core::reconciler::Reconciler;
use berth_core::runtime::Runtime;
use berth_core::service::{Berth, Settings, ensure_admin};
use berth_core::signals::Signals;
use berth_core::store::Store;
use berth_core::traffic::TrafficControl;
use clap::Args;
use tokio::sync::watch;

use crate::listener;

const JOB_PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);
const JOB_METRICS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address the HTTP API listens on.
    #[arg(long, env = "BERTH_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: String,
    /// Where Berth keeps its database and files.
    #[arg(long, env = "BERTH_DATA_DIR", default_value = "./berth-data")]
    pub data_dir: PathBuf,
    /// Database URL; default `sqlite://<data-dir>/berth.db`.
    #[arg(long, env = "BERTH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Container runtime driver: `docker` (one engine) or `swarm` (every
    /// instance a service of the swarm whose manager `DOCKER_HOST` names).
    #[arg(long, env = "BERTH_RUNTIME", default_value = "docker")]
    pub runtime: String,
    /// Domain app URLs are built on: `<app>.<domain>`.
    #[arg(long, env = "BERTH_DOMAIN", default_value = "berth.local")]
    pub domain: String,
    /// Address of the router that carries HTTP to apps by Host (`off`: none).
    #[arg(long, env = "BERTH_ROUTER_LISTEN", default_value = "127.0.0.1:8080")]
    pub router_listen: String,
    /// Address of the router's TLS listener, serving the certificates added
    /// with `deis certs:add` by SNI (none by default).
    #[arg(long, env = "BERTH_ROUTER_TLS_LISTEN")]
    pub router_tls_listen: Option<String>,
    /// Seconds an instance of an app that declares no health check may take
    /// to open its port before it is taken as serving no HTTP at all.
    #[arg(long, env = "BERTH_HEALTH_GRACE", default_value_t = 2)]
    pub health_grace: u64,
    /// Seconds synchronous calls (scale, builds, config) wait for the engine.
    #[arg(long, env = "BERTH_CONVERGE_TIMEOUT", default_value_t = 120)]
    pub converge_timeout: u64,
    /// Hours a finished NDS job (its logs, diff and files) is kept before it is removed.
    #[arg(long, env = "BERTH_JOB_RETENTION_HOURS", default_value_t = 168)]
    pub job_retention_hours: u64,
    /// Let image builds clone from this host's paths, `file://` URLs and
    /// loopback, link-local or private addresses (off: remote URLs only).
    #[arg(long, env = "BERTH_BUILD_ALLOW_LOCAL_SOURCES")]
    pub build_allow_local_sources: bool,
    /// Hold Tapis pods to the image allow-list administrators keep at
    /// `/pods/images` (`on`), or let them use any image (`off`).
    #[arg(long, env = "BERTH_TAPIS_IMAGE_ALLOW_LIST", default_value = "off", value_parser = ["on", "off"])]
    pub tapis_image_allow_list: String,
    /// Memory limit of a container whose app sets none (like 512m).
    #[arg(long, env = "BERTH_DEFAULT_MEMORY", default_value = "512m")]
    pub default_memory: String,
    /// The most memory any container may have; larger per-app limits are refused.
    #[arg(long, env = "BERTH_MAX_MEMORY", default_value = "4g")]
    pub max_memory: String,
    /// CPU share of a container whose app sets none.
    #[arg(long, env = "BERTH_DEFAULT_CPU_SHARES", default_value_t = 1024)]
    pub default_cpu_shares: i64,
    /// The most processes and threads one container may run at once.
    #[arg(long, env = "BERTH_PIDS_LIMIT", default_value_t = 512)]
    pub pids_limit: i64,
    /// Size at which a container's log file rotates (like 10m).
    #[arg(long, env = "BERTH_LOG_MAX_SIZE", default_value = "10m")]
    pub log_max_size: String,
    /// How many rotated log files a container keeps.
    #[arg(long, env = "BERTH_LOG_MAX_FILE", default_value_t = 3)]
    pub log_max_file: u32,
    /// Host address published container ports bind to.
    #[arg(long, env = "BERTH_PUBLISH_ADDRESS", default_value = "127.0.0.1")]
    pub publish_address: std::net::IpAddr,
    /// Seconds an NDS job or a `run` container may run before it is
    /// stopped and marked failed (0: no limit).
    #[arg(long, env = "BERTH_MAX_JOB_RUNTIME", default_value_t = 86_400)]
    pub max_job_runtime: u64,
    #[command(flatten)]
    pub quotas: QuotaArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// How much one user may hold at once; 0 lifts a limit.
#[derive(Args, Debug, Clone)]
pub struct QuotaArgs {
    /// Containers a user's apps, pods and Tutum applications that are on may ask for together.
    #[arg(long, env = "BERTH_QUOTA_CONTAINERS", default_value_t = 100)]
    pub quota_containers: u64,
    /// Unfinished NDS jobs per user.
    #[arg(long, env = "BERTH_QUOTA_JOBS", default_value_t = 50)]
    pub quota_jobs: u64,
    /// Bytes of a user's own NDS data sets together.
    #[arg(long, env = "BERTH_QUOTA_DATASET_BYTES", default_value_t = 10 << 30)]
    pub quota_dataset_bytes: u64,
    /// Image builds a user may have pending or running at once.
    #[arg(long, env = "BERTH_QUOTA_BUILDS", default_value_t = 2)]
    pub quota_builds: u64,
    /// Data-set uploads a user may send at once.
    #[arg(long, env = "BERTH_QUOTA_UPLOADS", default_value_t = 4)]
    pub quota_uploads: u64,
}

impl QuotaArgs {
    fn quotas(&self) -> berth_core::quota::Quotas {
        berth_core::quota::Quotas {
            containers: self.quota_containers,
            jobs: self.quota_jobs,
            dataset_bytes: self.quota_dataset_bytes,
            builds: self.quota_builds,
            uploads: self.quota_uploads,
        }
    }
}

impl ServeArgs {
    /// The limits and confinement every container gets.
    fn engine_policy(&self) -> anyhow::Result<berth_runtime::EnginePolicy> {
        let memory = |flag: &str, text: &str| {
            berth_core::rules::parse_memory(text).with_context(|| format!("--{flag}"))
        };
        let (default_memory, max_memory) = (
            memory("default-memory", &self.default_memory)?,
            memory("max-memory", &self.max_memory)?,
        );
        if default_memory > max_memory {
            bail!("--default-memory is above --max-memory");
        }
        if self.pids_limit < 1 || !(2..=262_144).contains(&self.default_cpu_shares) {
            bail!("--pids-limit must be positive and --default-cpu-shares within 2..=262144");
        }
        let size_digits = self
            .log_max_size
            .trim_end_matches(['k', 'm', 'g', 'K', 'M', 'G']);
        if size_digits.parse::<u64>().map_or(true, |n| n == 0) {
            bail!("--log-max-size must be a size like 10m");
        }
        Ok(berth_runtime::EnginePolicy {
            limits: berth_core::spec::ContainerLimits {
                default_memory: Some(default_memory),
                max_memory: Some(max_memory),
                default_cpu_shares: Some(self.default_cpu_shares),
                pids_limit: Some(self.pids_limit),
            },
            log_max_size: self.log_max_size.clone(),
            log_max_file: self.log_max_file.max(1),
            publish_address: self.publish_address.to_string(),
        })
    }
}

/// The listener, accounts and links: how the server faces its clients.
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// Base URL clients reach the server at, for links in answers;
    /// default `http://<listen address>`.
    #[arg(long, env = "BERTH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Who may create accounts: `open` (anyone), `admin` (administrators), `closed`.
    #[arg(long, env = "BERTH_REGISTRATION", default_value = "open")]
    pub registration: Registration,
    /// Hours a login token stays valid; default: until revoked.
    #[arg(long, env = "BERTH_TOKEN_TTL_HOURS")]
    pub token_ttl_hours: Option<u64>,
    /// Open client connections at most.
    #[arg(long, env = "BERTH_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a client may take to send a request's headers.
    #[arg(long, env = "BERTH_HEADER_TIMEOUT", default_value_t = 30)]
    pub header_timeout: u64,
    /// Seconds a client may take to send a request's body, once its headers arrived.
    #[arg(long, env = "BERTH_BODY_TIMEOUT", default_value_t = 60)]
    pub body_timeout: u64,
    /// Seconds answers in flight may take once shutdown begins.
    #[arg(long, env = "BERTH_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace: u64,
    /// Keep metrics and serve them at `/metrics` to anyone (`on`), or keep none (`off`).
    #[arg(long, env = "BERTH_METRICS", default_value = "on", value_parser = ["on", "off"])]
    pub metrics: String,
    /// An administrator made (or promoted) at start, with BERTH_ADMIN_PASSWORD.
    #[arg(long, env = "BERTH_ADMIN_USERNAME", requires = "admin_password")]
    pub admin_username: Option<String>,
    /// The password of `--admin-username` when the account is new.
    #[arg(long, env = "BERTH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("BERTH_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The runtime drivers `--runtime` chooses from.
const RUNTIMES: [&str; 2] = ["docker", "swarm"];

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging();
    if !RUNTIMES.contains(&args.runtime.as_str()) {
        bail!(
            "unknown runtime {:?}: this build has the {} drivers",
            args.runtime,
            RUNTIMES.join(" and ")
        );
    }
    let store = open_store(&args.data_dir, args.database_url.as_deref()).await?;
    if let (Some(username), Some(password)) =
        (&args.server.admin_username, &args.server.admin_password)
    {
        if ensure_admin(store.as_ref(), username, password).await? {
            tracing::info!(%username, "administrator created");
        }
    } else if args.server.registration != Registration::Open && store.count_users().await? == 0 {
        tracing::warn!(
            "registration is not open and there is no account yet: \
             create an administrator with `berth admin create`"
        );
    }
    let server_id = server_id(&args.data_dir)?;
    let policy = args.engine_policy()?;
    let limits = policy.limits.clone();
    let runtime: Arc<dyn Runtime> = match args.runtime.as_str() {
        "swarm" => Arc::new(berth_runtime::SwarmRuntime::connect(&server_id)?.with_policy(policy)),
        _ => Arc::new(berth_runtime::DockerRuntime::connect(&server_id)?.with_policy(policy)),
    };
    match runtime.ping().await {
        Ok(v) => tracing::info!(engine = %v, "engine answers"),
        Err(e) => tracing::warn!(error = %e, "engine does not answer yet; will keep trying"),
    }
    let interrupted = store
        .fail_interrupted_jobs("\n(interrupted: the server restarted)")
        .await?;
    if !interrupted.is_empty() {
        tracing::warn!(
            count = interrupted.len(),
            "jobs interrupted by a restart marked failed"
        );
    }

    let signals = Arc::new(Signals::default());
    if args.server.metrics == "off" {
        signals.metrics.disable();
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let max_job_runtime =
        (args.max_job_runtime > 0).then(|| std::time::Duration::from_secs(args.max_job_runtime));
    let settings = Settings {
        jwt_key: secret_key(&args.data_dir)?,
        domain: args.domain.clone(),
        converge_timeout: std::time::Duration::from_secs(args.converge_timeout),
        job_retention: std::time::Duration::from_secs(
            args.job_retention_hours.saturating_mul(3600),
        ),
        limits,
        build_allow_local_sources: args.build_allow_local_sources,
        pod_image_allow_list: args.tapis_image_allow_list == "on",
        registration: args.server.registration,
        token_ttl: args
            .server
            .token_ttl_hours
            .map(|h| std::time::Duration::from_secs(h.saturating_mul(3600))),
        public_url: public_url(args.server.public_url.as_deref(), addr),
        quotas: args.quotas.quotas(),
        max_job_runtime,
        ..Settings::default()
    };
    // Shared data sets are the folders an administrator places here.
    let datasets: Arc<dyn Datasets> = Arc::new(berth_store::datasets::FolderDatasets::new(
        args.data_dir.join("datasets"),
    ));
    let berth = Arc::new(Berth::new(
        store.clone(),
        runtime.clone(),
        datasets,
        Arc::new(berth_store::volume_files::FolderVolumeFiles::new(
            args.data_dir.join("pod-volumes"),
        )),
        signals.clone(),
        settings,
    ));
    berth
        .resume_interrupted_builds()
        .await
        .context("cannot resume interrupted builds")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let router = Arc::new(
        berth_router::Router::new(Some(Arc::new(berth_router::PodGate::new(berth.clone()))))
            .with_metrics(signals.metrics.clone()),
    );
    let router_listener = match args.router_listen.as_str() {
        "off" => None,
        address => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("the router cannot listen on {address}"))?,
        ),
    };
    let router_tls_listener = match &args.router_tls_listen {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("the router cannot listen for TLS on {address}"))?,
        ),
        None => None,
    };
    let resolver = Arc::new(berth_router::tls::CertResolver::new());
    let following_certs = tokio::spawn(berth_router::tls::follow_certs(
        berth.clone(),
        resolver.clone(),
    ));
    let mut reconciler =
        Reconciler::new(store, runtime, signals).with_max_job_runtime(max_job_runtime);
    if router_listener.is_some() {
        reconciler = reconciler.with_traffic(TrafficControl::new(
            router.clone(),
            &args.domain,
            std::time::Duration::from_secs(args.health_grace),
        ));
    }
    let reconciler = Arc::new(reconciler);
    let reconciling = tokio::spawn(reconciler.run(stop_rx));
    // Jobs are looked after on an idle server too: running ones sampled for
    // their metrics, finished ones expired.
    let housekeeping = tokio::spawn({
        let berth = berth.clone();
        async move {
            let mut sample = tokio::time::interval(JOB_METRICS_INTERVAL);
            let mut purge = tokio::time::interval(JOB_PURGE_INTERVAL);
            loop {
                tokio::select! {
                    _ = sample.tick() => berth.sample_running_script_jobs().await,
                    _ = purge.tick() => {
                        berth.purge_expired_script_jobs().await;
                        match berth.purge_tokens().await {
                            Ok(0) => {}
                            Ok(purged) => tracing::info!(purged, "expired and revoked tokens removed"),
                            Err(e) => tracing::warn!(error = %e, "cannot purge tokens"),
                        }
                    }
                }
            }
        }
    });

    let app = tower::ServiceBuilder::new()
        .map_request(berth_api::strip_trailing_slash)
        .service(berth_api::router(berth));
    let limits = listener::Limits {
        max_connections: args.server.max_connections,
        header_timeout: std::time::Duration::from_secs(args.server.header_timeout.max(1)),
        body_timeout: std::time::Duration::from_secs(args.server.body_timeout.max(1)),
        shutdown_grace: std::time::Duration::from_secs(args.server.shutdown_grace),
    };
    let (shutting_down, shutdown) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = shutting_down.send(true);
    });
    let stopped = |mut shutdown: watch::Receiver<bool>| async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let route = |router_listener: tokio::net::TcpListener,
                 tls: Option<berth_router::tls::TlsAcceptor>| {
        let scheme = if tls.is_some() {
            berth_router::Scheme::Https
        } else {
            berth_router::Scheme::Http
        };
        let router_addr = router_listener.local_addr().ok();
        tracing::info!(addr = ?router_addr, domain = %args.domain, ?scheme, "router serving");
        if let Some(router_addr) = router_addr {
            // Tests read the router's addresses from these lines.
            match scheme {
                berth_router::Scheme::Http => println!("router listening on http://{router_addr}"),
                berth_router::Scheme::Https => {
                    println!("router tls listening on https://{router_addr}")
                }
            }
        }
        let router = router.clone();
        tokio::spawn(listener::serve(
            router_listener,
            tls,
            move |peer| {
                let router = router.clone();
                hyper::service::service_fn(move |request| {
                    let router = router.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            router.handle(request, peer, scheme).await,
                        )
                    }
                })
            },
            limits,
            stopped(shutdown.clone()),
        ))
    };
    let mut routing: Vec<tokio::task::JoinHandle<()>> = router_listener
        .map(|l| route(l, None))
        .into_iter()
        .collect();
    if let Some(tls_listener) = router_tls_listener {
        routing.push(route(
            tls_listener,
            Some(berth_router::tls::acceptor(resolver.clone())),
        ));
    }
    tracing::info!(%addr, data_dir = %args.data_dir.display(), "berth serving");
    // Tests and scripts read the bound address from this line.
    println!("listening on http://{addr}");
    listener::serve(
        listener,
        None,
        listener::ApiConnection::maker(app, limits.body_timeout),
        limits,
        stopped(shutdown),
    )
    .await;
    for routing in routing {
        let _ = routing.await;
    }
    following_certs.abort();
    housekeeping.abort();
    let _ = stop_tx.send(true);
    let _ = reconciling.await;
    tracing::info!("berth stopped");
    Ok(())
}

/// The base URL links are built on: the configured one, else the listen
/// address (loopback when it listens on every interface).
fn public_url(configured: Option<&str>, addr: std::net::SocketAddr) -> String {
    match configured {
        Some(url) => url.trim_end_matches('/').to_string(),
        None if addr.ip().is_unspecified() => format!("http://localhost:{}", addr.port()),
        None => format!("http://{addr}"),
    }
}

/// Opens the store in `data_dir` (made if missing, its owner's only),
/// and keeps the database files readable by their owner only.
pub async fn open_store(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> anyhow::Result<Arc<dyn Store>> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict data dir {}", data_dir.display()))?;
    let url = database_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("sqlite://{}/berth.db", data_dir.display()));
    let store = berth_store::SqliteStore::connect(&url)
        .await
        .with_context(|| format!("cannot open database {url}"))?;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        // SQLite gives the -wal and -shm files it makes later the database's mode.
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{path}{suffix}");
            if std::path::Path::new(&file).exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("cannot restrict {file}"))?;
            }
        }
    }
    Ok(Arc::new(store))
}

/// This installation's id, made once and kept in the data dir: it scopes
/// the containers Berth considers its own.
fn server_id(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let path = data_dir.join("server-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let tmp = data_dir.join("server-id.tmp");
    std::fs::write(&tmp, &id)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(id)
}

/// The key JWTs are signed with: 32 random bytes, made once, kept in the
/// data dir readable by its owner only.
fn secret_key(data_dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("jwt.key");
    if let Ok(key) = std::fs::read(&path)
        && key.len() == 32
    {
        return Ok(key);
    }
    let key: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| *u.as_bytes())
        .collect();
    let tmp = data_dir.join("jwt.key.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::io::Write::write_all(&mut file, &key)?;
    std::fs::rename(&tmp, &path)?;
    Ok(key)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
