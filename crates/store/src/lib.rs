//! [`Store`] over sqlx. SQLite is the default (WAL, foreign keys, busy
//! timeout); every write is one transaction or one statement.
//!
//! This file holds the pool, migrations, the write transaction and the
//! statement helpers; `rows` reads rows back into core's types, and each
//! other module implements one of core's per-concept store traits.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use berth_core::store::{Page, Store, StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteExecutor, SqlitePool};

// Timestamps are stored as RFC 3339 text, written as core formats them.
use berth_core::model::rfc3339 as ts;

mod access;
mod apps;
mod catalog;
mod certs;
pub mod datasets;
mod events;
mod identity;
mod instances;
mod jobs;
mod releases;
mod rows;
mod runs;
mod templates;
pub mod volume_files;
mod volumes;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
}

/// One SQL statement with its bound values.
type Statement<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

/// Reads one result row into a core value.
type Decoder<T> = fn(&SqliteRow) -> StoreResult<T>;

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and runs migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Backend(format!(
                "unsupported database url {url}: this build supports sqlite:// only"
            )));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(backend)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        Ok(SqliteStore { pool })
    }

    /// Opens a write transaction holding SQLite's write lock from its first
    /// statement. A deferred transaction that reads first and writes later
    /// cannot wait for a concurrent writer: SQLite answers "database is
    /// locked" at once instead of honouring the busy timeout.
    async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)
    }

    /// Runs one statement on its own.
    async fn exec(&self, statement: Statement<'_>) -> StoreResult<()> {
        execute(&self.pool, statement).await
    }

    /// Runs one statement on its own; returns how many rows it changed.
    async fn exec_count(&self, statement: Statement<'_>) -> StoreResult<u64> {
        let done = statement.execute(&self.pool).await.map_err(db_err)?;
        Ok(done.rows_affected())
    }

    /// The one row a query finds, if any, decoded.
    async fn fetch_optional<T>(
        &self,
        query: Statement<'_>,
        decode: Decoder<T>,
    ) -> StoreResult<Option<T>> {
        let row = query.fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(decode).transpose()
    }

    /// Every row a query finds, decoded.
    async fn fetch_all<T>(&self, query: Statement<'_>, decode: Decoder<T>) -> StoreResult<Vec<T>> {
        let rows = query.fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(decode).collect()
    }

    /// One page of an app's rows in `table` (a fixed table name, never
    /// input), ordered by `order`, with the total they were cut from.
    async fn app_page<T>(
        &self,
        table: &'static str,
        order: &'static str,
        app_id: &str,
        offset: i64,
        limit: i64,
        decode: Decoder<T>,
    ) -> StoreResult<Page<T>> {
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE app_id = ?"))
                .bind(app_id)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        let page =
            format!("SELECT * FROM {table} WHERE app_id = ? ORDER BY {order} LIMIT ? OFFSET ?");
        let items = self
            .fetch_all(
                sqlx::query(&page).bind(app_id).bind(limit).bind(offset),
                decode,
            )
            .await?;
        Ok(Page { items, total })
    }
}

/// Runs one statement on a pool or inside a transaction.
async fn execute<'c>(on: impl SqliteExecutor<'c>, statement: Statement<'_>) -> StoreResult<()> {
    statement.execute(on).await.map_err(db_err)?;
    Ok(())
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Unique-constraint failures become conflicts; everything else is a backend error.
fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        return StoreError::Conflict(d.message().to_string());
    }
    backend(e)
}

/// A value stored in a JSON text column.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.exec(sqlx::query("SELECT 1")).await
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::SqliteStore;

    /// A fresh store in a temporary directory, which lives as long as the guard.
    pub(crate) async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        (dir, SqliteStore::connect(&url).await.unwrap())
    }
}
