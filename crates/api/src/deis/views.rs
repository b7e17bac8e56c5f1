//! Domain objects rendered as Deis v1 JSON.

use berth_core::model::*;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use berth_core::service::Berth;
use berth_core::store::Page;

pub fn ts(t: Timestamp) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn app(berth: &Berth, a: &App) -> Value {
    let mut v = json!({
        "id": a.id,
        "uuid": a.uuid,
        "owner": a.owner,
        "url": berth.app_url(a),
        "structure": a.structure,
        "created": ts(a.created),
        "updated": ts(a.updated),
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
        "created": ts(b.created), "updated": ts(b.created),
    })
}

pub fn config(c: &Config) -> Value {
    json!({
        "app": c.app_id, "owner": c.owner, "uuid": c.uuid,
        "values": c.values.values, "memory": c.values.memory, "cpu": c.values.cpu, "tags": c.values.tags,
        "created": ts(c.created), "updated": ts(c.created),
    })
}

pub fn release(r: &Release) -> Value {
    json!({
        "app": r.app_id, "owner": r.owner, "uuid": r.uuid, "version": r.version,
        "build": r.build, "config": r.config, "summary": r.summary,
        "created": ts(r.created), "updated": ts(r.created),
    })
}

pub fn container(app: &App, i: &Instance) -> Value {
    json!({
        "owner": app.owner, "app": app.id, "uuid": i.uuid,
        "release": format!("v{}", i.release), "type": i.proc_type, "num": i.num,
        "state": i.state.as_str(), "exit_code": i.exit_code, "message": i.message,
        "created": ts(i.created), "updated": ts(i.updated),
    })
}

pub fn domain(d: &Domain) -> Value {
    json!({"app": d.app_id, "owner": d.owner, "domain": d.domain, "created": ts(d.created), "updated": ts(d.created)})
}

pub fn key(k: &SshKey) -> Value {
    json!({
        "id": k.id, "uuid": k.uuid, "owner": k.owner, "public": k.public, "fingerprint": k.fingerprint,
        "created": ts(k.created), "updated": ts(k.created),
    })
}

pub fn user(u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email,
        "is_superuser": u.is_admin, "is_staff": u.is_admin, "is_active": u.is_active,
        "first_name": "", "last_name": "", "groups": [], "user_permissions": [],
        "date_joined": ts(u.created), "last_login": u.last_login.map(ts),
    })
}

/// An administrator as `/v1/admin/perms` lists them.
pub fn admin(u: &User) -> Value {
    json!({"username": u.username, "is_superuser": u.is_admin})
}

/// Where a page listing lives, to build `next` and `previous` links.
pub struct PageLink<'a> {
    pub host: &'a str,
    pub path: &'a str,
    pub page: i64,
}

pub fn list<T>(page: Page<T>, link: &PageLink<'_>, render: impl Fn(&T) -> Value) -> Value {
    let size = super::paging::PAGE_SIZE;
    let url = |n: i64| format!("http://{}/v1{}?page={n}", link.host, link.path);
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
