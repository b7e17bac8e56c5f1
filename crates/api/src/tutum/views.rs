//! Apps and instances rendered as Tutum application and container objects,
//! users as its auth answers show them, and its list envelope.

use berth_core::image::{DEFAULT_TAG, split_tag};
use berth_core::model::*;
use berth_core::plan::Phase;
use berth_core::rules::{join_command_line, parse_memory};
use berth_core::workload::Workload;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use time::macros::format_description;
use utoipa::ToSchema;
use uuid::Uuid;

/// Tutum's sizes: memory and CPU shares per container.
pub const SIZES: &[(&str, &str, u32)] = &[
    ("XS", "256M", 256),
    ("S", "512M", 512),
    ("M", "1G", 1024),
    ("L", "2G", 2048),
    ("XL", "4G", 4096),
];

/// `Sun, 23 Mar 2014 18:12:11 +0000`, as the clients parse it.
pub fn date(t: Timestamp) -> String {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"
    );
    t.format(&format).unwrap_or_default()
}

fn opt_date(t: Option<Timestamp>) -> Option<String> {
    t.map(date)
}

pub fn app_uri(uuid: &uuid::Uuid) -> String {
    format!("/api/v1/application/{uuid}/")
}

pub fn container_uri(uuid: &uuid::Uuid) -> String {
    format!("/api/v1/container/{uuid}/")
}

fn size_of(config: &Config, proc_type: &str) -> &'static str {
    let memory = config
        .values
        .memory
        .get(proc_type)
        .and_then(|m| parse_memory(m).ok());
    SIZES
        .iter()
        .find(|(_, m, _)| parse_memory(m).ok() == memory)
        .map_or("XS", |(name, _, _)| name)
}

fn policy_name(restart: RestartPolicy) -> &'static str {
    match restart {
        RestartPolicy::Always => "ALWAYS",
        RestartPolicy::OnFailure => "ON_FAILURE",
        RestartPolicy::Never => "OFF",
    }
}

fn destroy_name(d: AutoDestroy) -> &'static str {
    match d {
        AutoDestroy::Off => "OFF",
        AutoDestroy::OnSuccess => "ON_SUCCESS",
        AutoDestroy::OnFailure => "ON_FAILURE",
        AutoDestroy::Always => "ALWAYS",
    }
}

fn image_tag(image: &str) -> String {
    let (repo, tag) = split_tag(image);
    tag_uri(repo, tag.unwrap_or(DEFAULT_TAG))
}

pub fn image_uri(repo: &str) -> String {
    format!("/api/v1/image/{repo}/")
}

pub fn tag_uri(repo: &str, tag: &str) -> String {
    format!("/api/v1/image/{repo}/tag/{tag}/")
}

/// Where an application's `meta` keeps the human-readable name it was given.
pub const NAME_KEY: &str = "tutum_name";

/// The human-readable name: the one given at creation, else the id.
fn display_name(app: &App) -> &str {
    app.meta
        .get(NAME_KEY)
        .and_then(Value::as_str)
        .unwrap_or(&app.id)
}

/// The name an application gets when none is given: its image's
/// repository, without namespace or tag (`tutum/mysql:latest` → `mysql`).
pub fn default_name(image: &str) -> &str {
    let (repo, _) = split_tag(image);
    repo.rsplit('/').next().unwrap_or(repo)
}

/// A repository the engine has, as a Tutum image.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumImage)]
pub struct Image {
    /// Always empty.
    description: &'static str,
    /// The `resource_uri` of each of its tags.
    imagetag_set: Vec<String>,
    /// Always false.
    is_private_image: bool,
    /// The repository, e.g. `tutum/mysql`.
    name: String,
    /// `/api/v1/image/<repository>/`.
    resource_uri: String,
    /// Always false.
    starred: bool,
}

/// One tag of a repository the engine has, as a Tutum image tag.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumImageTag)]
pub struct ImageTag {
    /// `<repository>:<tag>`.
    full_name: String,
    /// The `resource_uri` of its repository.
    image: String,
    /// The tag.
    name: String,
    /// `/api/v1/image/<repository>/tag/<tag>/`.
    resource_uri: String,
}

/// What `/api/v1/image/…` names: a repository, or one of its tags.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = TutumImageOrTag)]
pub enum ImageOrTag {
    Image(Image),
    Tag(ImageTag),
}

