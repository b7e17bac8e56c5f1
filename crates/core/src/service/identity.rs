//! Users, passwords, tokens and administrators.

use uuid::Uuid;

use super::Berth;
use crate::auth;
use crate::error::{CoreError, CoreResult, OnConflict};
use crate::model::*;

impl Berth {
    pub async fn register(&self, username: &str, password: &str, email: &str) -> CoreResult<User> {
        auth::validate_username(username)?;
        auth::validate_password(password)?;
        if !email.is_empty() && (!email.contains('@') || email.len() > 254) {
            return Err(CoreError::invalid_email("email"));
        }
        let hash = auth::hash_password(password)?;
        self.store
            .create_user(username, email, &hash)
            .await
            .on_conflict(|| {
                CoreError::Conflict(format!(
                    "A user with that username already exists: {username}"
                ))
            })
    }

    /// Checks a password; on success returns the user. Failures never say which part was wrong.
    pub async fn check_password(&self, username: &str, password: &str) -> CoreResult<User> {
        let user = self.store.user_by_name(username).await?;
        match user {
            Some(u) if u.is_active && auth::verify_password(password, &u.password_hash) => Ok(u),
            _ => Err(CoreError::bad_credentials()),
        }
    }

    pub async fn issue_token(
        &self,
        user: &User,
        ttl: Option<time::Duration>,
    ) -> CoreResult<(Token, String)> {
        let secret = auth::new_token_secret();
        let created = now();
        let token = Token {
            id: Uuid::new_v4(),
            user_id: user.id,
            created,
            expires: ttl.map(|d| created + d),
        };
        self.store
            .create_token(&token, &auth::token_hash(&secret))
            .await?;
        self.store.touch_login(user.id).await?;
        Ok((token, secret))
    }

    /// A token in JWT form, valid for `ttl`: a Berth token like any other
    /// (stored by hash, revocable). It carries `claims` (who it names, in
    /// the caller's format) and the registered claims that tie it to the
    /// stored token: its id (`jti`), issue time (`iat`) and expiry (`exp`).
    pub async fn issue_jwt(
        &self,
        user: &User,
        ttl: time::Duration,
        mut claims: serde_json::Map<String, serde_json::Value>,
    ) -> CoreResult<(String, Timestamp)> {
        let created = now();
        let token = Token {
            id: Uuid::new_v4(),
            user_id: user.id,
            created,
            expires: Some(created + ttl),
        };
        let expires = created + ttl;
        claims.insert("jti".into(), token.id.to_string().into());
        claims.insert("iat".into(), created.unix_timestamp().into());
        claims.insert("exp".into(), expires.unix_timestamp().into());
        let jwt = auth::sign_jwt(&self.settings.jwt_key, &claims.into());
        self.store
            .create_token(&token, &auth::token_hash(&jwt))
            .await?;
        self.store.touch_login(user.id).await?;
        Ok((jwt, expires))
    }

    pub async fn login(&self, username: &str, password: &str) -> CoreResult<(User, String)> {
        let user = self.check_password(username, password).await?;
        let (_, secret) = self.issue_token(&user, None).await?;
        Ok((user, secret))
    }

    pub async fn authenticate(&self, secret: &str) -> CoreResult<User> {
        match self
            .store
            .token_user(&auth::token_hash(secret), now())
            .await?
        {
            Some((_, user)) if user.is_active => Ok(user),
            _ => Err(CoreError::invalid_token()),
        }
    }

    /// Deletes the account, its tokens, its apps (whose containers the
    /// reconciler removes) and its data sets.
    pub async fn cancel_account(&self, actor: &User) -> CoreResult<()> {
        let apps = self.store.delete_user(actor.id).await?;
        self.discard_user_datasets(actor);
        if !apps.is_empty() {
            self.signals.wake();
        }
        Ok(())
    }

    pub async fn change_password(
        &self,
        actor: &User,
        old: &str,
        new: &str,
        target: Option<&str>,
    ) -> CoreResult<()> {
        auth::validate_password(new)?;
        let user = match target {
            Some(name) if name != actor.username => {
                self.require_admin(actor)?;
                self.user(name).await?
            }
            _ => {
                if !auth::verify_password(old, &actor.password_hash) {
                    return Err(CoreError::invalid_field(
                        "password",
                        "Current password does not match",
                    ));
                }
                actor.clone()
            }
        };
        self.store
            .set_password(user.id, &auth::hash_password(new)?)
            .await?;
        Ok(())
    }

    /// Revokes every token of the user and issues a new one.
    pub async fn regenerate_token(
        &self,
        actor: &User,
        target: Option<&str>,
        all: bool,
    ) -> CoreResult<Option<String>> {
        if all || target.is_some_and(|t| t != actor.username) {
            self.require_admin(actor)?;
        }
        if all {
            for u in self.store.list_users().await? {
                self.store.revoke_user_tokens(u.id).await?;
            }
            return Ok(None);
        }
        let user = match target {
            Some(name) => self.user(name).await?,
            None => actor.clone(),
        };
        self.store.revoke_user_tokens(user.id).await?;
        let (_, secret) = self.issue_token(&user, None).await?;
        Ok(Some(secret))
    }

    pub async fn user(&self, username: &str) -> CoreResult<User> {
        self.store
            .user_by_name(username)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("user {username} not found")))
    }

    pub fn require_admin(&self, actor: &User) -> CoreResult<()> {
        if actor.is_admin {
            Ok(())
        } else {
            Err(CoreError::permission_denied())
        }
    }

    pub async fn admins(&self, actor: &User) -> CoreResult<Vec<User>> {
        self.require_admin(actor)?;
        Ok(self.store.list_admins().await?)
    }

    pub async fn users(&self, actor: &User) -> CoreResult<Vec<User>> {
        self.require_admin(actor)?;
        Ok(self.store.list_users().await?)
    }

    pub async fn set_admin(&self, actor: &User, username: &str, is_admin: bool) -> CoreResult<()> {
        self.require_admin(actor)?;
        let user = self.user(username).await?;
        if !is_admin && !user.is_admin {
            return Err(CoreError::not_found(format!(
                "{username} is not an administrator"
            )));
        }
        self.store.set_admin(user.id, is_admin).await?;
        Ok(())
    }
}
