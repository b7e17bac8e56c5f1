//! The image catalog's data: repositories (RCABench containers) with their
//! versions, the tasks that build images, and the typed queries a store
//! answers about them. The rules and use cases are in [`crate::catalog`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::image::ImageRef;
use crate::model::Timestamp;

/// What an image repository holds, as RCABench numbers it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    Algorithm,
    Benchmark,
    Pedestal,
}

impl RepoKind {
    pub fn code(self) -> i64 {
        match self {
            RepoKind::Algorithm => 0,
            RepoKind::Benchmark => 1,
            RepoKind::Pedestal => 2,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => RepoKind::Algorithm,
            1 => RepoKind::Benchmark,
            2 => RepoKind::Pedestal,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RepoKind::Algorithm => "algorithm",
            RepoKind::Benchmark => "benchmark",
            RepoKind::Pedestal => "pedestal",
        }
    }

    /// By name or by code ("benchmark" or "1").
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(code) = text.parse::<i64>() {
            return Self::from_code(code);
        }
        [RepoKind::Algorithm, RepoKind::Benchmark, RepoKind::Pedestal]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text))
    }
}

/// Lifecycle of a repository or version; deleted ones are kept (soft
/// delete) but free their name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogStatus {
    Deleted,
    Disabled,
    Enabled,
}

impl CatalogStatus {
    pub fn code(self) -> i64 {
        match self {
            CatalogStatus::Deleted => -1,
            CatalogStatus::Disabled => 0,
            CatalogStatus::Enabled => 1,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            -1 => CatalogStatus::Deleted,
            0 => CatalogStatus::Disabled,
            1 => CatalogStatus::Enabled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CatalogStatus::Deleted => "deleted",
            CatalogStatus::Disabled => "disabled",
            CatalogStatus::Enabled => "enabled",
        }
    }