/// A repository and its tags the engine has, as a Tutum image.
pub fn image(repo: &str, tags: &[String]) -> Image {
    Image {
        description: "",
        imagetag_set: tags.iter().map(|t| tag_uri(repo, t)).collect(),
        is_private_image: false,
        name: repo.to_string(),
        resource_uri: image_uri(repo),
        starred: false,
    }
}

/// One tag of a repository the engine has, as a Tutum image tag.
pub fn tag(repo: &str, tag: &str) -> ImageTag {
    ImageTag {
        full_name: format!("{repo}:{tag}"),
        image: image_uri(repo),
        name: tag.to_string(),
        resource_uri: tag_uri(repo, tag),
    }
}

/// One environment variable of a definition.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumEnvVar)]
pub struct EnvVar {
    key: String,
    /// Always `USER`.
    origin: &'static str,
    /// The value; a pod's secret ones are hidden.
    value: String,
}

/// The config as environment variables. Tutum views carry no caller
/// level, so a pod's secrets are always hidden here: its own Tapis routes
/// serve them at their levels.
fn envvars(app: &App, config: &Config) -> Vec<EnvVar> {
    let mut values = config.values.values.clone();
    berth_core::pods::hide_secrets(app, Level::Read, &mut values);
    values
        .into_iter()
        .map(|(key, value)| EnvVar {
            key,
            origin: "USER",
            value,
        })
        .collect()
}

pub fn app_state(phase: Phase) -> &'static str {
    match phase {
        Phase::Creating => "Starting",
        Phase::Running => "Running",
        Phase::Partial | Phase::Error => "Partly running",
        Phase::Scaling => "Scaling",
        Phase::Redeploying => "Redeploying",
        Phase::Stopping => "Stopping",
        Phase::Stopped => "Stopped",
    }
}

pub fn container_state(i: &Instance) -> &'static str {
    match (i.state, i.stopped) {
        (InstanceState::Up, true) => "Stopping",
        (InstanceState::Destroyed, _) => "Terminated",
        (_, true) => "Stopped",
        (InstanceState::Created | InstanceState::Starting, _) => "Starting",
        (InstanceState::Up, _) => "Running",
        (InstanceState::Down | InstanceState::Crashed | InstanceState::Error, _) => "Stopped",
    }
}

/// Fields an application and its containers share.
struct Definition {
    name: String,
    image_name: String,
    image_tag: String,
    run_command: String,
    entrypoint: String,
    container_size: &'static str,
    container_envvars: Vec<EnvVar>,
    autorestart: &'static str,
    autodestroy: &'static str,
    autoreplace: &'static str,
    deployed_datetime: String,
}

fn definition(app: &App, build: Option<&Build>, config: &Config, proc_type: &str) -> Definition {
    let image = build.map(|b| b.image.clone()).unwrap_or_default();
    let command = build
        .and_then(|b| b.command.as_deref())
        .map(join_command_line)
        .unwrap_or_default();
    let entrypoint = build
        .and_then(|b| b.entrypoint.as_deref())
        .map(join_command_line)
        .unwrap_or_default();
    let policy = &config.values.policy;
    Definition {
        name: display_name(app).to_string(),
        image_tag: image_tag(&image),
        image_name: image,
        run_command: command,
        entrypoint,
        container_size: size_of(config, proc_type),
        container_envvars: envvars(app, config),
        autorestart: policy_name(policy.restart),
        autodestroy: destroy_name(policy.autodestroy),
        autoreplace: destroy_name(policy.autoreplace),
        deployed_datetime: date(app.updated),
    }
}

/// A port of a container. Fields are in name order, as Tutum wrote them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumContainerPort)]
pub struct ContainerPort {
    /// The container's `resource_uri`.
    container: String,
    inner_port: u16,
    /// The published port; null until the container runs.
    outer_port: Option<u16>,
    /// `tcp` or `udp`.
    protocol: String,
}

/// A port an application's containers expose.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumApplicationPort)]
pub struct ApplicationPort {
    /// The application's `resource_uri`.
    container_cluster: String,
    inner_port: u16,
    /// Always null: each container publishes its own.
    outer_port: Option<u16>,
    /// `tcp` or `udp`.
    protocol: String,
}

