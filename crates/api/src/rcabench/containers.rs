//! Containers (catalog repositories), their labels and versions, and search.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use berth_core::CoreError;
use berth_core::catalog::{
    CatalogStatus, Label, NewRepo, NewVersion, ParamSpec, RawFilter, RawSort, RepoKind,
    RepoListQuery, RepoPatch, RepoSearch, VersionPatch,
};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::error::RcaResult;
use super::openapi::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::views::{
    self, AppliedFilter, Container, Envelope, Notice, Page, SearchPage, Version, VersionDetail,
    done, ok, reply,
};
use super::{Body, Caller, DEFAULT_PAGE_SIZE, Params, PathParams, page_and_size};
use crate::AppState;
use crate::common::body::{Fields, must_be, scalar_text};

// The request shapes below describe, for the document, the fields the
// handlers read one by one; they are never built.

/// A label to set or remove.
#[derive(ToSchema)]
#[schema(as = rcabench::LabelInput)]
#[expect(
    dead_code,
    reason = "describes the fields the handlers read one by one"
)]
pub struct LabelInput {
    key: String,
    /// Empty when absent.
    value: Option<String>,
}

/// One parameter a version takes, as RCABench describes it.
#[derive(ToSchema)]
#[schema(as = rcabench::Parameter)]
#[expect(
    dead_code,
    reason = "describes the fields the handlers read one by one"
)]
pub struct Parameter {
    key: String,
    #[schema(rename = "type")]
    kind: i64,
    category: i64,
    default_value: Option<String>,
    description: Option<String>,
    required: Option<bool>,
    template_string: Option<String>,
}

/// A new version of a container.
#[derive(ToSchema)]
#[schema(as = rcabench::NewVersion)]
#[expect(
    dead_code,
    reason = "describes the fields the handlers read one by one"
)]
pub struct NewVersionInput {
    /// A semantic version, e.g. `1.0.0`.
    name: String,
    /// The image, e.g. `registry/ns/repo:tag`.
    image_ref: String,
    command: Option<String>,
    env_vars: Option<Vec<Parameter>>,
    github_link: Option<String>,
    /// A Helm chart to deploy it with.
    #[schema(value_type = Option<Object>)]
    helm_config: Option<Value>,
}

/// A new container.
#[derive(ToSchema)]
#[schema(as = rcabench::NewContainer)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct NewContainer {
    name: String,
    /// 0 algorithm (the default), 1 benchmark, 2 pedestal.
    #[schema(rename = "type", minimum = 0, maximum = 2)]
    kind: Option<i64>,
    readme: Option<String>,
    is_public: Option<bool>,
    labels: Option<Vec<LabelInput>>,
    /// Its first version.
    version: Option<NewVersionInput>,
}

/// What an update of a container may change; no other field is accepted.
#[derive(ToSchema)]
#[schema(as = rcabench::ContainerChanges)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct ContainerChanges {
    readme: Option<String>,
    is_public: Option<bool>,
    /// 1 enabled, 0 disabled, -1 deleted.
    #[schema(minimum = -1, maximum = 1)]
    status: Option<i64>,
}

/// Labels to add and to remove; no other field is accepted.
#[derive(ToSchema)]
#[schema(as = rcabench::LabelChanges)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct LabelChanges {
    add_labels: Option<Vec<LabelInput>>,
    remove_labels: Option<Vec<LabelInput>>,
}

/// What an update of a version may change; no other field is accepted.
#[derive(ToSchema)]
#[schema(as = rcabench::VersionChanges)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct VersionChanges {
    image_ref: Option<String>,
    command: Option<String>,
    /// Replaces the parameters; null clears them.
    env_vars: Option<Vec<Parameter>>,
    github_link: Option<String>,
    /// 1 enabled, 0 disabled, -1 deleted.
    #[schema(minimum = -1, maximum = 1)]
    status: Option<i64>,
}

/// One search filter.
#[derive(ToSchema)]
#[schema(as = rcabench::FilterInput)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct FilterInput {
    /// `id`, `name`, `type`, `status`, `is_public`, `user_id`, `created_at`,
    /// `updated_at`, `image`, `tag` or `command`.
    field: String,
    /// `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `like`, `in` or `not_in`.
    operator: String,
    /// A string, number or boolean, or a list of them (for `in`).
    value: Option<Value>,
    /// The values of `in` and `not_in`: strings, numbers or booleans.
    values: Option<Vec<Value>>,
}

