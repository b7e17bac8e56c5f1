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

#[cfg(test)]
mod tests {
    use berth_core::store::prelude::*;
    use uuid::Uuid;

    use super::*;
    use crate::apps::tests::demo_app;
    use crate::testing::store;

    #[tokio::test]
    async fn grants_domains_and_keys_round_trip() {
        let (_d, s) = store().await;
        let alice = s.create_user("alice", "", "h").await.unwrap();
        let bob = s.create_user("bob", "", "h").await.unwrap();

        s.grant("app:x", bob.id, Level::Read).await.unwrap();
        s.grant("app:x", bob.id, Level::User).await.unwrap();
        s.grant("app:x", alice.id, Level::Admin).await.unwrap();
        assert_eq!(
            s.grant_level("app:x", bob.id).await.unwrap(),
            Some(Level::User)
        );
        assert_eq!(
            s.grantees("app:x").await.unwrap(),
            [
                ("alice".to_string(), Level::Admin),
                ("bob".to_string(), Level::User)
            ]
        );
        assert!(s.revoke("app:x", bob.id).await.unwrap());
        assert!(!s.revoke("app:x", bob.id).await.unwrap());
        assert_eq!(s.grant_level("app:x", bob.id).await.unwrap(), None);

        let (app, config, release) = demo_app(&alice);
        s.create_app(&app, &config, None, &[release]).await.unwrap();
        for name in ["b.example", "a.example"] {
            let domain = Domain {
                domain: name.into(),
                app_id: "demo".into(),
                owner: "alice".into(),
                created: now(),
            };
            s.add_domain(&domain).await.unwrap();
        }
        let page = s.list_domains("demo", 1, 10).await.unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].domain, "b.example");
        assert!(s.remove_domain("demo", "a.example").await.unwrap());
        assert!(!s.remove_domain("demo", "a.example").await.unwrap());

        let key = SshKey {
            uuid: Uuid::new_v4(),
            id: "laptop".into(),
            owner: "alice".into(),
            public: "ssh-ed25519 AAAA".into(),
            fingerprint: "fp".into(),
            created: now(),
        };
        s.add_key(alice.id, &key).await.unwrap();
        let keys = s.list_keys(alice.id, 0, 10).await.unwrap();
        assert_eq!((keys.total, keys.items), (1, vec![key]));
        assert!(s.remove_key(alice.id, "laptop").await.unwrap());
        assert_eq!(s.list_keys(alice.id, 0, 10).await.unwrap().total, 0);
    }
}