/// A container (one instance of an application). Fields are in name
/// order, as Tutum wrote them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumContainer)]
pub struct Container {
    /// Its application's `resource_uri`.
    application: String,
    /// `OFF`, `ON_SUCCESS`, `ON_FAILURE` or `ALWAYS`.
    autodestroy: &'static str,
    /// `OFF`, `ON_SUCCESS`, `ON_FAILURE` or `ALWAYS`.
    autoreplace: &'static str,
    /// `OFF`, `ON_FAILURE` or `ALWAYS`.
    autorestart: &'static str,
    container_envvars: Vec<EnvVar>,
    container_ports: Vec<ContainerPort>,
    /// `XS`, `S`, `M`, `L` or `XL`.
    container_size: &'static str,
    /// When the container was made, as `Sun, 23 Mar 2014 18:12:11 +0000`.
    deployed_datetime: String,
    /// Always null.
    destroyed_datetime: Option<String>,
    /// The entrypoint as one command line; empty for the image's own.
    entrypoint: String,
    exit_code: Option<i64>,
    /// `Exit code 0 (Success)` and the like, or the engine's message.
    exit_code_msg: Option<String>,
    image_name: String,
    /// The image tag's `resource_uri`.
    image_tag: String,
    /// `<UNIQUE_NAME>_PORT_<port>_<PROTO>` and friends, for each published port.
    link_variables: BTreeMap<String, String>,
    /// The application's name.
    name: String,
    public_dns: String,
    /// `/api/v1/container/<uuid>/`.
    resource_uri: String,
    /// Always empty.
    roles: Vec<String>,
    /// The command as one command line; empty for the image's own.
    run_command: String,
    started_datetime: Option<String>,
    /// `Starting`, `Running`, `Stopping`, `Stopped`, `Terminating` or `Terminated`.
    pub(super) state: &'static str,
    stopped_datetime: Option<String>,
    /// `<application unique_name>-<number>`.
    pub(super) unique_name: String,
    #[schema(value_type = String, format = "uuid")]
    pub(super) uuid: Uuid,
    web_public_dns: String,
}

pub fn container(
    w_app: &App,
    build: Option<&Build>,
    config: &Config,
    i: &Instance,
    domain: &str,
) -> Container {
    let d = definition(w_app, build, config, &i.proc_type);
    let unique = format!("{}-{}", w_app.id, i.num);
    let public_dns = format!("{unique}.{domain}");
    let port = |inner: u16, outer: Option<u16>, protocol: &str| ContainerPort {
        container: container_uri(&i.uuid),
        inner_port: inner,
        outer_port: outer,
        protocol: protocol.to_string(),
    };
    let container_ports: Vec<ContainerPort> = if i.ports.is_empty() {
        config
            .values
            .policy
            .ports
            .iter()
            .map(|p| port(p.inner, None, &p.protocol))
            .collect()
    } else {
        i.ports
            .iter()
            .map(|p| port(p.inner, p.outer, &p.protocol))
            .collect()
    };
    let running = i.state == InstanceState::Up;
    Container {
        application: app_uri(&w_app.uuid),
        autodestroy: d.autodestroy,
        autoreplace: d.autoreplace,
        autorestart: d.autorestart,
        container_envvars: d.container_envvars,
        container_ports,
        container_size: d.container_size,
        deployed_datetime: date(i.created),
        destroyed_datetime: None,
        entrypoint: d.entrypoint,
        exit_code: i.exit_code,
        exit_code_msg: i.exit_code.map(exit_message).or(i.message.clone()),
        image_name: d.image_name,
        image_tag: d.image_tag,
        link_variables: link_variables(&unique, &public_dns, &i.ports),
        name: d.name,
        resource_uri: container_uri(&i.uuid),
        roles: Vec::new(),
        run_command: d.run_command,
        started_datetime: opt_date(running.then_some(i.updated)),
        state: container_state(i),
        stopped_datetime: opt_date((!running && i.exit_code.is_some()).then_some(i.updated)),
        unique_name: unique,
        uuid: i.uuid,
        public_dns,
        web_public_dns: format!("{}.{domain}", w_app.id),
    }
}

fn exit_message(code: i64) -> String {
    match code {
        0 => "Exit code 0 (Success)".into(),
        137 => "Exit code 137 (Killed)".into(),
        c => format!("Exit code {c} (Failure)"),
    }
}

