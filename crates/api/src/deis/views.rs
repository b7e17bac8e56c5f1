//! Domain objects rendered as Deis v1 JSON.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_core::model::*;
use serde_json::{Value, json};

use berth_core::service::{Berth, LogEntry, LogSource};
use berth_core::store::Page;

/// A 201 for a change that made a release, naming it in the header the Deis CLI reads.
pub fn release_created(body: Value, release: &Release) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&release.version.to_string()) {
        res.headers_mut()
            .insert(HeaderName::from_static("deis-release"), v.clone());
        res.headers_mut()
            .insert(HeaderName::from_static("x-deis-release"), v);
    }
    res
}

pub fn app(berth: &Berth, a: &App) -> Value {
    let mut v = json!({
        "id": a.id,
        "uuid": a.uuid,
        "owner": a.owner,
        "url": berth.app_url(a),
        "structure": a.structure,
        "created": stamp(a.created),
        "updated": stamp(a.updated),
    });
    if let Some(e) = &a.error {
        v["error"] = json!(e);
    }
    v
}

pub fn build(b: &Build) -> Value {
    json!({
        "app": b.app_id, "owner": b.owner, "uuid": b.uuid, "image": b.image,
        "procfile": b.procfile, "dockerfile": b.dockerfile, "sha": b.sha,
        "created": stamp(b.created), "updated": stamp(b.created),
    })
}

/// A config as a change answers it: `values` also show the `DEIS_APP` and
/// `DEIS_RELEASE` the new release puts in every container's environment.
/// Deis showed them only here (they were added while the release was
/// published, never stored), so a plain read of the config lists only what
/// was set.
pub fn changed_config(c: &Config, release: &Release) -> Value {
    let mut v = config(c);
    v["values"]["DEIS_APP"] = json!(c.app_id);
    v["values"]["DEIS_RELEASE"] = json!(format!("v{}", release.version));
    v
}

pub fn config(c: &Config) -> Value {
    json!({
        "app": c.app_id, "owner": c.owner, "uuid": c.uuid,
        "values": c.values.values, "memory": c.values.memory, "cpu": c.values.cpu, "tags": c.values.tags,
        "created": stamp(c.created), "updated": stamp(c.created),
    })
}

pub fn release(r: &Release) -> Value {
    json!({
        "app": r.app_id, "owner": r.owner, "uuid": r.uuid, "version": r.version,
        "build": r.build, "config": r.config, "summary": r.summary,
        "created": stamp(r.created), "updated": stamp(r.created),
    })
}

pub fn container(app: &App, i: &Instance) -> Value {
    json!({
        "owner": app.owner, "app": app.id, "uuid": i.uuid,
        "release": format!("v{}", i.release), "type": i.proc_type, "num": i.num,
        "state": i.state.as_str(), "exit_code": i.exit_code, "message": i.message,
        "created": stamp(i.created), "updated": stamp(i.updated),
    })
}

pub fn domain(d: &Domain) -> Value {
    json!({"app": d.app_id, "owner": d.owner, "domain": d.domain, "created": stamp(d.created), "updated": stamp(d.created)})
}

pub fn key(k: &SshKey) -> Value {
    json!({
        "id": k.id, "uuid": k.uuid, "owner": k.owner, "public": k.public, "fingerprint": k.fingerprint,
        "created": stamp(k.created), "updated": stamp(k.created),
    })
}

/// A certificate as Deis v1 showed it (its chain and key are write-only),
/// plus the DNS names it carries.
pub fn certificate(c: &Certificate) -> Value {
    json!({
        "common_name": c.common_name, "owner": c.owner, "expires": stamp(c.expires), "san": c.san,
        "created": stamp(c.created), "updated": stamp(c.created),
    })
}

pub fn user(u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email,
        "is_superuser": u.is_admin, "is_staff": u.is_admin, "is_active": u.is_active,
        "first_name": u.name.first, "last_name": u.name.last, "groups": [], "user_permissions": [],
        // Django of Deis's day set `last_login` when it created the account.
        "date_joined": user_stamp(u.created), "last_login": user_stamp(u.last_login.unwrap_or(u.created)),
    })
}

/// An administrator as `/v1/admin/perms` lists them.
pub fn admin(u: &User) -> Value {
    json!({"username": u.username, "is_superuser": u.is_admin})
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

pub fn list<T>(page: Page<T>, link: &PageLink<'_>, render: impl Fn(&T) -> Value) -> Value {
    let size = super::paging::PAGE_SIZE;
    let url = |n: i64| format!("{}/v1{}?page={n}", link.base, link.path);
    let next = (link.page * size < page.total).then(|| url(link.page + 1));
    let previous = (link.page > 1).then(|| url(link.page - 1));
    json!({
        "count": page.total,
        "next": next,
        "previous": previous,
        "results": page.items.iter().map(render).collect::<Vec<_>>(),
    })
}

/// A whole list as one page (for lists core does not page).
pub fn all(items: Vec<Value>) -> Value {
    json!({"count": items.len(), "next": null, "previous": null, "results": items})
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
