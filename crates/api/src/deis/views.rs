//! Domain objects rendered as Deis v1 JSON: one `Serialize + ToSchema` type
//! per answer, so the wire and the OpenAPI schema come from the same place.
//!
//! Fields are declared in alphabetical order: that is the order Deis answers
//! have always had on the wire (they were JSON objects with sorted keys).

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::model::*;
use berth_core::runtime::NodeInfo;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use berth_core::service::{Berth, LogEntry, LogSource};
use berth_core::store::Page;

/// A 201 for a change that made a release, naming it in the header the Deis CLI reads.
pub fn release_created(body: impl Serialize, release: &Release) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&release.version.to_string()) {
        res.headers_mut()
            .insert(HeaderName::from_static("deis-release"), v.clone());
        res.headers_mut()
            .insert(HeaderName::from_static("x-deis-release"), v);
    }
    res
}

/// An app.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::App)]
pub struct AppView {
    #[schema(example = "2014-01-01T00:00:00UTC")]
    pub created: String,
    /// Why the app cannot run (a missing image, an engine refusal); absent while it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The app's name.
    pub id: String,
    pub owner: String,
    /// How many containers of each process type it runs.
    pub structure: BTreeMap<String, u32>,
    pub updated: String,
    /// The host name the router serves it at.
    pub url: String,
    #[schema(value_type = String)]
    pub uuid: Uuid,
}

pub fn app(berth: &Berth, a: &App) -> AppView {
    AppView {
        created: stamp(a.created),
        error: a.error.clone(),
        id: a.id.clone(),
        owner: a.owner.clone(),
        structure: a.structure.clone(),
        updated: stamp(a.updated),
        url: berth.app_url(a),
        uuid: a.uuid,
    }
}

/// A build: the image an app runs and the command of each process type.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Build)]
pub struct BuildView {
    /// The app's name.
    pub app: String,
    pub created: String,
    pub dockerfile: String,
    pub image: String,
    pub owner: String,
    /// The command of each process type.
    pub procfile: BTreeMap<String, String>,
    pub sha: String,
    pub updated: String,
    #[schema(value_type = String)]
    pub uuid: Uuid,
}

pub fn build(b: &Build) -> BuildView {
    BuildView {
        app: b.app_id.clone(),
        created: stamp(b.created),
        dockerfile: b.dockerfile.clone(),
        image: b.image.clone(),
        owner: b.owner.clone(),
        procfile: b.procfile.clone(),
        sha: b.sha.clone(),
        updated: stamp(b.created),
        uuid: b.uuid,
    }
}

/// An app's config: its environment, limits and placement tags.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Config)]
pub struct ConfigView {
    /// The app's name.
    pub app: String,
    /// CPU shares by process type.
    pub cpu: BTreeMap<String, u32>,
    pub created: String,
    /// Memory limit by process type (`64M`, `1G`).
    pub memory: BTreeMap<String, String>,
    pub owner: String,
    /// Node labels the app's containers are placed by.
    pub tags: BTreeMap<String, String>,
    pub updated: String,
    #[schema(value_type = String)]
    pub uuid: Uuid,
    /// The environment every container gets.
    pub values: BTreeMap<String, String>,
}

/// A config as a change answers it: `values` also show the `DEIS_APP` and
/// `DEIS_RELEASE` the new release puts in every container's environment.
/// Deis showed them only here (they were added while the release was
/// published, never stored), so a plain read of the config lists only what
/// was set.
pub fn changed_config(c: &Config, release: &Release) -> ConfigView {
    let mut v = config(c);
    v.values.insert("DEIS_APP".into(), c.app_id.clone());
    v.values
        .insert("DEIS_RELEASE".into(), format!("v{}", release.version));
    v
}

pub fn config(c: &Config) -> ConfigView {
    ConfigView {
        app: c.app_id.clone(),
        cpu: c.values.cpu.clone(),
        created: stamp(c.created),
        memory: c.values.memory.clone(),
        owner: c.owner.clone(),
        tags: c.values.tags.clone(),
        updated: stamp(c.created),
        uuid: c.uuid,
        values: c.values.values.clone(),
    }
}