    /// By name or by code ("disabled" or "0").
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(code) = text.parse::<i64>() {
            return Self::from_code(code);
        }
        [
            CatalogStatus::Deleted,
            CatalogStatus::Disabled,
            CatalogStatus::Enabled,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Label {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRepo {
    pub id: i64,
    pub name: String,
    pub kind: RepoKind,
    pub readme: String,
    pub is_public: bool,
    pub status: CatalogStatus,
    pub owner_id: i64,
    pub owner: String,
    pub labels: Vec<Label>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// One parameter a version's image takes at run time (an environment
/// variable or a Helm value), as RCABench describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSpec {
    pub key: String,
    /// 0 fixed, 1 dynamic.
    #[serde(rename = "type")]
    pub kind: i64,
    /// 0 environment variable, 1 Helm value.
    pub category: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_string: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageVersion {
    pub id: i64,
    pub repo_id: i64,
    /// A semantic version, unique among the repository's live versions.
    pub name: String,
    /// The reference as written; `image` is its parsed form.
    pub image_ref: String,
    pub image: ImageRef,
    pub command: String,
    pub env_vars: Option<Vec<ParamSpec>>,
    pub github_link: String,
    /// Kept as given; no engine Berth drives reads it.
    pub helm_config: Option<serde_json::Value>,
    /// How many workloads were created from this version's image.
    pub usage: i64,
    pub status: CatalogStatus,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// Where a task is in its life; `code` is RCABench's number for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Pending,
    Running,
    Completed,
    Error,
    Cancelled,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Completed => "completed",
            TaskState::Error => "error",
            TaskState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            TaskState::Pending,
            TaskState::Running,
            TaskState::Completed,
            TaskState::Error,
            TaskState::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    pub fn code(self) -> i64 {
        match self {
            TaskState::Cancelled => -2,
            TaskState::Error => -1,
            TaskState::Pending => 0,
            TaskState::Running => 2,
            TaskState::Completed => 3,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            -2 => TaskState::Cancelled,
            -1 => TaskState::Error,
            0 => TaskState::Pending,
            2 => TaskState::Running,
            3 => TaskState::Completed,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskState::Completed | TaskState::Error | TaskState::Cancelled
        )
    }
}

/// The kind of the only tasks the catalog runs.
pub const TASK_KIND_BUILD: &str = "BuildContainer";

/// Background work recorded durably: its log grows while it runs, and a
/// task a server restart interrupted runs again from the start.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: Uuid,
    pub kind: String,
    pub owner_id: i64,
    pub group_id: Uuid,
    pub trace_id: Uuid,
    pub state: TaskState,
    /// The request, without secrets.
    pub payload: serde_json::Value,
    pub log: String,
    /// What the task produced, or `{"error": …}`.
    pub result: Option<serde_json::Value>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// A repository listing or search as the store runs it. Conditions name
/// fields from a closed set, so no text a client wrote names what a store reads.
#[derive(Debug, Clone, Default)]
pub struct RepoQuery {
    pub conditions: Vec<Condition>,
    pub sort: Vec<SortKey>,
    /// Only repositories public or owned by this user; `None` sees all.
    pub visible_to: Option<i64>,
    pub include_deleted: bool,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub owner_id: Option<i64>,
    pub state: Option<TaskState>,
    pub group_id: Option<Uuid>,
    pub trace_id: Option<Uuid>,
    pub kind: Option<String>,
}

/// Build arguments as the engine takes them.
pub type BuildArgs = BTreeMap<String, String>;

/// The fields a repository search may filter on: a closed set, so a store
/// reads each from a place it chose and no field name a client writes
/// reaches a query. `Image`, `Tag` and `Command` are fields of a
/// repository's versions: a repository matches when one of its live
/// versions meets every condition on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    Id,
    Name,
    Kind,
    Status,
    IsPublic,
    Readme,
    OwnerId,
    CreatedAt,
    UpdatedAt,
    /// A version's image without its tag (`registry/namespace/repository`).
    Image,
    Tag,
    Command,
}

/// What kind of value a search field holds, which decides how a filter reads its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Int,
    Text,
    Bool,
    Kind,
    Status,
    Time,
}

impl SearchField {
    pub const ALL: [SearchField; 12] = [
        SearchField::Id,
        SearchField::Name,
        SearchField::Kind,
        SearchField::Status,
        SearchField::IsPublic,
        SearchField::Readme,
        SearchField::OwnerId,
        SearchField::CreatedAt,
        SearchField::UpdatedAt,
        SearchField::Image,
        SearchField::Tag,
        SearchField::Command,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SearchField::Id => "id",
            SearchField::Name => "name",
            SearchField::Kind => "type",
            SearchField::Status => "status",
            SearchField::IsPublic => "is_public",
            SearchField::Readme => "readme",
            SearchField::OwnerId => "user_id",
            SearchField::CreatedAt => "created_at",
            SearchField::UpdatedAt => "updated_at",
            SearchField::Image => "image",
            SearchField::Tag => "tag",
            SearchField::Command => "command",
        }
    }

    pub fn parse(name: &str) -> Option<SearchField> {
        SearchField::ALL.into_iter().find(|f| f.name() == name)
    }

    pub(crate) fn kind(self) -> ValueKind {
        match self {
            SearchField::Id | SearchField::OwnerId => ValueKind::Int,
            SearchField::Name
            | SearchField::Readme
            | SearchField::Image
            | SearchField::Tag
            | SearchField::Command => ValueKind::Text,
            SearchField::Kind => ValueKind::Kind,
            SearchField::Status => ValueKind::Status,
            SearchField::IsPublic => ValueKind::Bool,
            SearchField::CreatedAt | SearchField::UpdatedAt => ValueKind::Time,
        }
    }

    /// Time fields compare as instants, not as text.
    pub fn is_time(self) -> bool {
        self.kind() == ValueKind::Time
    }

    /// Whether the field is read from a repository's versions rather than
    /// from the repository itself.
    pub fn of_version(self) -> bool {
        matches!(
            self,
            SearchField::Image | SearchField::Tag | SearchField::Command
        )
    }
}

/// A value a field is compared with. Booleans, kinds and statuses are
/// their codes; instants are RFC 3339 text in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Int(i64),
    Text(String),
}

/// How a field is compared with its operands. The text comparisons take
/// the text to look for, matched literally: no character in it is a
/// wildcard, whatever the store uses to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: SearchField,
    pub comparison: Comparison,
    pub operands: Vec<Operand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: SearchField,
    pub descending: bool,
}

/// An image tag Berth built: its owner, the only user whose builds may
/// replace it, and the catalog repository whose visibility says who may use
/// it (none until a build of it has completed).
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltImage {
    /// `name:tag`.
    pub image: String,
    pub owner_id: i64,
    pub repo_id: Option<i64>,
    pub created: Timestamp,
}
