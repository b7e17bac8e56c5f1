//! RCABench's success envelope `{code, message, data, timestamp}` and the
//! users, catalog objects and tasks it carries, as the types the answers
//! are serialised from and their OpenAPI schemas are derived from. Fields
//! are declared in alphabetical order: that is the order the answers have
//! always had on the wire.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_core::catalog::{ImageRepo, ImageVersion, RawFilter, RawSort, Task};
use berth_core::model::User;
use berth_core::model::rfc3339;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A success: the HTTP status again as `code`, a sentence, and the data.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Envelope<T>)]
pub struct Envelope<T> {
    /// The HTTP status of the answer.
    code: u16,
    data: T,
    message: &'static str,
    /// When the answer was made, in Unix seconds.
    timestamp: i64,
}

/// An answer without data: a deletion done, or any error.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Notice)]
pub struct Notice {
    /// The HTTP status of the answer.
    pub code: u16,
    /// What happened, or what was wrong with the request.
    pub message: String,
    /// When the answer was made, in Unix seconds.
    pub timestamp: i64,
}

impl Notice {
    pub fn at(status: StatusCode, message: String) -> Response {
        (
            status,
            Json(Notice {
                code: status.as_u16(),
                message,
                timestamp: unix_now(),
            }),
        )
            .into_response()
    }
}

/// A success in RCABench's envelope.
pub fn reply<T: Serialize>(status: StatusCode, message: &'static str, data: T) -> Response {
    (
        status,
        Json(Envelope {
            code: status.as_u16(),
            data,
            message,
            timestamp: unix_now(),
        }),
    )
        .into_response()
}

/// A 200 success.
pub fn ok<T: Serialize>(message: &'static str, data: T) -> Response {
    reply(StatusCode::OK, message, data)
}

/// A success that carries no data (deletions).
pub fn done(message: &str) -> Response {
    Notice::at(StatusCode::OK, message.to_string())
}

/// An account.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::User)]
pub struct UserView {
    /// Always empty: Berth keeps no avatars.
    avatar: &'static str,
    email: String,
    id: i64,
    username: String,
}

pub fn user(u: &User) -> UserView {
    UserView {
        avatar: "",
        email: u.email.clone(),
        id: u.id,
        username: u.username.clone(),
    }
}

/// A token from `/auth/login` and whose it is.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Login)]
pub struct Login {
    /// When the token stops working (RFC 3339).
    pub expires_at: String,
    /// A Berth token, good in every dialect.
    pub token: String,
    pub user: UserView,
}

/// A label on a container.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Label)]
pub struct LabelView {
    key: String,
    value: String,
}

/// A container (an image repository of the catalog).
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Container)]
pub struct Container {
    created_at: String,
    id: i64,
    is_public: bool,
    labels: Vec<LabelView>,
    name: String,
    /// The owner's user name.
    owner: String,
    /// In the detail and after an update only.
    #[serde(skip_serializing_if = "Option::is_none")]
    readme: Option<String>,
    /// `enabled`, `disabled` or `deleted`.
    status: &'static str,
    /// `algorithm`, `benchmark` or `pedestal`.
    #[serde(rename = "type")]
    kind: &'static str,
    updated_at: String,
    /// The owner's id.
    user_id: i64,
    /// In the detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    versions: Option<Vec<Version>>,
}

pub fn container(r: &ImageRepo) -> Container {
    Container {
        created_at: rfc3339(r.created),
        id: r.id,
        is_public: r.is_public,
        labels: r
            .labels
            .iter()
            .map(|l| LabelView {
                key: l.key.clone(),
                value: l.value.clone(),
            })
            .collect(),
        name: r.name.clone(),
        owner: r.owner.clone(),
        readme: None,
        status: r.status.as_str(),
        kind: r.kind.as_str(),
        updated_at: rfc3339(r.updated),
        user_id: r.owner_id,
        versions: None,
    }
}

/// A container with its readme, as an update answers it.
pub fn container_with_readme(r: &ImageRepo) -> Container {
    Container {
        readme: Some(r.readme.clone()),
        ..container(r)
    }
}

pub fn container_detail(r: &ImageRepo, versions: &[ImageVersion]) -> Container {
    Container {
        versions: Some(versions.iter().map(version).collect()),
        ..container_with_readme(r)
    }
}