/// `NAME-1_PORT_80_TCP` and friends, as Tutum linked containers saw them:
/// the container's unique name upper-cased, its `-` kept.
fn link_variables(unique: &str, host: &str, ports: &[PublishedPort]) -> BTreeMap<String, String> {
    let prefix = unique.to_ascii_uppercase();
    let mut vars = BTreeMap::new();
    for p in ports {
        let Some(outer) = p.outer else { continue };
        let proto = p.protocol.to_ascii_uppercase();
        let url = format!("{}://{host}:{outer}", p.protocol);
        let key = format!("{prefix}_PORT_{}_{proto}", p.inner);
        vars.entry(format!("{prefix}_PORT"))
            .or_insert_with(|| url.clone());
        vars.insert(key.clone(), url);
        vars.insert(format!("{key}_ADDR"), host.to_string());
        vars.insert(format!("{key}_PORT"), outer.to_string());
        vars.insert(format!("{key}_PROTO"), p.protocol.clone());
    }
    vars
}

/// An application: an image run as a number of like containers. Fields
/// are in name order, as Tutum wrote them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumApplication)]
pub struct Application {
    /// `OFF`, `ON_SUCCESS`, `ON_FAILURE` or `ALWAYS`.
    autodestroy: &'static str,
    /// `OFF`, `ON_SUCCESS`, `ON_FAILURE` or `ALWAYS`.
    autoreplace: &'static str,
    /// `OFF`, `ON_FAILURE` or `ALWAYS`.
    autorestart: &'static str,
    container_envvars: Vec<EnvVar>,
    container_ports: Vec<ApplicationPort>,
    /// `XS`, `S`, `M`, `L` or `XL`.
    container_size: &'static str,
    /// The `resource_uri` of each of its containers.
    containers: Vec<String>,
    current_num_containers: usize,
    /// When it last changed, as `Sun, 23 Mar 2014 18:12:11 +0000`.
    deployed_datetime: String,
    /// When it was deleted; null while it lives.
    destroyed_datetime: Option<String>,
    /// The entrypoint as one command line; empty for the image's own.
    entrypoint: String,
    image_name: String,
    /// The image tag's `resource_uri`.
    image_tag: String,
    /// Its containers' link variables and `<UNIQUE_NAME>_TUTUM_API_URL`.
    link_variables: BTreeMap<String, String>,
    /// Always empty.
    linked_from_application: Vec<String>,
    /// Always empty.
    linked_to_application: Vec<String>,
    /// The name it was given.
    pub(super) name: String,
    /// `/api/v1/application/<uuid>/`.
    resource_uri: String,
    /// Always empty.
    roles: Vec<String>,
    /// The command as one command line; empty for the image's own.
    run_command: String,
    running_num_containers: usize,
    /// Always false.
    sequential_deployment: bool,
    started_datetime: Option<String>,
    /// `Starting`, `Running`, `Partly running`, `Scaling`, `Redeploying`,
    /// `Stopping`, `Stopped`, `Terminating` or `Terminated`.
    pub(super) state: &'static str,
    stopped_datetime: Option<String>,
    stopped_num_containers: usize,
    target_num_containers: u32,
    /// Its slug, unique on this server.
    pub(super) unique_name: String,
    #[schema(value_type = String, format = "uuid")]
    pub(super) uuid: Uuid,
    web_public_dns: String,
}

