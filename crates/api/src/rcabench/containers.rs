//! Containers (catalog repositories), their labels and versions, and search.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use berth_core::CoreError;
use berth_core::catalog::{
    NewRepo, RawFilter, RawSort, RepoKind, RepoListQuery, RepoPatch, RepoSearch, VersionPatch,
};
use serde_json::{Value, json};

use super::error::{RcaResult, done, reply};
use super::fields::{self, Query, object, only, opt_bool, opt_int, opt_str};
use super::{Body, Caller, Params, PathParams, views};
use crate::AppState;

const DEFAULT_PAGE_SIZE: i64 = 20;

/// `POST /api/v2/containers` → 201; with `version`, its first version too.
pub async fn create(
    State(s): State<AppState>,
    Caller(user): Caller,
    body: Body,
) -> RcaResult<Response> {
    let o = object(&body.0, "body")?;
    let kind = match o.get("type") {
        None | Some(Value::Null) => RepoKind::Algorithm,
        Some(Value::Number(n)) => fields::kind_code("type", n.as_i64().unwrap_or(-1))?,
        Some(_) => return Err(CoreError::invalid_field("type", "must be 0, 1 or 2").into()),
    };
    let new = NewRepo {
        name: fields::req_str(o, "name")?,
        kind,
        readme: opt_str(o, "readme")?.unwrap_or_default(),
        is_public: opt_bool(o, "is_public")?.unwrap_or(false),
        labels: fields::labels(o, "labels")?,
        first_version: match o.get("version") {
            None | Some(Value::Null) => None,
            Some(v) => Some(fields::new_version(v)?),
        },
    };
    let (repo, _) = s.berth.create_image_repo(&user, new).await?;
    Ok(reply(
        StatusCode::CREATED,
        "Container created successfully",
        views::container(&repo),
    ))
}

/// `GET /api/v2/containers?page&size&type&is_public&status`.
pub async fn list(
    State(s): State<AppState>,
    Caller(user): Caller,
    Params(params): Params,
) -> RcaResult<Response> {
    let q = Query(&params);
    let query = RepoListQuery {
        page: q.int("page")?.unwrap_or(1),
        size: q.int("size")?.unwrap_or(DEFAULT_PAGE_SIZE),
        kind: q
            .int("type")?
            .map(|c| fields::kind_code("type", c))
            .transpose()?,
        is_public: q.boolean("is_public")?,
        status: q
            .int("status")?
            .map(|c| fields::status_code("status", c))
            .transpose()?,
    };
    let page = s.berth.list_image_repos(&user, &query).await?;
    Ok(reply(
        StatusCode::OK,
        "Containers retrieved successfully",
        json!({
            "items": page.items.iter().map(views::container).collect::<Vec<_>>(),
            "pagination": views::pagination(query.page, query.size, page.total),
        }),
    ))
}

/// `GET /api/v2/containers/{id}` with readme and versions.
pub async fn detail(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let (repo, versions) = s.berth.image_repo_detail(&user, id).await?;
    Ok(reply(
        StatusCode::OK,
        "Container retrieved successfully",
        views::container_detail(&repo, &versions),
    ))
}

/// `PATCH /api/v2/containers/{id}` `{readme?, is_public?, status?}`.
pub async fn update(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
    body: Body,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let o = object(&body.0, "body")?;
    only(o, &["readme", "is_public", "status"])?;
    let patch = RepoPatch {
        readme: opt_str(o, "readme")?,
        is_public: opt_bool(o, "is_public")?,
        status: opt_int(o, "status")?
            .map(|c| fields::status_code("status", c))
            .transpose()?,
    };
    let repo = s.berth.update_image_repo(&user, id, patch).await?;
    let mut data = views::container(&repo);
    data["readme"] = json!(repo.readme);
    Ok(reply(
        StatusCode::OK,
        "Container updated successfully",
        data,
    ))
}

/// `DELETE /api/v2/containers/{id}`: soft delete, the name is free again.
pub async fn delete(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    s.berth.delete_image_repo(&user, id).await?;
    Ok(done("Container deleted successfully"))
}

/// `PATCH /api/v2/containers/{id}/labels` `{add_labels?, remove_labels?}`.
pub async fn labels(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
    body: Body,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let o = object(&body.0, "body")?;
    only(o, &["add_labels", "remove_labels"])?;
    let add = fields::labels(o, "add_labels")?;
    let remove = fields::labels(o, "remove_labels")?;
    let repo = s
        .berth
        .change_image_repo_labels(&user, id, add, remove)
        .await?;
    Ok(reply(
        StatusCode::OK,
        "Container labels updated successfully",
        views::container(&repo),
    ))
}

/// The search request's shortcut fields, as the filters they stand for.
fn shortcut_filters(o: &fields::Object) -> Result<Vec<RawFilter>, CoreError> {
    let eq = |field: &str, value: String| RawFilter {
        field: field.into(),
        operator: "eq".into(),
        value: Some(value),
        values: Vec::new(),
    };
    let mut out = Vec::new();
    if let Some(t) = o.get("type").filter(|v| !v.is_null()) {
        out.push(eq("type", fields::scalar_text("type", t)?));
    }
    if let Some(status) = opt_int(o, "status")? {
        out.push(eq("status", status.to_string()));
    }
    if let Some(active) = opt_bool(o, "is_active")? {
        let mut f = eq("status", "enabled".into());
        if !active {
            f.operator = "ne".into();
        }
        out.push(f);
    }
    if let Some(owner) = opt_int(o, "user_id")? {
        out.push(eq("user_id", owner.to_string()));
    }
    for field in ["created_at", "updated_at"] {
        let Some(range) = o.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let range = object(range, field)?;
        only(range, &["from", "to"])?;
        for (key, operator) in [("from", "gte"), ("to", "lte")] {
            if let Some(at) = opt_str(range, key)? {
                out.push(RawFilter {
                    field: field.into(),
                    operator: operator.into(),
                    value: Some(at),
                    values: Vec::new(),
                });
            }
        }
    }
    Ok(out)
}