/// A version of a container, as lists show it.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Version)]
pub struct Version {
    created_at: String,
    id: i64,
    image_ref: String,
    /// A semantic version.
    name: String,
    /// `enabled`, `disabled` or `deleted`.
    status: &'static str,
    updated_at: String,
    usage: i64,
}

pub fn version(v: &ImageVersion) -> Version {
    Version {
        created_at: rfc3339(v.created),
        id: v.id,
        image_ref: v.image_ref.clone(),
        name: v.name.clone(),
        status: v.status.as_str(),
        updated_at: rfc3339(v.updated),
        usage: v.usage,
    }
}

/// The stored Helm config in RCABench's detail shape; only fields of the
/// right type are shown, since the client reads them strictly.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::HelmConfig)]
pub struct HelmConfig {
    /// `repo_name/chart_name`, or the chart alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    full_chart: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ns_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo_url: Option<String>,
    /// Chart values, each an object.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    values: Option<Map<String, Value>>,
}

fn helm_config(config: &Value) -> HelmConfig {
    let text = |key: &str| config.get(key).and_then(Value::as_str).map(str::to_string);
    let full_chart = match (text("repo_name"), text("chart_name")) {
        (Some(repo), Some(chart)) => Some(format!("{repo}/{chart}")),
        (None, Some(chart)) => Some(chart),
        _ => None,
    };
    let values = config
        .get("values")
        .and_then(Value::as_object)
        .filter(|values| values.values().all(Value::is_object))
        .cloned();
    HelmConfig {
        full_chart,
        ns_prefix: text("ns_prefix"),
        port_template: text("port_template"),
        repo_url: text("repo_url"),
        values,
    }
}

/// A version with everything known about it.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::VersionDetail)]
pub struct VersionDetail {
    command: String,
    container_id: i64,
    created_at: String,
    /// Present when the image reference pins one.
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    /// The parameter specs as JSON text, as RCABench sends them.
    env_vars: Option<String>,
    github_link: String,
    helm_config: Option<HelmConfig>,
    id: i64,
    image_ref: String,
    name: String,
    namespace: String,
    registry: String,
    repository: String,
    /// `enabled`, `disabled` or `deleted`.
    status: &'static str,
    tag: String,
    updated_at: String,
    usage: i64,
}

pub fn version_detail(v: &ImageVersion) -> VersionDetail {
    VersionDetail {
        command: v.command.clone(),
        container_id: v.repo_id,
        created_at: rfc3339(v.created),
        digest: v.image.digest.clone(),
        env_vars: v
            .env_vars
            .as_ref()
            .map(|params| serde_json::to_string(params).unwrap_or_default()),
        github_link: v.github_link.clone(),
        helm_config: v.helm_config.as_ref().map(helm_config),
        id: v.id,
        image_ref: v.image_ref.clone(),
        name: v.name.clone(),
        namespace: v.image.namespace.clone(),
        registry: v.image.registry.clone(),
        repository: v.image.repository.clone(),
        status: v.status.as_str(),
        tag: v.image.tag.clone(),
        updated_at: rfc3339(v.updated),
        usage: v.usage,
    }
}

/// One page of a list: its items and where it stands.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Page<T>)]
pub struct Page<T> {
    items: Vec<T>,
    pagination: Pagination,
}

pub fn paged<T>(items: Vec<T>, page: i64, size: i64, total: i64) -> Page<T> {
    Page {
        items,
        pagination: pagination(page, size, total),
    }
}

/// Where a page stands in its list.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Pagination)]
pub struct Pagination {
    /// From 1.
    page: i64,
    size: i64,
    total: i64,
    total_pages: i64,
}

fn pagination(page: i64, size: i64, total: i64) -> Pagination {
    let total_pages = if size > 0 {
        (total + size - 1) / size
    } else {
        0
    };
    Pagination {
        page,
        size,
        total,
        total_pages,
    }
}

/// A page of search results with the filters and sort applied.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::SearchPage)]
pub struct SearchPage {
    pub applied_filters: Vec<AppliedFilter>,
    pub applied_sort: Vec<AppliedSort>,
    pub items: Vec<Container>,
    pub pagination: Pagination,
}

