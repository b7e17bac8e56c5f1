//! [`CatalogStore`]: the image catalog's repositories, versions and the
//! durable tasks that build images.

use async_trait::async_trait;
use uuid::Uuid;

use super::{Page, StoreResult};
use crate::model::Timestamp;
use crate::model::catalog::{
    BuiltImage, ImageRepo, ImageVersion, Label, RepoQuery, Task, TaskFilter, TaskState,
};

#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Inserts the repository with its labels and optional first version in
    /// one transaction; a live repository of that name is a conflict.
    async fn insert_repo(
        &self,
        repo: &ImageRepo,
        first_version: Option<&ImageVersion>,
    ) -> StoreResult<(ImageRepo, Option<ImageVersion>)>;
    async fn get_repo(&self, id: i64) -> StoreResult<Option<ImageRepo>>;
    async fn live_repo_by_name(&self, name: &str) -> StoreResult<Option<ImageRepo>>;
    async fn query_repos(&self, query: &RepoQuery) -> StoreResult<Page<ImageRepo>>;
    /// Writes readme, visibility, status and `updated`.
    async fn update_repo(&self, repo: &ImageRepo) -> StoreResult<()>;
    /// Adds and removes labels and touches `updated`, atomically.
    async fn change_repo_labels(
        &self,
        repo_id: i64,
        add: &[Label],
        remove: &[Label],
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Inserts a version (its id is assigned); a live version of that name
    /// in the repository is a conflict.
    async fn insert_version(&self, version: &ImageVersion) -> StoreResult<ImageVersion>;
    async fn get_version(&self, repo_id: i64, id: i64) -> StoreResult<Option<ImageVersion>>;
    /// Every version of the repository (deleted ones too), in no order.
    async fn repo_versions(&self, repo_id: i64) -> StoreResult<Vec<ImageVersion>>;
    /// Writes the mutable fields of a version and `updated`.
    async fn update_version(&self, version: &ImageVersion) -> StoreResult<()>;
    /// Live versions of live repositories whose image reference is `image_ref`.
    async fn versions_by_image_ref(&self, image_ref: &str) -> StoreResult<Vec<ImageVersion>>;
    /// Counts one more use of every live version with that image reference.
    async fn bump_version_usage(&self, image_ref: &str) -> StoreResult<u64>;

    /// Records `image` as built by `owner_id` unless it is already
    /// recorded; returns the record as it stands afterwards.
    async fn claim_built_image(
        &self,
        image: &str,
        owner_id: i64,
        now: Timestamp,
    ) -> StoreResult<BuiltImage>;
    async fn get_built_image(&self, image: &str) -> StoreResult<Option<BuiltImage>>;
    /// Every recorded built image.
    async fn list_built_images(&self) -> StoreResult<Vec<BuiltImage>>;
    /// Ties a built image to the catalog repository its build recorded.
    async fn set_built_image_repo(&self, image: &str, repo_id: i64) -> StoreResult<()>;

    async fn insert_task(&self, task: &Task) -> StoreResult<()>;
    async fn get_task(&self, id: Uuid) -> StoreResult<Option<Task>>;
    async fn list_tasks(
        &self,
        filter: &TaskFilter,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Task>>;
    /// Moves a pending task to running; false if it was no longer pending.
    async fn start_task(&self, id: Uuid) -> StoreResult<bool>;
    /// Appends to the log and returns the task's state, so that a worker
    /// notices a cancellation.
    async fn append_task_log(&self, id: Uuid, text: &str) -> StoreResult<TaskState>;
    /// Ends a task that has not ended yet; false if it already had.
    async fn finish_task(
        &self,
        id: Uuid,
        state: TaskState,
        result: &serde_json::Value,
        log_tail: &str,
    ) -> StoreResult<bool>;
    /// Moves tasks a dead server left pending or running back to pending,
    /// appending `note` to their logs; returns them, oldest first.
    async fn requeue_interrupted_tasks(&self, note: &str) -> StoreResult<Vec<Task>>;
}
