//! [`EventStore`]: the append-only action log of each object.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::Event;

#[async_trait]
pub trait EventStore: Send + Sync {
    async fn add_event(&self, object: &str, actor: &str, message: &str) -> StoreResult<()>;
    /// The newest `limit` events of an object, oldest first.
    async fn list_events(&self, object: &str, limit: i64) -> StoreResult<Vec<Event>>;
}
