//! [`IdentityStore`]: users and their login tokens.

use async_trait::async_trait;
use berth_core::model::{PersonalName, Timestamp, Token, User, now};
use berth_core::store::{IdentityStore, StoreResult};
use uuid::Uuid;

use crate::{SqliteStore, db_err, execute, rows, ts};

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn count_users(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn create_named_user(
        &self,
        username: &str,
        email: &str,
        password_hash: &str,
        name: &PersonalName,
    ) -> StoreResult<User> {
        // The admin decision and the insert share one statement, so two
        // concurrent first registrations cannot both become administrator.
        let row = sqlx::query(
            "INSERT INTO users \
             (username, email, password_hash, first_name, last_name, is_admin, created) \
             VALUES (?, ?, ?, ?, ?, (SELECT COUNT(*) = 0 FROM users), ?) RETURNING *",
        )
        .bind(username)
        .bind(email)
        .bind(password_hash)
        .bind(&name.first)
        .bind(&name.last)
        .bind(ts(now()))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        rows::user(&row)
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<User>> {
        self.fetch_optional(
            sqlx::query("SELECT * FROM users WHERE username = ?").bind(username),
            rows::user,
        )
        .await
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
                .bind(password_hash)
                .bind(user_id),
        )
        .await
    }

    async fn set_admin(&self, user_id: i64, is_admin: bool) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE users SET is_admin = ? WHERE id = ?")
                .bind(is_admin)
                .bind(user_id),
        )
        .await
    }

    async fn list_admins(&self) -> StoreResult<Vec<User>> {
        self.fetch_all(
            sqlx::query("SELECT * FROM users WHERE is_admin = 1 ORDER BY username"),
            rows::user,
        )
        .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.fetch_all(
            sqlx::query("SELECT * FROM users ORDER BY username"),
            rows::user,
        )
        .await
    }

    async fn touch_login(&self, user_id: i64) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE users SET last_login = ? WHERE id = ?")
                .bind(ts(now()))
                .bind(user_id),
        )
        .await
    }

    async fn delete_user(&self, user_id: i64) -> StoreResult<Vec<String>> {
        let mut tx = self.write_tx().await?;
        let apps: Vec<String> = sqlx::query_scalar("SELECT id FROM apps WHERE owner_id = ?")
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        for app in &apps {
            execute(
                &mut *tx,
                sqlx::query("DELETE FROM instances WHERE app_id = ?").bind(app),
            )
            .await?;
        }
        // Template grants name the template, not a row that cascades: they
        // go with the user's templates, or the next template of that name
        // would inherit them.
        execute(
            &mut *tx,
            sqlx::query(
                "DELETE FROM grants WHERE object IN \
                 (SELECT 'template:' || template_id FROM templates WHERE owner_id = ?)",
            )
            .bind(user_id),
        )
        .await?;
        execute(
            &mut *tx,
            sqlx::query("DELETE FROM users WHERE id = ?").bind(user_id),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(apps)
    }

    async fn create_token(&self, token: &Token, secret_hash: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO tokens (id, user_id, secret_hash, created, expires) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(token.id.to_string())
            .bind(token.user_id)
            .bind(secret_hash)
            .bind(ts(token.created))
            .bind(token.expires.map(ts)),
        )
        .await
    }

    async fn token_user(
        &self,
        secret_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Token, User)>> {
        let row = sqlx::query(
            "SELECT t.id AS token_id, t.created AS token_created, t.expires, u.* FROM tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ? AND t.revoked IS NULL",
        )
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let token = rows::token(&row)?;
        if token.expires.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        Ok(Some((token, rows::user(&row)?)))
    }

    async fn revoke_user_tokens(&self, user_id: i64) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE tokens SET revoked = ? WHERE user_id = ? AND revoked IS NULL")
                .bind(ts(now()))
                .bind(user_id),
        )
        .await
    }

    async fn revoke_token(&self, secret_hash: &str) -> StoreResult<bool> {
        let revoked = self
            .exec_count(
                sqlx::query(
                    "UPDATE tokens SET revoked = ? WHERE secret_hash = ? AND revoked IS NULL",
                )
                .bind(ts(now()))
                .bind(secret_hash),
            )
            .await?;
        Ok(revoked > 0)
    }

    async fn revoke_other_tokens(&self, user_id: i64, keep: Uuid) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE tokens SET revoked = ? WHERE user_id = ? AND id != ? AND revoked IS NULL",
            )
            .bind(ts(now()))
            .bind(user_id)
            .bind(keep.to_string()),
        )
        .await
    }

    async fn purge_tokens(&self, now: Timestamp) -> StoreResult<u64> {
        self.exec_count(
            sqlx::query(
                "DELETE FROM tokens WHERE revoked IS NOT NULL \
                 OR (expires IS NOT NULL AND julianday(expires) <= julianday(?))",
            )
            .bind(ts(now)),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use berth_core::store::StoreError;

    use super::*;
    use crate::testing::store;

    #[tokio::test]
    async fn first_user_is_admin_and_names_are_unique() {
        let (_d, s) = store().await;
        let a = s.create_user("alice", "", "h").await.unwrap();
        let b = s.create_user("bob", "", "h").await.unwrap();
        assert!(a.is_admin && !b.is_admin);
        assert!(matches!(
            s.create_user("alice", "", "h").await,
            Err(StoreError::Conflict(_))
        ));
    }

    #[tokio::test]
    async fn personal_names_are_kept() {
        let (_d, s) = store().await;
        let name = PersonalName {
            first: "Ada".into(),
            last: "Lovelace".into(),
        };
        let created = s
            .create_named_user("ada", "ada@example.com", "h", &name)
            .await
            .unwrap();
        assert_eq!(created.name, name);
        let read = s.user_by_name("ada").await.unwrap().unwrap();
        assert_eq!((read.name, read.email), (name, "ada@example.com".into()));
        let plain = s.create_user("bob", "", "h").await.unwrap();
        assert_eq!(plain.name, PersonalName::default());
    }
}
