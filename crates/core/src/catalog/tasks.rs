//! Catalog tasks: the durable background work of the catalog (image builds
//! today) as their owners see it — read, listed, cancelled — and the start
//! of a build. A task is its owner's; administrators see every task.

use std::sync::Arc;

use uuid::Uuid;

use super::build::{self, BuildRequest, BuildSubmission};
use super::validate::{page_window, validate_page, validate_search_size};
use super::{Task, TaskFilter, TaskState};
use crate::error::{CoreError, CoreResult};
use crate::model::User;
use crate::service::Berth;
use crate::store::Page;

#[derive(Debug, Clone, Default)]
pub struct TaskListQuery {
    pub page: i64,
    pub size: i64,
    pub state: Option<TaskState>,
    pub group_id: Option<Uuid>,
    pub trace_id: Option<Uuid>,
    pub kind: Option<String>,
}

impl Berth {
    /// A task of the actor's (any, for administrators).
    pub async fn task(&self, actor: &User, id: Uuid) -> CoreResult<Task> {
        match self.store.get_task(id).await? {
            Some(t) if actor.is_admin || t.owner_id == actor.id => Ok(t),
            _ => Err(CoreError::not_found(format!("task {id} not found"))),
        }
    }

    pub async fn tasks(&self, actor: &User, q: &TaskListQuery) -> CoreResult<Page<Task>> {
        let page = validate_page(q.page)?;
        let size = validate_search_size(q.size)?;
        let filter = TaskFilter {
            owner_id: (!actor.is_admin).then_some(actor.id),
            state: q.state,
            group_id: q.group_id,
            trace_id: q.trace_id,
            kind: q.kind.clone(),
        };
        let (offset, limit) = page_window(page, size);
        Ok(self.store.list_tasks(&filter, offset, limit).await?)
    }

    /// Cancels a task that has not ended; its worker stops at its next step.
    pub async fn cancel_task(&self, actor: &User, id: Uuid) -> CoreResult<Task> {
        let task = self.task(actor, id).await?;
        if task.state.is_finished() {
            return Err(CoreError::invalid(format!(
                "task {id} has already ended ({})",
                task.state.as_str()
            )));
        }
        self.store
            .finish_task(
                id,
                TaskState::Cancelled,
                &serde_json::json!({"error": "cancelled"}),
                &format!("cancelled by {}\n", actor.username),
            )
            .await?;
        self.task(actor, id).await
    }

    /// Starts building an image from a git repository in the background;
    /// the task records its progress and outcome.
    pub async fn submit_build(
        self: &Arc<Self>,
        actor: &User,
        request: BuildRequest,
    ) -> CoreResult<BuildSubmission> {
        build::submit(self, actor, request).await
    }

    /// Starts again the builds a killed server left unfinished (at start-up).
    pub async fn resume_interrupted_builds(self: &Arc<Self>) -> CoreResult<()> {
        build::resume_interrupted(self).await
    }
}