/// One sort key.
#[derive(ToSchema)]
#[schema(as = rcabench::SortInput)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct SortInput {
    field: String,
    /// `asc` (the default) or `desc`.
    direction: Option<String>,
}

/// A time range of a search, RFC 3339 bounds included.
#[derive(ToSchema)]
#[schema(as = rcabench::TimeRange)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct TimeRange {
    from: Option<String>,
    to: Option<String>,
}

/// A search of the containers; no other field is accepted.
#[derive(ToSchema)]
#[schema(as = rcabench::Search)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Search {
    /// A part of the name.
    keyword: Option<String>,
    /// A part of the name.
    name: Option<String>,
    filters: Option<Vec<FilterInput>>,
    sort: Option<Vec<SortInput>>,
    /// From 1.
    page: Option<i64>,
    /// 1 to 1000; 20 unless given.
    size: Option<i64>,
    /// 0 algorithm, 1 benchmark, 2 pedestal (or the name).
    #[schema(rename = "type")]
    kind: Option<Value>,
    /// 1 enabled, 0 disabled, -1 deleted.
    status: Option<i64>,
    /// Enabled (true) or not (false).
    is_active: Option<bool>,
    /// The owner's id.
    user_id: Option<i64>,
    created_at: Option<TimeRange>,
    updated_at: Option<TimeRange>,
    /// A part of a version's image.
    image: Option<String>,
    /// A version's tag.
    tag: Option<String>,
    /// A part of a version's command.
    command: Option<String>,
    /// Accepted, and ignored: the catalog is one project.
    project_id: Option<i64>,
    /// A field name or a list of them; accepted, and ignored.
    group_by: Option<Value>,
    /// Presentation hints; every field is always included.
    include: Option<Value>,
    include_fields: Option<Value>,
    exclude_fields: Option<Value>,
}

/// The query of `GET /api/v2/containers`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "describes the parameters the handler reads one by one"
)]
pub struct ContainerQuery {
    /// From 1.
    page: Option<i64>,
    /// 5, 10, 20 (the default), 50 or 100.
    size: Option<i64>,
    /// 0 algorithm, 1 benchmark, 2 pedestal.
    #[param(rename = "type")]
    kind: Option<i64>,
    is_public: Option<bool>,
    /// 1 enabled, 0 disabled, -1 deleted.
    status: Option<i64>,
}

/// The query of a container's version list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "describes the parameters the handler reads one by one"
)]
pub struct VersionQuery {
    /// From 1.
    page: Option<i64>,
    /// 5, 10, 20 (the default), 50 or 100.
    size: Option<i64>,
    /// 1 enabled, 0 disabled, -1 deleted.
    status: Option<i64>,
}