/// A release: one build with one config, numbered per app.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Release)]
pub struct ReleaseView {
    /// The app's name.
    pub app: String,
    /// The build's uuid; `null` before the app's first build.
    #[schema(value_type = Option<String>)]
    pub build: Option<Uuid>,
    /// The config's uuid.
    #[schema(value_type = String)]
    pub config: Uuid,
    pub created: String,
    pub owner: String,
    /// What changed, in words (`alice deployed nginx`).
    pub summary: String,
    pub updated: String,
    #[schema(value_type = String)]
    pub uuid: Uuid,
    pub version: i64,
}

pub fn release(r: &Release) -> ReleaseView {
    ReleaseView {
        app: r.app_id.clone(),
        build: r.build,
        config: r.config,
        created: stamp(r.created),
        owner: r.owner.clone(),
        summary: r.summary.clone(),
        updated: stamp(r.created),
        uuid: r.uuid,
        version: r.version,
    }
}

/// One of an app's containers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Container)]
pub struct ContainerView {
    /// The app's name.
    pub app: String,
    pub created: String,
    /// How its last run ended, once it has.
    pub exit_code: Option<i64>,
    /// What the engine said about its state, when it said something.
    pub message: Option<String>,
    /// Its number among the containers of its type, from 1.
    pub num: u32,
    pub owner: String,
    /// The release it runs, as `v3`.
    #[schema(example = "v3")]
    pub release: String,
    /// `initialized`, `created`, `up`, `down`, `crashed`, `error`…
    pub state: &'static str,
    /// Its process type (`web`, `worker`).
    #[serde(rename = "type")]
    pub proc_type: String,
    pub updated: String,
    #[schema(value_type = String)]
    pub uuid: Uuid,
}

pub fn container(app: &App, i: &Instance) -> ContainerView {
    ContainerView {
        app: app.id.clone(),
        created: stamp(i.created),
        exit_code: i.exit_code,
        message: i.message.clone(),
        num: i.num,
        owner: app.owner.clone(),
        release: format!("v{}", i.release),
        state: i.state.as_str(),
        proc_type: i.proc_type.clone(),
        updated: stamp(i.updated),
        uuid: i.uuid,
    }
}

/// A custom domain an app is served at.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Domain)]
pub struct DomainView {
    /// The app's name.
    pub app: String,
    pub created: String,
    pub domain: String,
    pub owner: String,
    pub updated: String,
}

pub fn domain(d: &Domain) -> DomainView {
    DomainView {
        app: d.app_id.clone(),
        created: stamp(d.created),
        domain: d.domain.clone(),
        owner: d.owner.clone(),
        updated: stamp(d.created),
    }
}

/// One of the caller's SSH public keys.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Key)]
pub struct KeyView {
    pub created: String,
    pub fingerprint: String,
    /// The name the caller gave it.
    pub id: String,
    pub owner: String,
    /// The key itself, as `ssh-rsa AAAA… comment`.
    pub public: String,
    pub updated: String,
    #[schema(value_type = String)]
    pub uuid: Uuid,
}

pub fn key(k: &SshKey) -> KeyView {
    KeyView {
        created: stamp(k.created),
        fingerprint: k.fingerprint.clone(),
        id: k.id.clone(),
        owner: k.owner.clone(),
        public: k.public.clone(),
        updated: stamp(k.created),
        uuid: k.uuid,
    }
}

/// A certificate as Deis v1 showed it (its chain and key are write-only),
/// plus the DNS names it carries.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Certificate)]
pub struct CertificateView {
    pub common_name: String,
    pub created: String,
    pub expires: String,
    pub owner: String,
    /// The DNS names it is valid for.
    pub san: Vec<String>,
    pub updated: String,
}

pub fn certificate(c: &Certificate) -> CertificateView {
    CertificateView {
        common_name: c.common_name.clone(),
        created: stamp(c.created),
        expires: stamp(c.expires),
        owner: c.owner.clone(),
        san: c.san.clone(),
        updated: stamp(c.created),
    }
}

/// An account, as Django's user model showed it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::User)]
pub struct UserView {
    #[schema(example = "2014-10-19T22:01:00.601Z")]
    pub date_joined: String,
    pub email: String,
    pub first_name: String,
    /// Always empty: Berth has no groups.
    pub groups: Vec<String>,
    pub id: i64,
    pub is_active: bool,
    /// Whether the user is an administrator (as `is_superuser`).
    pub is_staff: bool,
    /// Whether the user is an administrator.
    pub is_superuser: bool,
    /// Django of Deis's day set `last_login` when it created the account.
    pub last_login: String,
    pub last_name: String,
    /// Always empty: permissions are per app (`/v1/apps/{id}/perms`).
    pub user_permissions: Vec<String>,
    pub username: String,
}

