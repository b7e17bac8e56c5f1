//! [`InstanceStore`]: what the reconciler reads as desired and the instance
//! rows it keeps (restart and stop flags are set with an app change).

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::model::Instance;
use crate::plan::{DesiredApp, Observation};

#[async_trait]
pub trait InstanceStore: Send + Sync {
    async fn desired_apps(&self) -> StoreResult<Vec<DesiredApp>>;
    async fn desired_app(&self, id: &str) -> StoreResult<Option<DesiredApp>>;
    async fn list_instances(&self, app_id: Option<&str>) -> StoreResult<Vec<Instance>>;
    async fn get_instance(&self, uuid: Uuid) -> StoreResult<Option<Instance>>;
    /// Inserts the instance only while its app still exists at the
    /// instance's release; returns whether it did.
    async fn insert_instance(&self, instance: &Instance) -> StoreResult<bool>;
    async fn observe_instance(&self, obs: &Observation) -> StoreResult<()>;
    async fn delete_instance(&self, uuid: Uuid) -> StoreResult<()>;
    /// Deletes the instance row and lowers its type's count by one, atomically.
    async fn destroy_instance(&self, uuid: Uuid) -> StoreResult<()>;
    async fn clear_restart(&self, uuid: Uuid) -> StoreResult<()>;
    /// Records whether the instance passed its health check since it came up.
    async fn set_instance_ready(&self, uuid: Uuid, ready: bool) -> StoreResult<()>;
}
