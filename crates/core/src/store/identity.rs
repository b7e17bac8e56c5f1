//! [`IdentityStore`]: users and their login tokens.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::model::{PersonalName, Timestamp, Token, User};

#[async_trait]
pub trait IdentityStore: Send + Sync {
    async fn count_users(&self) -> StoreResult<i64>;
    /// Creates a user without a personal name; the first one ever created
    /// is made administrator.
    async fn create_user(
        &self,
        username: &str,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<User> {
        self.create_named_user(username, email, password_hash, &PersonalName::default())
            .await
    }
    /// Creates a user with a personal name; the first one ever created is
    /// made administrator.
    async fn create_named_user(
        &self,
        username: &str,
        email: &str,
        password_hash: &str,
        name: &PersonalName,
    ) -> StoreResult<User>;
    async fn user_by_name(&self, username: &str) -> StoreResult<Option<User>>;
    async fn set_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()>;
    async fn set_admin(&self, user_id: i64, is_admin: bool) -> StoreResult<()>;
    async fn list_admins(&self) -> StoreResult<Vec<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn touch_login(&self, user_id: i64) -> StoreResult<()>;
    /// Deletes a user with everything they own; returns the ids of their apps.
    async fn delete_user(&self, user_id: i64) -> StoreResult<Vec<String>>;
    async fn create_token(&self, token: &Token, secret_hash: &str) -> StoreResult<()>;
    async fn token_user(
        &self,
        secret_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Token, User)>>;
    async fn revoke_user_tokens(&self, user_id: i64) -> StoreResult<()>;
    /// Revokes the one token whose secret hashes to `secret_hash`; false
    /// when there is none (or it was revoked already).
    async fn revoke_token(&self, secret_hash: &str) -> StoreResult<bool>;
    /// Revokes every token of the user but `keep`.
    async fn revoke_other_tokens(&self, user_id: i64, keep: Uuid) -> StoreResult<()>;
    /// Deletes tokens that expired or were revoked before `now`; returns how many.
    async fn purge_tokens(&self, now: Timestamp) -> StoreResult<u64>;
}