/// An application; `public_url` is the server's base URL, for the
/// `<NAME>_TUTUM_API_URL` link variable.
pub fn application(w: &Workload, domain: &str, public_url: &str) -> Application {
    let proc_type = w.proc_type();
    let d = definition(&w.app, w.build.as_ref(), &w.config, &proc_type);
    let live: Vec<&Instance> = w
        .instances
        .iter()
        .filter(|i| i.state != InstanceState::Destroyed)
        .collect();
    let running = live.iter().filter(|i| i.state == InstanceState::Up).count();
    let container_ports = w
        .config
        .values
        .policy
        .ports
        .iter()
        .map(|p| ApplicationPort {
            container_cluster: app_uri(&w.app.uuid),
            inner_port: p.inner,
            outer_port: None,
            protocol: p.protocol.clone(),
        })
        .collect();
    let mut links = BTreeMap::new();
    for i in &live {
        let unique = format!("{}-{}", w.app.id, i.num);
        links.extend(link_variables(
            &unique,
            &format!("{unique}.{domain}"),
            &i.ports,
        ));
    }
    links.insert(
        format!("{}_TUTUM_API_URL", w.app.id.to_ascii_uppercase()),
        format!(
            "{}{}",
            public_url.trim_end_matches('/'),
            app_uri(&w.app.uuid)
        ),
    );
    let state = app_state(w.phase);
    Application {
        autodestroy: d.autodestroy,
        autoreplace: d.autoreplace,
        autorestart: d.autorestart,
        container_envvars: d.container_envvars,
        container_ports,
        container_size: d.container_size,
        containers: live.iter().map(|i| container_uri(&i.uuid)).collect(),
        current_num_containers: live.len(),
        deployed_datetime: d.deployed_datetime,
        destroyed_datetime: None,
        entrypoint: d.entrypoint,
        image_name: d.image_name,
        image_tag: d.image_tag,
        link_variables: links,
        linked_from_application: Vec::new(),
        linked_to_application: Vec::new(),
        name: d.name,
        resource_uri: app_uri(&w.app.uuid),
        roles: Vec::new(),
        run_command: d.run_command,
        running_num_containers: running,
        sequential_deployment: false,
        started_datetime: opt_date((running > 0).then_some(w.app.updated)),
        state,
        stopped_datetime: opt_date((state == "Stopped").then_some(w.app.updated)),
        stopped_num_containers: live.len() - running,
        target_num_containers: w.target(),
        unique_name: w.app.id.clone(),
        uuid: w.app.uuid,
        web_public_dns: format!("{}.{domain}", w.app.id),
    }
}

/// A deleted app, as Tutum lists it for a few minutes.
pub fn terminated(t: &Tombstone, still_running: bool, domain: &str) -> Application {
    let proc_type = t
        .app
        .structure
        .keys()
        .next()
        .cloned()
        .unwrap_or_else(|| "cmd".into());
    let config = t.config.clone().unwrap_or_else(|| Config {
        uuid: uuid::Uuid::nil(),
        app_id: t.app.id.clone(),
        owner: t.app.owner.clone(),
        values: ConfigValues::default(),
        created: t.deleted,
    });
    let d = definition(&t.app, t.build.as_ref(), &config, &proc_type);
    Application {
        autodestroy: d.autodestroy,
        autoreplace: d.autoreplace,
        autorestart: d.autorestart,
        container_envvars: d.container_envvars,
        container_ports: Vec::new(),
        container_size: d.container_size,
        containers: Vec::new(),
        current_num_containers: 0,
        deployed_datetime: d.deployed_datetime,
        destroyed_datetime: Some(date(t.deleted)),
        entrypoint: d.entrypoint,
        image_name: d.image_name,
        image_tag: d.image_tag,
        link_variables: BTreeMap::new(),
        linked_from_application: Vec::new(),
        linked_to_application: Vec::new(),
        name: d.name,
        resource_uri: app_uri(&t.app.uuid),
        roles: Vec::new(),
        run_command: d.run_command,
        running_num_containers: 0,
        sequential_deployment: false,
        started_datetime: None,
        state: if still_running {
            "Terminating"
        } else {
            "Terminated"
        },
        stopped_datetime: Some(date(t.deleted)),
        stopped_num_containers: 0,
        target_num_containers: 0,
        unique_name: t.app.id.clone(),
        uuid: t.app.uuid,
        web_public_dns: format!("{}.{domain}", t.app.id),
    }
}

/// The paging of a list: where this page starts, how long pages are, the
/// links to its neighbours and the length of the whole list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumListMeta)]
pub struct ListMeta {
    limit: usize,
    /// The next page's path and query; null on the last page.
    next: Option<String>,
    offset: usize,
    /// The previous page's path and query; null on the first page.
    previous: Option<String>,
    total_count: usize,
}

/// One page of applications.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumApplicationList)]
pub struct ApplicationList {
    pub meta: ListMeta,
    pub objects: Vec<Application>,
}

/// One page of containers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumContainerList)]
pub struct ContainerList {
    pub meta: ListMeta,
    pub objects: Vec<Container>,
}

/// A user's API key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumApiKey)]
pub struct ApiKey {
    /// A new Berth token, to send as `ApiKey <username>:<key>`.
    key: String,
    /// Always `/api/v1/auth/`.
    resource_uri: &'static str,
    username: String,
}

