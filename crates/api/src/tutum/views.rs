//! Apps and instances rendered as Tutum application and container objects,
//! users as its auth answers show them, and its list envelope.

use berth_core::image::{DEFAULT_TAG, split_tag};
use berth_core::model::*;
use berth_core::plan::Phase;
use berth_core::rules::{join_command_line, parse_memory};
use berth_core::workload::Workload;
use serde_json::{Map, Value, json};
use time::macros::format_description;

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

fn opt_date(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| json!(date(t)))
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

/// A repository and its tags the engine has, as a Tutum image.
pub fn image(repo: &str, tags: &[String]) -> Value {
    json!({
        "name": repo,
        "description": "",
        "is_private_image": false,
        "starred": false,
        "imagetag_set": tags.iter().map(|t| tag_uri(repo, t)).collect::<Vec<_>>(),
        "resource_uri": image_uri(repo),
    })
}

/// One tag of a repository the engine has, as a Tutum image tag.
pub fn tag(repo: &str, tag: &str) -> Value {
    json!({
        "name": tag,
        "full_name": format!("{repo}:{tag}"),
        "image": image_uri(repo),
        "resource_uri": tag_uri(repo, tag),
    })
}

/// The config as environment variables. Tutum views carry no caller
/// level, so a pod's secrets are always hidden here: its own Tapis routes
/// serve them at their levels.
fn envvars(app: &App, config: &Config) -> Vec<Value> {
    let mut values = config.values.values.clone();
    berth_core::pods::hide_secrets(app, Level::Read, &mut values);
    values
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v, "origin": "USER"}))
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
fn definition(
    app: &App,
    build: Option<&Build>,
    config: &Config,
    proc_type: &str,
) -> Map<String, Value> {
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
    let mut m = Map::new();
    m.insert("name".into(), json!(display_name(app)));
    m.insert("image_name".into(), json!(image));
    m.insert("image_tag".into(), json!(image_tag(&image)));
    m.insert("run_command".into(), json!(command));
    m.insert("entrypoint".into(), json!(entrypoint));
    m.insert("container_size".into(), json!(size_of(config, proc_type)));
    m.insert("container_envvars".into(), json!(envvars(app, config)));
    m.insert("autorestart".into(), json!(policy_name(policy.restart)));
    m.insert(
        "autodestroy".into(),
        json!(destroy_name(policy.autodestroy)),
    );
    m.insert(
        "autoreplace".into(),
        json!(destroy_name(policy.autoreplace)),
    );
    m.insert("roles".into(), json!([]));
    m.insert("deployed_datetime".into(), json!(date(app.updated)));
    m
}

pub fn container(
    w_app: &App,
    build: Option<&Build>,
    config: &Config,
    i: &Instance,
    domain: &str,
) -> Value {
    let mut m = definition(w_app, build, config, &i.proc_type);
    let unique = format!("{}-{}", w_app.id, i.num);
    let public_dns = format!("{unique}.{domain}");
    let ports: Vec<Value> = if i.ports.is_empty() {
        config
            .values
            .policy
            .ports
            .iter()
            .map(|p| json!({"container": container_uri(&i.uuid), "inner_port": p.inner, "outer_port": null, "protocol": p.protocol}))
            .collect()
    } else {
        i.ports
            .iter()
            .map(|p| json!({"container": container_uri(&i.uuid), "inner_port": p.inner, "outer_port": p.outer, "protocol": p.protocol}))
            .collect()
    };
    let running = i.state == InstanceState::Up;
    m.extend([
        ("uuid".into(), json!(i.uuid)),
        ("resource_uri".into(), json!(container_uri(&i.uuid))),
        ("unique_name".into(), json!(unique)),
        ("application".into(), json!(app_uri(&w_app.uuid))),
        ("state".into(), json!(container_state(i))),
        ("exit_code".into(), json!(i.exit_code)),
        (
            "exit_code_msg".into(),
            json!(i.exit_code.map(exit_message).or(i.message.clone())),
        ),
        ("container_ports".into(), json!(ports)),
        ("public_dns".into(), json!(public_dns)),
        (
            "web_public_dns".into(),
            json!(format!("{}.{domain}", w_app.id)),
        ),
        ("deployed_datetime".into(), json!(date(i.created))),
        (
            "started_datetime".into(),
            opt_date(running.then_some(i.updated)),
        ),
        (
            "stopped_datetime".into(),
            opt_date((!running && i.exit_code.is_some()).then_some(i.updated)),
        ),
        ("destroyed_datetime".into(), Value::Null),
        (
            "link_variables".into(),
            json!(link_variables(&unique, &public_dns, &i.ports)),
        ),
    ]);
    Value::Object(m)
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
fn link_variables(unique: &str, host: &str, ports: &[PublishedPort]) -> Map<String, Value> {
    let prefix = unique.to_ascii_uppercase();
    let mut vars = Map::new();
    for p in ports {
        let Some(outer) = p.outer else { continue };
        let proto = p.protocol.to_ascii_uppercase();
        let url = format!("{}://{host}:{outer}", p.protocol);
        let key = format!("{prefix}_PORT_{}_{proto}", p.inner);
        vars.entry(format!("{prefix}_PORT")).or_insert(json!(url));
        vars.insert(key.clone(), json!(url));
        vars.insert(format!("{key}_ADDR"), json!(host));
        vars.insert(format!("{key}_PORT"), json!(outer.to_string()));
        vars.insert(format!("{key}_PROTO"), json!(p.protocol));
    }
    vars
}

/// An application; `public_url` is the server's base URL, for the
/// `<NAME>_TUTUM_API_URL` link variable.
pub fn application(w: &Workload, domain: &str, public_url: &str) -> Value {
    let proc_type = w.proc_type();
    let mut m = definition(&w.app, w.build.as_ref(), &w.config, &proc_type);
    let live: Vec<&Instance> = w
        .instances
        .iter()
        .filter(|i| i.state != InstanceState::Destroyed)
        .collect();
    let running = live.iter().filter(|i| i.state == InstanceState::Up).count();
    let ports: Vec<Value> = w
        .config
        .values
        .policy
        .ports
        .iter()
        .map(|p| json!({"container_cluster": app_uri(&w.app.uuid), "inner_port": p.inner, "outer_port": null, "protocol": p.protocol}))
        .collect();
    let mut links = Map::new();
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
        json!(format!(
            "{}{}",
            public_url.trim_end_matches('/'),
            app_uri(&w.app.uuid)
        )),
    );
    let state = app_state(w.phase);
    m.extend([
        ("uuid".into(), json!(w.app.uuid)),
        ("resource_uri".into(), json!(app_uri(&w.app.uuid))),
        ("unique_name".into(), json!(w.app.id)),
        ("state".into(), json!(state)),
        ("target_num_containers".into(), json!(w.target())),
        ("current_num_containers".into(), json!(live.len())),
        ("running_num_containers".into(), json!(running)),
        ("stopped_num_containers".into(), json!(live.len() - running)),
        (
            "containers".into(),
            json!(
                live.iter()
                    .map(|i| container_uri(&i.uuid))
                    .collect::<Vec<_>>()
            ),
        ),
        ("container_ports".into(), json!(ports)),
        (
            "web_public_dns".into(),
            json!(format!("{}.{domain}", w.app.id)),
        ),
        ("link_variables".into(), json!(links)),
        ("linked_from_application".into(), json!([])),
        ("linked_to_application".into(), json!([])),
        ("sequential_deployment".into(), json!(false)),
        (
            "started_datetime".into(),
            opt_date((running > 0).then_some(w.app.updated)),
        ),
        (
            "stopped_datetime".into(),
            opt_date((state == "Stopped").then_some(w.app.updated)),
        ),
        ("destroyed_datetime".into(), Value::Null),
    ]);
    Value::Object(m)
}

