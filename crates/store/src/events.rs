//! [`EventStore`]: the append-only action log of each object.

use async_trait::async_trait;
use berth_core::model::{Event, Timestamp, now};
use berth_core::store::{EventStore, StoreResult};

use sqlx::SqliteExecutor;

use crate::{SqliteStore, execute, rows, ts};

#[async_trait]
impl EventStore for SqliteStore {
    async fn add_event(&self, object: &str, actor: &str, message: &str) -> StoreResult<()> {
        add_event_in(&self.pool, object, actor, message, now()).await
    }

    async fn list_events(&self, object: &str, limit: i64) -> StoreResult<Vec<Event>> {
        self.fetch_all(
            sqlx::query(
                "SELECT * FROM (SELECT * FROM events WHERE object = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
            )
            .bind(object)
            .bind(limit),
            rows::event,
        )
        .await
    }
}

/// Appends one event, on the pool or inside a caller's transaction.
pub(crate) async fn add_event_in<'c>(
    on: impl SqliteExecutor<'c>,
    object: &str,
    actor: &str,
    message: &str,
    at: Timestamp,
) -> StoreResult<()> {
    execute(
        on,
        sqlx::query("INSERT INTO events (object, actor, message, created) VALUES (?, ?, ?, ?)")
            .bind(object)
            .bind(actor)
            .bind(message)
            .bind(ts(at)),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;

    #[tokio::test]
    async fn an_objects_newest_events_read_oldest_first() {
        let (_d, s) = store().await;
        for message in ["one", "two", "three"] {
            s.add_event("app:x", "alice", message).await.unwrap();
        }
        s.add_event("app:y", "alice", "other").await.unwrap();
        let events = s.list_events("app:x", 2).await.unwrap();
        let messages: Vec<_> = events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["two", "three"]);
    }
}