/// The answer to `GET /api/v1/auth/`: the user's API key as a one-item list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumApiKeyList)]
pub struct ApiKeyList {
    meta: ListMeta,
    objects: Vec<ApiKey>,
}

pub fn api_key(user: &User, key: &str) -> ApiKeyList {
    ApiKeyList {
        meta: ListMeta {
            limit: 25,
            next: None,
            offset: 0,
            previous: None,
            total_count: 1,
        },
        objects: vec![ApiKey {
            key: key.to_string(),
            resource_uri: "/api/v1/auth/",
            username: user.username.clone(),
        }],
    }
}

/// A new account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumRegistered)]
pub struct Registered {
    email: String,
    username: String,
}

pub fn registered(user: &User) -> Registered {
    Registered {
        email: user.email.clone(),
        username: user.username.clone(),
    }
}

/// An application's or a container's recent output.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TutumLogs)]
pub struct Logs {
    /// The last lines, each ending in a newline.
    pub logs: String,
}

/// One page of an already filtered list, `offset` and `limit` as asked,
/// with the paging links pointing at `path`.
pub fn page<T>(objects: Vec<T>, offset: usize, limit: usize, path: &str) -> (ListMeta, Vec<T>) {
    let total = objects.len();
    let page: Vec<T> = objects.into_iter().skip(offset).take(limit).collect();
    // `offset` comes from the query: any number, so the sum must not overflow.
    let end = offset.saturating_add(limit);
    let next = (end < total).then(|| format!("{path}?limit={limit}&offset={end}"));
    let previous = (offset > 0).then(|| {
        format!(
            "{path}?limit={limit}&offset={}",
            offset.saturating_sub(limit)
        )
    });
    let meta = ListMeta {
        limit,
        next,
        offset,
        previous,
        total_count: total,
    };
    (meta, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_tutum_form() {
        let t = time::macros::datetime!(2014-03-23 18:12:11 UTC);
        assert_eq!(date(t), "Sun, 23 Mar 2014 18:12:11 +0000");
    }

    #[test]
    fn image_tags() {
        assert_eq!(
            image_tag("busybox:latest"),
            "/api/v1/image/busybox/tag/latest/"
        );
        assert_eq!(
            image_tag("tutum/mysql"),
            "/api/v1/image/tutum/mysql/tag/latest/"
        );
        assert_eq!(
            image_tag("reg:5000/x"),
            "/api/v1/image/reg:5000/x/tag/latest/"
        );
    }

    #[test]
    fn default_names_drop_namespace_and_tag() {
        assert_eq!(default_name("tutum/mysql:latest"), "mysql");
        assert_eq!(default_name("busybox"), "busybox");
        assert_eq!(default_name("reg:5000/team/app:1"), "app");
    }

    #[test]
    fn link_variables_keep_the_dash_of_the_unique_name() {
        let ports = [PublishedPort {
            inner: 3306,
            outer: Some(49230),
            protocol: "tcp".into(),
        }];
        let vars = link_variables("mysql-1", "mysql-1.example.com", &ports);
        let keys: Vec<&str> = vars.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "MYSQL-1_PORT",
                "MYSQL-1_PORT_3306_TCP",
                "MYSQL-1_PORT_3306_TCP_ADDR",
                "MYSQL-1_PORT_3306_TCP_PORT",
                "MYSQL-1_PORT_3306_TCP_PROTO",
            ]
        );
        assert_eq!(vars["MYSQL-1_PORT"], "tcp://mysql-1.example.com:49230");
        assert_eq!(vars["MYSQL-1_PORT_3306_TCP_PORT"], "49230");
    }

    #[test]
    fn pages() {
        let (meta, objects) = page((0..30).collect(), 25, 25, "/api/v1/application/");
        assert_eq!(meta.total_count, 30);
        assert_eq!(objects.len(), 5);
        assert!(meta.next.is_none());
        assert_eq!(
            meta.previous.as_deref(),
            Some("/api/v1/application/?limit=25&offset=0")
        );
    }

    #[test]
    fn an_offset_past_any_list_is_an_empty_last_page() {
        let (meta, objects) = page((0..3).collect::<Vec<i32>>(), usize::MAX, 25, "/x");
        assert!(objects.is_empty() && meta.next.is_none());
    }
}
