//! The image catalog: image repositories (RCABench calls them containers)
//! with semver-named versions, and the durable tasks that build images from
//! source. RCABench, the NDS image list and the Tapis image allow-list are
//! all views of it.
//!
//! `semver`, `search` and `validate` hold the pure rules (versions, search
//! filters, checks on input), `service` the use cases on repositories and
//! versions and `tasks` those on tasks (both on [`crate::service::Berth`]),
//! `build` the image build request, its rules and its background run, and
//! `source` the one place that touches the file system and the `git` CLI.

mod build;
mod dockerfile;
mod ownership;
mod reach;
pub mod search;
pub mod semver;
mod service;
mod source;
mod tasks;
pub mod validate;

pub use build::{BuildRequest, BuildSubmission};
pub use ownership::image_key;
pub use search::{RawFilter, RawSort};
pub use semver::SemVer;
pub use service::{NewRepo, NewVersion, RepoListQuery, RepoPatch, RepoSearch, VersionPatch};
pub use tasks::TaskListQuery;
// The catalog's data types live in the model, below the store that keeps them.
pub use crate::model::catalog::{
    BuildArgs, BuiltImage, CatalogStatus, Comparison, Condition, ImageRepo, ImageVersion, Label,
    Operand, ParamSpec, RepoKind, RepoQuery, SearchField, SortKey, TASK_KIND_BUILD, Task,
    TaskFilter, TaskState,
};
