//! RCABench's success envelope `{code, message, data, timestamp}` and the
//! users, catalog objects and tasks it carries.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::catalog::{ImageRepo, ImageVersion, Label, RawFilter, RawSort, Task};
use berth_core::model::User;
use berth_core::model::rfc3339;
use serde_json::{Map, Value, json};

pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A success in RCABench's envelope.
pub fn reply(status: StatusCode, message: &str, data: Value) -> Response {
    (
        status,
        Json(json!({
            "code": status.as_u16(),
            "message": message,
            "data": data,
            "timestamp": unix_now(),
        })),
    )
        .into_response()
}

/// A 200 success.
pub fn ok(message: &str, data: Value) -> Response {
    reply(StatusCode::OK, message, data)
}

/// A success that carries no data (deletions).
pub fn done(message: &str) -> Response {
    (
        StatusCode::OK,
        Json(json!({"code": 200, "message": message, "timestamp": unix_now()})),
    )
        .into_response()
}

pub fn user(u: &User) -> Value {
    json!({"id": u.id, "username": u.username, "email": u.email, "avatar": ""})
}

fn labels(labels: &[Label]) -> Value {
    labels
        .iter()
        .map(|l| json!({"key": l.key, "value": l.value}))
        .collect()
}

pub fn container(r: &ImageRepo) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "type": r.kind.as_str(),
        "is_public": r.is_public,
        "status": r.status.as_str(),
        "labels": labels(&r.labels),
        "user_id": r.owner_id,
        "owner": r.owner,
        "created_at": rfc3339(r.created),
        "updated_at": rfc3339(r.updated),
    })
}

pub fn container_detail(r: &ImageRepo, versions: &[ImageVersion]) -> Value {
    let mut v = container(r);
    v["readme"] = json!(r.readme);
    v["versions"] = versions.iter().map(version).collect();
    v
}

pub fn version(v: &ImageVersion) -> Value {
    json!({
        "id": v.id,
        "name": v.name,
        "image_ref": v.image_ref,
        "usage": v.usage,
        "status": v.status.as_str(),
        "created_at": rfc3339(v.created),
        "updated_at": rfc3339(v.updated),
    })
}

/// The stored Helm config in RCABench's detail shape; only fields of the
/// right type are shown, since the client reads them strictly.
fn helm_config(config: &Value) -> Value {
    let text = |key: &str| config.get(key).and_then(Value::as_str).map(str::to_string);
    let mut out = Map::new();
    match (text("repo_name"), text("chart_name")) {
        (Some(repo), Some(chart)) => {
            out.insert("full_chart".into(), json!(format!("{repo}/{chart}")));
        }
        (None, Some(chart)) => {
            out.insert("full_chart".into(), json!(chart));
        }
        _ => {}
    }
    for key in ["ns_prefix", "repo_url", "port_template"] {
        if let Some(v) = text(key) {
            out.insert(key.into(), json!(v));
        }
    }
    if let Some(values) = config.get("values").and_then(Value::as_object)
        && values.values().all(Value::is_object)
    {
        out.insert("values".into(), Value::Object(values.clone()));
    }
    Value::Object(out)
}

pub fn version_detail(v: &ImageVersion) -> Value {
    let mut out = version(v);
    out["container_id"] = json!(v.repo_id);
    out["command"] = json!(v.command);
    // RCABench sends the parameter specs as JSON text.
    out["env_vars"] = match &v.env_vars {
        Some(params) => json!(serde_json::to_string(params).unwrap_or_default()),
        None => Value::Null,
    };
    out["github_link"] = json!(v.github_link);
    out["helm_config"] = v
        .helm_config
        .as_ref()
        .map(helm_config)
        .unwrap_or(Value::Null);
    out["registry"] = json!(v.image.registry);
    out["namespace"] = json!(v.image.namespace);
    out["repository"] = json!(v.image.repository);
    out["tag"] = json!(v.image.tag);
    if let Some(d) = &v.image.digest {
        out["digest"] = json!(d);
    }
    out
}

/// One page of a list: its items and where it stands.
pub fn paged(items: Vec<Value>, page: i64, size: i64, total: i64) -> Value {
    json!({"items": items, "pagination": pagination(page, size, total)})
}

pub fn pagination(page: i64, size: i64, total: i64) -> Value {
    let pages = if size > 0 {
        (total + size - 1) / size
    } else {
        0
    };
    json!({"page": page, "size": size, "total": total, "total_pages": pages})
}

/// A search filter as applied, for `applied_filters`.
pub fn filter(f: &RawFilter) -> Value {
    let mut v = json!({"field": f.field, "operator": f.operator.to_ascii_lowercase()});
    if let Some(value) = &f.value {
        v["value"] = json!(value);
    }
    if !f.values.is_empty() {
        v["values"] = json!(f.values);
    }
    v
}

/// A sort key as applied, for `applied_sort`.
pub fn sort(s: &RawSort) -> Value {
    json!({"field": s.field, "direction": s.direction.to_ascii_lowercase()})
}

pub fn task(t: &Task) -> Value {
    json!({
        "id": t.id.to_string(),
        "type": t.kind,
        "state": t.state.as_str(),
        "status": "enabled",
        "immediate": true,
        "execute_time": t.created.unix_timestamp(),
        "group_id": t.group_id.to_string(),
        "trace_id": t.trace_id.to_string(),
        "created_at": rfc3339(t.created),
        "updated_at": rfc3339(t.updated),
    })
}

pub fn task_detail(t: &Task) -> Value {
    let mut v = task(t);
    v["payload"] = if t.payload.is_object() {
        t.payload.clone()
    } else {
        json!({})
    };
    v["logs"] = t.log.lines().map(|l| json!(l)).collect();
    v["result"] = t.result.clone().unwrap_or(Value::Null);
    v
}