pub fn user(u: &User) -> UserView {
    UserView {
        date_joined: user_stamp(u.created),
        email: u.email.clone(),
        first_name: u.name.first.clone(),
        groups: Vec::new(),
        id: u.id,
        is_active: u.is_active,
        is_staff: u.is_admin,
        is_superuser: u.is_admin,
        last_login: user_stamp(u.last_login.unwrap_or(u.created)),
        last_name: u.name.last.clone(),
        user_permissions: Vec::new(),
        username: u.username.clone(),
    }
}

/// An administrator as `/v1/admin/perms` lists them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Admin)]
pub struct AdminView {
    pub is_superuser: bool,
    pub username: String,
}

pub fn admin(u: &User) -> AdminView {
    AdminView {
        is_superuser: u.is_admin,
        username: u.username.clone(),
    }
}

/// One of the engine's machines.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Node)]
pub struct NodeView {
    pub address: Option<String>,
    /// Whether new work may be placed on it: `active`, `pause` or `drain`.
    pub availability: String,
    /// Labels placement matches (an app's config `tags`).
    pub labels: BTreeMap<String, String>,
    pub name: String,
    /// `manager` or `worker`.
    pub role: String,
    /// `ready`, or `down` when the engine cannot reach it or place work on it.
    pub state: &'static str,
    /// This server's running containers on it.
    pub tasks: usize,
}

pub fn node(n: &NodeInfo) -> NodeView {
    NodeView {
        address: n.address.clone(),
        availability: n.availability.clone(),
        labels: n.labels.clone(),
        name: n.name.clone(),
        role: n.role.clone(),
        state: if n.ready { "ready" } else { "down" },
        tasks: n.tasks,
    }
}

/// A timestamp as Deis v1 wrote every model's: whole seconds in UTC, the
/// zone named after them (`2014-01-01T00:00:00UTC`).
fn stamp(t: Timestamp) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A timestamp as Deis's user views wrote theirs: milliseconds, then `Z`
/// (`2014-10-19T22:01:00.601Z`).
fn user_stamp(t: Timestamp) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Where a page listing lives, to build `next` and `previous` links.
pub struct PageLink<'a> {
    /// `scheme://host[:port]` of the server.
    pub base: &'a str,
    pub path: &'a str,
    pub page: i64,
}

/// One page of a listing, with links to its neighbours.
#[derive(Debug, Serialize, ToSchema)]
pub struct Listing<T> {
    /// How many there are in all pages.
    pub count: i64,
    /// The next page's URL; `null` on the last page.
    pub next: Option<String>,
    /// The previous page's URL; `null` on the first page.
    pub previous: Option<String>,
    pub results: Vec<T>,
}

pub fn list<T, V>(page: Page<T>, link: &PageLink<'_>, render: impl Fn(&T) -> V) -> Listing<V> {
    let size = super::paging::PAGE_SIZE;
    let url = |n: i64| format!("{}/v1{}?page={n}", link.base, link.path);
    Listing {
        count: page.total,
        next: (link.page * size < page.total).then(|| url(link.page + 1)),
        previous: (link.page > 1).then(|| url(link.page - 1)),
        results: page.items.iter().map(render).collect(),
    }
}

/// A whole list as one page (for lists core does not page).
pub fn all<V>(items: Vec<V>) -> Listing<V> {
    Listing {
        count: items.len() as i64,
        next: None,
        previous: None,
        results: items,
    }
}

/// A log line as the Deis CLI prints it: the time of day, who wrote it
/// (`deis[api]` for the platform, `app[type.num]` for a container), the text.
pub fn log_line(entry: &LogEntry) -> String {
    let when = entry.time.map(clock).unwrap_or_default();
    match &entry.source {
        LogSource::Platform => format!("{when} deis[api]: {}", entry.text),
        LogSource::Instance {
            app,
            proc_type,
            num,
        } => format!("{when} {app}[{proc_type}.{num}]: {}", entry.text),
    }
}