/// Create a container; with `version`, its first version too.
#[utoipa::path(post, path = "/api/v2/containers", tag = "rcabench",
    operation_id = "rcabench_containers_create",
    request_body = NewContainer,
    responses(
        (status = 201, description = "The new container", body = Envelope<Container>),
        BadRequest, Unauthorized, Forbidden, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn create_container(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> RcaResult<Response> {
    let o = body.fields_named("body")?;
    let kind = match o.get("type") {
        None | Some(Value::Null) => RepoKind::Algorithm,
        Some(Value::Number(n)) => kind_code("type", n.as_i64().unwrap_or(-1))?,
        Some(_) => return Err(CoreError::invalid_field("type", "must be 0, 1 or 2").into()),
    };
    let new = NewRepo {
        name: o.string("name")?,
        kind,
        readme: o.opt_string("readme")?.unwrap_or_default(),
        is_public: o.opt_bool("is_public")?.unwrap_or(false),
        labels: labels(&o, "labels")?,
        first_version: match o.get("version") {
            None | Some(Value::Null) => None,
            Some(v) => Some(new_version(o.nested(v, "version")?)?),
        },
    };
    let (repo, _) = s.berth.create_image_repo(&user, new).await?;
    Ok(reply(
        StatusCode::CREATED,
        "Container created successfully",
        views::container(&repo),
    ))
}

/// List the containers the caller can see.
#[utoipa::path(get, path = "/api/v2/containers", tag = "rcabench",
    operation_id = "rcabench_containers_list",
    params(ContainerQuery),
    responses(
        (status = 200, description = "A page of containers", body = Envelope<Page<Container>>),
        BadRequest, Unauthorized,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn list_containers(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    params: Params,
) -> RcaResult<Response> {
    let (page, size) = page_and_size(&params)?;
    let query = RepoListQuery {
        page,
        size,
        kind: params
            .int("type")?
            .map(|c| kind_code("type", c))
            .transpose()?,
        is_public: params.flag("is_public")?,
        status: status_code("status", params.int("status")?)?,
    };
    let page = s.berth.list_image_repos(&user, &query).await?;
    Ok(ok(
        "Containers retrieved successfully",
        views::paged(
            page.items.iter().map(views::container).collect(),
            query.page,
            query.size,
            page.total,
        ),
    ))
}

/// One container with its readme and versions.
#[utoipa::path(get, path = "/api/v2/containers/{container_id}", tag = "rcabench",
    operation_id = "rcabench_containers_get",
    params(("container_id" = i64, Path, description = "The container's id")),
    responses(
        (status = 200, description = "The container, with `readme` and `versions`", body = Envelope<Container>),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn get_container_by_id(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let (repo, versions) = s.berth.image_repo_detail(&user, id).await?;
    Ok(ok(
        "Container retrieved successfully",
        views::container_detail(&repo, &versions),
    ))
}

/// Change a container's readme, visibility or status.
#[utoipa::path(patch, path = "/api/v2/containers/{container_id}", tag = "rcabench",
    operation_id = "rcabench_containers_update",
    params(("container_id" = i64, Path, description = "The container's id")),
    request_body = ContainerChanges,
    responses(
        (status = 200, description = "The container, with `readme`", body = Envelope<Container>),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn update_container(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
    body: Body,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let o = body.fields_named("body")?;
    o.only(&["readme", "is_public", "status"])?;
    let patch = RepoPatch {
        readme: o.opt_string("readme")?,
        is_public: o.opt_bool("is_public")?,
        status: status_code("status", o.opt_int("status")?)?,
    };
    let repo = s.berth.update_image_repo(&user, id, patch).await?;
    Ok(ok(
        "Container updated successfully",
        views::container_with_readme(&repo),
    ))
}

/// Delete a container (softly: the name is free again).
#[utoipa::path(delete, path = "/api/v2/containers/{container_id}", tag = "rcabench",
    operation_id = "rcabench_containers_delete",
    params(("container_id" = i64, Path, description = "The container's id")),
    responses(
        (status = 200, description = "Deleted", body = Notice),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete_container(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    s.berth.delete_image_repo(&user, id).await?;
    Ok(done("Container deleted successfully"))
}

/// Add and remove a container's labels.
#[utoipa::path(patch, path = "/api/v2/containers/{container_id}/labels", tag = "rcabench",
    operation_id = "rcabench_containers_labels_update",
    params(("container_id" = i64, Path, description = "The container's id")),
    request_body = LabelChanges,
    responses(
        (status = 200, description = "The container", body = Envelope<Container>),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn update_container_labels(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
    body: Body,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let o = body.fields_named("body")?;
    o.only(&["add_labels", "remove_labels"])?;
    let add = labels(&o, "add_labels")?;
    let remove = labels(&o, "remove_labels")?;
    let repo = s
        .berth
        .change_image_repo_labels(&user, id, add, remove)
        .await?;
    Ok(ok(
        "Container labels updated successfully",
        views::container(&repo),
    ))
}

/// The search request's shortcut fields, as the filters they stand for.
fn shortcut_filters(o: &Fields) -> Result<Vec<RawFilter>, CoreError> {
    let eq = |field: &str, value: String| RawFilter {
        field: field.into(),
        operator: "eq".into(),
        value: Some(value),
        values: Vec::new(),
    };
    let like = |field: &str, value: String| RawFilter {
        operator: "like".into(),
        ..eq(field, value)
    };
    let mut out = Vec::new();
    if let Some(t) = o.get("type").filter(|v| !v.is_null()) {
        out.push(eq("type", scalar_text("type", t)?));
    }
    // As AegisLab reads them: the image and the command are matched in
    // part, the tag whole, each over the container's versions.
    if let Some(image) = o.opt_string("image")? {
        out.push(like("image", image));
    }
    if let Some(tag) = o.opt_string("tag")? {
        out.push(eq("tag", tag));
    }
    if let Some(command) = o.opt_string("command")? {
        out.push(like("command", command));
    }
    if let Some(status) = o.opt_int("status")? {
        out.push(eq("status", status.to_string()));
    }
    if let Some(active) = o.opt_bool("is_active")? {
        let mut f = eq("status", "enabled".into());
        if !active {
            f.operator = "ne".into();
        }
        out.push(f);
    }
    if let Some(owner) = o.opt_int("user_id")? {
        out.push(eq("user_id", owner.to_string()));
    }
    for field in ["created_at", "updated_at"] {
        let Some(range) = o.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let range = o.nested(range, field)?;
        range.only(&["from", "to"])?;
        for (key, operator) in [("from", "gte"), ("to", "lte")] {
            if let Some(at) = range.opt_string(key)? {
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

/// Search the containers: keyword and name (substrings of the
/// name), the versions' image, tag and command, filters and sort over a
/// fixed set of fields, pages. `project_id` and `group_by` are accepted and
/// change nothing: Berth's catalog is one project, and neither AegisLab nor
/// its client answers groups for containers.
#[utoipa::path(post, path = "/api/v2/containers/search", tag = "rcabench",
    operation_id = "rcabench_containers_search",
    request_body = Search,
    responses(
        (status = 200, description = "A page of containers, with the filters and sort applied", body = Envelope<SearchPage>),
        BadRequest, Unauthorized,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn search_containers(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> RcaResult<Response> {
    let o = body.fields_named("body")?;
    o.only(&[
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
        "image",
        "tag",
        "command",
        "project_id",
        "group_by",
        // Presentation hints RCABench clients may send; every field is always included.
        "include",
        "include_fields",
        "exclude_fields",
    ])?;
    o.opt_int("project_id")?;
    group_by(&o)?;
    let mut filters = shortcut_filters(&o)?;
    filters.extend(search_filters(&o)?);
    let search = RepoSearch {
        keyword: o.opt_string("keyword")?,
        name: o.opt_string("name")?,
        filters,
        sort: search_sort(&o)?,
        page: o.opt_int("page")?.unwrap_or(1),
        size: o.opt_int("size")?.unwrap_or(DEFAULT_PAGE_SIZE),
    };
    let page = s.berth.search_image_repos(&user, &search).await?;
    let mut applied: Vec<AppliedFilter> = Vec::new();
    if let Some(k) = search.keyword.as_deref().filter(|k| !k.is_empty()) {
        applied.push(views::name_like(k));
    }
    if let Some(n) = search.name.as_deref().filter(|n| !n.is_empty()) {
        applied.push(views::name_like(n));
    }
    applied.extend(search.filters.iter().map(views::filter));
    let sort: Vec<RawSort> = if search.sort.is_empty() {
        vec![RawSort {
            field: "id".into(),
            direction: "desc".into(),
        }]
    } else {
        search.sort.clone()
    };
    let data = SearchPage::of(
        views::paged(
            page.items.iter().map(views::container).collect(),
            search.page,
            search.size,
            page.total,
        ),
        applied,
        sort.iter().map(views::sort).collect(),
    );
    Ok(ok("Containers retrieved successfully", data))
}

/// Add a version to a container.
#[utoipa::path(post, path = "/api/v2/containers/{container_id}/versions", tag = "rcabench",
    operation_id = "rcabench_versions_create",
    params(("container_id" = i64, Path, description = "The container's id")),
    request_body = NewVersionInput,
    responses(
        (status = 201, description = "The new version", body = Envelope<VersionDetail>),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn create_container_version(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
    body: Body,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let new = new_version(body.fields_named("version")?)?;
    let version = s.berth.create_image_version(&user, id, new).await?;
    Ok(reply(
        StatusCode::CREATED,
        "Container version created successfully",
        views::version_detail(&version),
    ))
}

/// A container's versions, newest first.
#[utoipa::path(get, path = "/api/v2/containers/{container_id}/versions", tag = "rcabench",
    operation_id = "rcabench_versions_list",
    params(("container_id" = i64, Path, description = "The container's id"), VersionQuery),
    responses(
        (status = 200, description = "A page of versions", body = Envelope<Page<Version>>),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn list_container_versions(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
    params: Params,
) -> RcaResult<Response> {
    let id = path.id("container_id")?;
    let (page, size) = page_and_size(&params)?;
    let status = status_code("status", params.int("status")?)?;
    let versions = s
        .berth
        .list_image_versions(&user, id, page, size, status)
        .await?;
    Ok(ok(
        "Container versions retrieved successfully",
        views::paged(
            versions.items.iter().map(views::version).collect(),
            page,
            size,
            versions.total,
        ),
    ))
}

/// One version of a container.
#[utoipa::path(get, path = "/api/v2/containers/{container_id}/versions/{version_id}", tag = "rcabench",
    operation_id = "rcabench_versions_get",
    params(("container_id" = i64, Path, description = "The container's id"), ("version_id" = i64, Path, description = "The version's id")),
    responses(
        (status = 200, description = "The version", body = Envelope<VersionDetail>),
        BadRequest, Unauthorized, NotFound,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn get_container_version_by_id(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let (id, vid) = version_ids(&path)?;
    let v = s.berth.image_version(&user, id, vid).await?;
    Ok(ok(
        "Container version retrieved successfully",
        views::version_detail(&v),
    ))
}

/// Change a version.
#[utoipa::path(patch, path = "/api/v2/containers/{container_id}/versions/{version_id}", tag = "rcabench",
    operation_id = "rcabench_versions_update",
    params(("container_id" = i64, Path, description = "The container's id"), ("version_id" = i64, Path, description = "The version's id")),
    request_body = VersionChanges,
    responses(
        (status = 200, description = "The version", body = Envelope<VersionDetail>),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn update_container_version(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
    body: Body,
) -> RcaResult<Response> {
    let (id, vid) = version_ids(&path)?;
    let o = body.fields_named("body")?;
    o.only(&["image_ref", "command", "env_vars", "github_link", "status"])?;
    let patch = VersionPatch {
        image_ref: o.opt_string("image_ref")?,
        command: o.opt_string("command")?,
        env_vars: if o.map().contains_key("env_vars") {
            Some(params(&o, "env_vars")?)
        } else {
            None
        },
        github_link: o.opt_string("github_link")?,
        status: status_code("status", o.opt_int("status")?)?,
    };
    let v = s.berth.update_image_version(&user, id, vid, patch).await?;
    Ok(ok(
        "Container version updated successfully",
        views::version_detail(&v),
    ))
}

/// Delete a version (softly).
#[utoipa::path(delete, path = "/api/v2/containers/{container_id}/versions/{version_id}", tag = "rcabench",
    operation_id = "rcabench_versions_delete",
    params(("container_id" = i64, Path, description = "The container's id"), ("version_id" = i64, Path, description = "The version's id")),
    responses(
        (status = 200, description = "Deleted", body = Notice),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn delete_container_version(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    path: PathParams,
) -> RcaResult<Response> {
    let (id, vid) = version_ids(&path)?;
    s.berth.delete_image_version(&user, id, vid).await?;
    Ok(done("Container version deleted successfully"))
}

/// The container and version a version's path names.
fn version_ids(path: &PathParams) -> Result<(i64, i64), CoreError> {
    Ok((path.id("container_id")?, path.id("version_id")?))
}

// Request shapes of the catalog: numeric codes, labels, parameters, a
// version, and the search request's filters and sort.

fn kind_code(field: &str, code: i64) -> Result<RepoKind, CoreError> {
    RepoKind::from_code(code)
        .ok_or_else(|| must_be(field, "0 (algorithm), 1 (benchmark) or 2 (pedestal)"))
}

/// An optional status code, as the status it stands for.
fn status_code(field: &str, code: Option<i64>) -> Result<Option<CatalogStatus>, CoreError> {
    code.map(|code| {
        CatalogStatus::from_code(code)
            .ok_or_else(|| must_be(field, "1 (enabled), 0 (disabled) or -1 (deleted)"))
    })
    .transpose()
}

/// A list of objects at `field`, each read by `read`; absent or null is an
/// empty list, anything but a list is refused as not `shape`.
fn each_object<T>(
    o: &Fields,
    field: &str,
    shape: &str,
    read: impl Fn(Fields) -> Result<T, CoreError>,
) -> Result<Vec<T>, CoreError> {
    let items = match o.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(must_be(field, shape)),
    };
    items
        .iter()
        .map(|item| read(o.nested(item, field)?))
        .collect()
}

fn labels(o: &Fields, field: &str) -> Result<Vec<Label>, CoreError> {
    each_object(o, field, "a list of {key, value}", |l| {
        Ok(Label {
            key: l.string("key")?,
            value: l.opt_string("value")?.unwrap_or_default(),
        })
    })
}

fn params(o: &Fields, field: &str) -> Result<Option<Vec<ParamSpec>>, CoreError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Array(_)) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| CoreError::invalid_field(field, e.to_string())),
        Some(_) => Err(must_be(field, "a list of parameters")),
    }
}

fn new_version(o: Fields) -> Result<NewVersion, CoreError> {
    let helm_config = match o.get("helm_config") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(must_be("helm_config", "an object")),
    };
    Ok(NewVersion {
        name: o.string("name")?,
        image_ref: o.string("image_ref")?,
        command: o.opt_string("command")?.unwrap_or_default(),
        env_vars: params(&o, "env_vars")?,
        github_link: o.opt_string("github_link")?.unwrap_or_default(),
        helm_config,
    })
}

fn search_filters(o: &Fields) -> Result<Vec<RawFilter>, CoreError> {
    each_object(o, "filters", "a list of {field, operator, value}", |f| {
        f.only(&["field", "operator", "value", "values"])?;
        let (value, mut values) = match f.get("value") {
            None | Some(Value::Null) => (None, Vec::new()),
            Some(Value::Array(list)) => (
                None,
                list.iter()
                    .map(|v| scalar_text("filters", v))
                    .collect::<Result<_, _>>()?,
            ),
            Some(v) => (Some(scalar_text("filters", v)?), Vec::new()),
        };
        match f.get("values") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for v in list {
                    values.push(scalar_text("filters", v)?);
                }
            }
            Some(_) => return Err(must_be("filters", "values as a list")),
        }
        Ok(RawFilter {
            field: f.string("field")?,
            operator: f.string("operator")?,
            value,
            values,
        })
    })
}

/// `group_by`: a field name or a list of them, checked for shape only.
fn group_by(o: &Fields) -> Result<(), CoreError> {
    match o.get("group_by") {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err(must_be("group_by", "a field name or a list of them")),
    }
}

fn search_sort(o: &Fields) -> Result<Vec<RawSort>, CoreError> {
    each_object(o, "sort", "a list of {field, direction}", |s| {
        s.only(&["field", "direction"])?;
        Ok(RawSort {
            field: s.string("field")?,
            direction: s.opt_string("direction")?.unwrap_or_else(|| "asc".into()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::Dialect;
    use crate::rcabench::RcaBench;
    use serde_json::json;

    fn read<T>(v: Value, f: impl FnOnce(&Fields) -> Result<T, CoreError>) -> Result<T, CoreError> {
        f(&Fields::of(&v, "body", RcaBench::FIELDS)?)
    }

    #[test]
    fn filters_accept_scalars_and_lists() {
        let f = read(
            json!({"filters": [
                {"field": "type", "operator": "eq", "value": 1},
                {"field": "name", "operator": "in", "values": ["a", "b"]},
                {"field": "id", "operator": "in", "value": [1, 2]},
            ]}),
            search_filters,
        )
        .unwrap();
        assert_eq!(f[0].value.as_deref(), Some("1"));
        assert_eq!(f[1].values, vec!["a", "b"]);
        assert_eq!(f[2].values, vec!["1", "2"]);
        assert!(
            read(
                json!({"filters": [{"field": "x", "operator": "eq", "evil": 1}]}),
                search_filters
            )
            .is_err()
        );
        assert!(read(json!({"filters": "name=x"}), search_filters).is_err());
    }

    #[test]
    fn versions_and_labels() {
        let version = |v: Value| read(v, |o| new_version(*o));
        let v = version(
            json!({"name": "1.0.0", "image_ref": "busybox", "env_vars": [
                {"key": "FOO", "type": 0, "category": 0, "default_value": "1"}
            ]}),
        )
        .unwrap();
        assert_eq!(v.env_vars.unwrap()[0].key, "FOO");
        assert!(version(json!({"name": "1.0.0"})).is_err());
        assert!(
            version(json!({"name": "1.0.0", "image_ref": "b", "env_vars": [{"key": 1}]})).is_err()
        );
        let l = read(json!({"add": [{"key": "k", "value": "v"}]}), |o| {
            labels(o, "add")
        })
        .unwrap();
        assert_eq!(l[0].value, "v");
    }
}