impl SearchPage {
    pub fn of(
        page: Page<Container>,
        applied_filters: Vec<AppliedFilter>,
        applied_sort: Vec<AppliedSort>,
    ) -> SearchPage {
        SearchPage {
            applied_filters,
            applied_sort,
            items: page.items,
            pagination: page.pagination,
        }
    }
}

/// A search filter as applied.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::AppliedFilter)]
pub struct AppliedFilter {
    field: String,
    /// In lower case: `eq`, `ne`, `like`, `in`, `gte`, …
    operator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    values: Vec<String>,
}

/// A keyword or name search, as the name filter it is.
pub fn name_like(text: &str) -> AppliedFilter {
    AppliedFilter {
        field: "name".into(),
        operator: "like".into(),
        value: Some(text.into()),
        values: Vec::new(),
    }
}

pub fn filter(f: &RawFilter) -> AppliedFilter {
    AppliedFilter {
        field: f.field.clone(),
        operator: f.operator.to_ascii_lowercase(),
        value: f.value.clone(),
        values: f.values.clone(),
    }
}

/// A sort key as applied.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::AppliedSort)]
pub struct AppliedSort {
    /// `asc` or `desc`.
    direction: String,
    field: String,
}

pub fn sort(s: &RawSort) -> AppliedSort {
    AppliedSort {
        direction: s.direction.to_ascii_lowercase(),
        field: s.field.clone(),
    }
}

/// A task, as lists show it.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::Task)]
pub struct TaskView {
    created_at: String,
    /// When it was submitted, in Unix seconds.
    execute_time: i64,
    group_id: String,
    /// A uuid.
    id: String,
    /// Always true: tasks run at once.
    immediate: bool,
    /// `pending`, `running`, `completed`, `error` or `cancelled`.
    state: &'static str,
    /// Always `enabled`.
    status: &'static str,
    trace_id: String,
    /// What the task does, e.g. `BuildContainer`.
    #[serde(rename = "type")]
    kind: String,
    updated_at: String,
}

pub fn task(t: &Task) -> TaskView {
    TaskView {
        created_at: rfc3339(t.created),
        execute_time: t.created.unix_timestamp(),
        group_id: t.group_id.to_string(),
        id: t.id.to_string(),
        immediate: true,
        state: t.state.as_str(),
        status: "enabled",
        trace_id: t.trace_id.to_string(),
        kind: t.kind.clone(),
        updated_at: rfc3339(t.updated),
    }
}

/// A task with its payload, log lines and result.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::TaskDetail)]
pub struct TaskDetail {
    created_at: String,
    /// When it was submitted, in Unix seconds.
    execute_time: i64,
    group_id: String,
    /// A uuid.
    id: String,
    /// Always true: tasks run at once.
    immediate: bool,
    logs: Vec<String>,
    /// What the task was asked to do.
    #[schema(value_type = Object)]
    payload: Value,
    /// What it produced, once finished; null before.
    result: Value,
    /// `pending`, `running`, `completed`, `error` or `cancelled`.
    state: &'static str,
    /// Always `enabled`.
    status: &'static str,
    trace_id: String,
    /// What the task does, e.g. `BuildContainer`.
    #[serde(rename = "type")]
    kind: String,
    updated_at: String,
}

pub fn task_detail(t: &Task) -> TaskDetail {
    let TaskView {
        created_at,
        execute_time,
        group_id,
        id,
        immediate,
        state,
        status,
        trace_id,
        kind,
        updated_at,
    } = task(t);
    TaskDetail {
        created_at,
        execute_time,
        group_id,
        id,
        immediate,
        logs: t.log.lines().map(str::to_string).collect(),
        payload: if t.payload.is_object() {
            t.payload.clone()
        } else {
            Value::Object(Map::new())
        },
        result: t.result.clone().unwrap_or(Value::Null),
        state,
        status,
        trace_id,
        kind,
        updated_at,
    }
}

/// A build submitted: the task running it and the image it will make.
#[derive(Serialize, ToSchema)]
#[schema(as = rcabench::BuildSubmitted)]
pub struct BuildSubmitted {
    pub group_id: String,
    /// The `name:tag` the image will have.
    pub image: String,
    pub task_id: String,
    pub trace_id: String,
}