/// The time of day of a log line.
fn clock(t: Timestamp) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_take_the_forms_deis_wrote() {
        let t = time::macros::datetime!(2014-10-19 22:01:00.601234 +02:00);
        assert_eq!(stamp(t), "2014-10-19T20:01:00UTC");
        assert_eq!(user_stamp(t), "2014-10-19T20:01:00.601Z");
    }

    /// The bytes a view serialises to, and those of the same view as a JSON
    /// object with sorted keys (how every answer was written before the views
    /// were types): equal when the fields are declared in sorted order.
    fn both_orders<T: Serialize>(view: &T) -> (String, String) {
        let declared = serde_json::to_string(view).unwrap();
        let sorted = serde_json::to_value(view).unwrap().to_string();
        (declared, sorted)
    }

    #[test]
    fn views_write_their_keys_in_sorted_order() {
        let t = "2014-01-01T00:00:00UTC".to_string();
        let uuid = Uuid::nil();
        let map = BTreeMap::from([("web".to_string(), "x".to_string())]);
        let orders = [
            both_orders(&AppView {
                created: t.clone(),
                error: Some("no image".into()),
                id: "shop".into(),
                owner: "alice".into(),
                structure: BTreeMap::from([("web".into(), 1)]),
                updated: t.clone(),
                url: "shop.berth.local".into(),
                uuid,
            }),
            both_orders(&BuildView {
                app: "shop".into(),
                created: t.clone(),
                dockerfile: String::new(),
                image: "nginx".into(),
                owner: "alice".into(),
                procfile: map.clone(),
                sha: String::new(),
                updated: t.clone(),
                uuid,
            }),
            both_orders(&ConfigView {
                app: "shop".into(),
                cpu: BTreeMap::from([("web".into(), 512)]),
                created: t.clone(),
                memory: map.clone(),
                owner: "alice".into(),
                tags: map.clone(),
                updated: t.clone(),
                uuid,
                values: map.clone(),
            }),
            both_orders(&ReleaseView {
                app: "shop".into(),
                build: Some(uuid),
                config: uuid,
                created: t.clone(),
                owner: "alice".into(),
                summary: "alice deployed nginx".into(),
                updated: t.clone(),
                uuid,
                version: 2,
            }),
            both_orders(&ContainerView {
                app: "shop".into(),
                created: t.clone(),
                exit_code: None,
                message: None,
                num: 1,
                owner: "alice".into(),
                release: "v2".into(),
                state: "up",
                proc_type: "web".into(),
                updated: t.clone(),
                uuid,
            }),
            both_orders(&DomainView {
                app: "shop".into(),
                created: t.clone(),
                domain: "shop.example.com".into(),
                owner: "alice".into(),
                updated: t.clone(),
            }),
            both_orders(&KeyView {
                created: t.clone(),
                fingerprint: "f".into(),
                id: "laptop".into(),
                owner: "alice".into(),
                public: "ssh-ed25519 AAAA".into(),
                updated: t.clone(),
                uuid,
            }),
            both_orders(&CertificateView {
                common_name: "example.com".into(),
                created: t.clone(),
                expires: t.clone(),
                owner: "alice".into(),
                san: vec!["example.com".into()],
                updated: t.clone(),
            }),
            both_orders(&UserView {
                date_joined: t.clone(),
                email: "a@example.com".into(),
                first_name: "A".into(),
                groups: Vec::new(),
                id: 1,
                is_active: true,
                is_staff: false,
                is_superuser: false,
                last_login: t.clone(),
                last_name: "L".into(),
                user_permissions: Vec::new(),
                username: "alice".into(),
            }),
            both_orders(&AdminView {
                is_superuser: true,
                username: "alice".into(),
            }),
            both_orders(&NodeView {
                address: None,
                availability: "active".into(),
                labels: map.clone(),
                name: "n1".into(),
                role: "manager".into(),
                state: "ready",
                tasks: 0,
            }),
            both_orders(&all(vec![AdminView {
                is_superuser: true,
                username: "alice".into(),
            }])),
        ];
        for (declared, sorted) in orders {
            assert_eq!(declared, sorted);
        }
    }

    #[test]
    fn log_lines_name_their_source() {
        let t = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        let event = LogEntry {
            time: Some(t),
            source: LogSource::Platform,
            text: "alice scaled web=2".into(),
        };
        assert_eq!(log_line(&event), "03:04:05 deis[api]: alice scaled web=2");
        let output = LogEntry {
            time: None,
            source: LogSource::Instance {
                app: "shop".into(),
                proc_type: "web".into(),
                num: 2,
            },
            text: "listening".into(),
        };
        assert_eq!(log_line(&output), " shop[web.2]: listening");
    }
}