fn filter_view(f: &RawFilter) -> Value {
    let mut v = json!({"field": f.field, "operator": f.operator.to_ascii_lowercase()});
    if let Some(value) = &f.value {
        v["value"] = json!(value);
    }
    if !f.values.is_empty() {
        v["values"] = json!(f.values);
    }
    v
}

/// `POST /api/v2/containers/search`: keyword (substring of the name), name
/// (exact), filters and sort over a fixed set of fields, pages.
pub async fn search(
    State(s): State<AppState>,
    Caller(user): Caller,
    body: Body,
) -> RcaResult<Response> {
    let o = object(&body.0, "body")?;
    only(
        o,
        &[
            "keyword",
            "name",
            "filters",
            "sort",
            "page",
            "size",
            "type",
            "status",
            "is_active",
            "user_id",
            "created_at",
            "updated_at",
            // Presentation hints RCABench clients may send; every field is always included.
            "include",
            "include_fields",
            "exclude_fields",
        ],
    )?;
    let mut filters = shortcut_filters(o)?;
    filters.extend(fields::filters(o)?);
    let search = RepoSearch {
        keyword: opt_str(o, "keyword")?,
        name: opt_str(o, "name")?,
        filters,
        sort: fields::sort(o)?,
        page: opt_int(o, "page")?.unwrap_or(1),
        size: opt_int(o, "size")?.unwrap_or(DEFAULT_PAGE_SIZE),
    };
    let page = s.berth.search_image_repos(&user, &search).await?;
    let mut applied: Vec<Value> = Vec::new();
    if let Some(k) = search.keyword.as_deref().filter(|k| !k.is_empty()) {
        applied.push(json!({"field": "name", "operator": "like", "value": k}));
    }
    if let Some(n) = search.name.as_deref().filter(|n| !n.is_empty()) {
        applied.push(json!({"field": "name", "operator": "eq", "value": n}));
    }
    applied.extend(search.filters.iter().map(filter_view));
    let sort: Vec<RawSort> = if search.sort.is_empty() {
        vec![RawSort {
            field: "id".into(),
            direction: "desc".into(),
        }]
    } else {
        search.sort.clone()
    };
    Ok(reply(
        StatusCode::OK,
        "Containers retrieved successfully",
        json!({
            "items": page.items.iter().map(views::container).collect::<Vec<_>>(),
            "pagination": views::pagination(search.page, search.size, page.total),
            "applied_filters": applied,
            "applied_sort": sort
                .iter()
                .map(|s| json!({"field": s.field, "direction": s.direction.to_ascii_lowercase()}))
                .collect::<Vec<_>>(),
        }),
    ))
}

// ---------------------------------------------------------------- versions

/// `POST /api/v2/containers/{id}/versions` → 201.
pub async fn create_version(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
    body: Body,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let new = fields::new_version(&body.0)?;
    let version = s.berth.create_image_version(&user, id, new).await?;
    Ok(reply(
        StatusCode::CREATED,
        "Container version created successfully",
        views::version_detail(&version),
    ))
}

/// `GET /api/v2/containers/{id}/versions?page&size&status`, newest first.
pub async fn list_versions(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
    Params(params): Params,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let q = Query(&params);
    let page = q.int("page")?.unwrap_or(1);
    let size = q.int("size")?.unwrap_or(DEFAULT_PAGE_SIZE);
    let status = q
        .int("status")?
        .map(|c| fields::status_code("status", c))
        .transpose()?;
    let versions = s
        .berth
        .list_image_versions(&user, id, page, size, status)
        .await?;
    Ok(reply(
        StatusCode::OK,
        "Container versions retrieved successfully",
        json!({
            "items": versions.items.iter().map(views::version).collect::<Vec<_>>(),
            "pagination": views::pagination(page, size, versions.total),
        }),
    ))
}

/// `GET /api/v2/containers/{id}/versions/{version_id}`.
pub async fn version(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let vid = path.id("version_id")?;
    let v = s.berth.image_version(&user, id, vid).await?;
    Ok(reply(
        StatusCode::OK,
        "Container version retrieved successfully",
        views::version_detail(&v),
    ))
}

/// `PATCH /api/v2/containers/{id}/versions/{version_id}`.
pub async fn update_version(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
    body: Body,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let vid = path.id("version_id")?;
    let o = object(&body.0, "body")?;
    only(
        o,
        &["image_ref", "command", "env_vars", "github_link", "status"],
    )?;
    let patch = VersionPatch {
        image_ref: opt_str(o, "image_ref")?,
        command: opt_str(o, "command")?,
        env_vars: if o.contains_key("env_vars") {
            Some(fields::params(o, "env_vars")?)
        } else {
            None
        },
        github_link: opt_str(o, "github_link")?,
        status: opt_int(o, "status")?
            .map(|c| fields::status_code("status", c))
            .transpose()?,
    };
    let v = s.berth.update_image_version(&user, id, vid, patch).await?;
    Ok(reply(
        StatusCode::OK,
        "Container version updated successfully",
        views::version_detail(&v),
    ))
}

/// `DELETE /api/v2/containers/{id}/versions/{version_id}` (soft).
pub async fn delete_version(
    State(s): State<AppState>,
    Caller(user): Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let vid = path.id("version_id")?;
    s.berth.delete_image_version(&user, id, vid).await?;
    Ok(done("Container version deleted successfully"))
}
