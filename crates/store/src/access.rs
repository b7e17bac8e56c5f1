//! [`AccessStore`]: grants on objects, app domains and users' SSH keys.

use async_trait::async_trait;
use berth_core::model::{Domain, Level, SshKey, now};
use berth_core::store::{AccessStore, Page, StoreResult};

use crate::{SqliteStore, db_err, rows, ts};

#[async_trait]
impl AccessStore for SqliteStore {
    async fn grant(&self, object: &str, user_id: i64, level: Level) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO grants (object, user_id, level, created) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (object, user_id) DO UPDATE SET level = excluded.level",
            )
            .bind(object)
            .bind(user_id)
            .bind(level.as_str())
            .bind(ts(now())),
        )
        .await
    }

    async fn revoke(&self, object: &str, user_id: i64) -> StoreResult<bool> {
        let removed = self
            .exec_count(
                sqlx::query("DELETE FROM grants WHERE object = ? AND user_id = ?")
                    .bind(object)
                    .bind(user_id),
            )
            .await?;
        Ok(removed > 0)
    }

    async fn grant_level(&self, object: &str, user_id: i64) -> StoreResult<Option<Level>> {
        self.fetch_optional(
            sqlx::query("SELECT level FROM grants WHERE object = ? AND user_id = ?")
                .bind(object)
                .bind(user_id),
            rows::level,
        )
        .await
    }

    async fn grantees(&self, object: &str) -> StoreResult<Vec<(String, Level)>> {
        self.fetch_all(
            sqlx::query(
                "SELECT u.username, g.level FROM grants g JOIN users u ON u.id = g.user_id \
                 WHERE g.object = ? ORDER BY u.username",
            )
            .bind(object),
            rows::grantee,
        )
        .await
    }

    async fn add_domain(&self, d: &Domain) -> StoreResult<()> {
        self.exec(
            sqlx::query("INSERT INTO domains (domain, app_id, owner, created) VALUES (?, ?, ?, ?)")
                .bind(&d.domain)
                .bind(&d.app_id)
                .bind(&d.owner)
                .bind(ts(d.created)),
        )
        .await
    }

    async fn list_domains(
        &self,
        app_id: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Domain>> {
        self.app_page("domains", "domain", app_id, offset, limit, rows::domain)
            .await
    }

    async fn remove_domain(&self, app_id: &str, domain: &str) -> StoreResult<bool> {
        let removed = self
            .exec_count(
                sqlx::query("DELETE FROM domains WHERE app_id = ? AND domain = ?")
                    .bind(app_id)
                    .bind(domain),
            )
            .await?;
        Ok(removed > 0)
    }

    async fn add_key(&self, user_id: i64, k: &SshKey) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO ssh_keys (uuid, user_id, id, public, fingerprint, created) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(k.uuid.to_string())
            .bind(user_id)
            .bind(&k.id)
            .bind(&k.public)
            .bind(&k.fingerprint)
            .bind(ts(k.created)),
        )
        .await
    }

    async fn list_keys(&self, user_id: i64, offset: i64, limit: i64) -> StoreResult<Page<SshKey>> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ssh_keys WHERE user_id = ?")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let items = self
            .fetch_all(
                sqlx::query(
                    "SELECT k.*, u.username AS owner FROM ssh_keys k JOIN users u ON u.id = k.user_id \
                     WHERE k.user_id = ? ORDER BY k.id LIMIT ? OFFSET ?",
                )
                .bind(user_id)
                .bind(limit)
                .bind(offset),
                rows::ssh_key,
            )
            .await?;
        Ok(Page { items, total })
    }

    async fn remove_key(&self, user_id: i64, id: &str) -> StoreResult<bool> {
        let removed = self
            .exec_count(
                sqlx::query("DELETE FROM ssh_keys WHERE user_id = ? AND id = ?")
                    .bind(user_id)
                    .bind(id),
            )
            .await?;
        Ok(removed > 0)
    }
}