/// A deleted app, as Tutum lists it for a few minutes.
pub fn terminated(t: &Tombstone, still_running: bool, domain: &str) -> Value {
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
    let mut m = definition(&t.app, t.build.as_ref(), &config, &proc_type);
    m.extend([
        ("uuid".into(), json!(t.app.uuid)),
        ("resource_uri".into(), json!(app_uri(&t.app.uuid))),
        ("unique_name".into(), json!(t.app.id)),
        (
            "state".into(),
            json!(if still_running {
                "Terminating"
            } else {
                "Terminated"
            }),
        ),
        ("target_num_containers".into(), json!(0)),
        ("current_num_containers".into(), json!(0)),
        ("running_num_containers".into(), json!(0)),
        ("stopped_num_containers".into(), json!(0)),
        ("containers".into(), json!([])),
        ("container_ports".into(), json!([])),
        (
            "web_public_dns".into(),
            json!(format!("{}.{domain}", t.app.id)),
        ),
        ("link_variables".into(), json!({})),
        ("linked_from_application".into(), json!([])),
        ("linked_to_application".into(), json!([])),
        ("sequential_deployment".into(), json!(false)),
        ("started_datetime".into(), Value::Null),
        ("stopped_datetime".into(), json!(date(t.deleted))),
        ("destroyed_datetime".into(), json!(date(t.deleted))),
    ]);
    Value::Object(m)
}

/// `GET /api/v1/auth/`: the user's API key, as a one-item list.
pub fn api_key(user: &User, key: &str) -> Value {
    json!({
        "meta": {"limit": 25, "next": null, "offset": 0, "previous": null, "total_count": 1},
        "objects": [{"username": user.username, "key": key, "resource_uri": "/api/v1/auth/"}],
    })
}

pub fn registered(user: &User) -> Value {
    json!({"username": user.username, "email": user.email})
}

/// Tutum's list envelope over an already filtered list.
pub fn list(objects: Vec<Value>, offset: usize, limit: usize, path: &str) -> Value {
    let total = objects.len();
    let page: Vec<Value> = objects.into_iter().skip(offset).take(limit).collect();
    let next =
        (offset + limit < total).then(|| format!("{path}?limit={limit}&offset={}", offset + limit));
    let previous = (offset > 0).then(|| {
        format!(
            "{path}?limit={limit}&offset={}",
            offset.saturating_sub(limit)
        )
    });
    json!({
        "meta": {"limit": limit, "next": next, "offset": offset, "previous": previous, "total_count": total},
        "objects": page,
    })
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
        let v = list(
            (0..30).map(|i| json!(i)).collect(),
            25,
            25,
            "/api/v1/application/",
        );
        assert_eq!(v["meta"]["total_count"], 30);
        assert_eq!(v["objects"].as_array().unwrap().len(), 5);
        assert!(v["meta"]["next"].is_null());
        assert_eq!(
            v["meta"]["previous"],
            "/api/v1/application/?limit=25&offset=0"
        );
    }
}
