//! Users, passwords, tokens and administrators.

use std::net::IpAddr;

use uuid::Uuid;

use super::Berth;
use crate::auth::{self, Registration};
use crate::error::{CoreError, CoreResult, OnConflict};
use crate::model::*;
use crate::store::Store;

/// The longest first or last name an account keeps (Django's user model limit).
const MAX_NAME_CHARS: usize = 150;

impl Berth {
    /// A new account, if the registration mode lets `actor` (anonymous
    /// when `None`) make one.
    pub async fn register(
        &self,
        actor: Option<&User>,
        username: &str,
        password: &str,
        email: &str,
    ) -> CoreResult<User> {
        self.register_named(actor, username, password, email, &PersonalName::default())
            .await
    }

    /// Like [`Berth::register`], keeping the person's name on the account.
    pub async fn register_named(
        &self,
        actor: Option<&User>,
        username: &str,
        password: &str,
        email: &str,
        name: &PersonalName,
    ) -> CoreResult<User> {
        match self.settings.registration {
            Registration::Open => {}
            Registration::Admin if actor.is_some_and(|a| a.is_admin) => {}
            Registration::Admin | Registration::Closed => {
                return Err(CoreError::permission_denied());
            }
        }
        auth::validate_username(username)?;
        if !email.is_empty() && (!email.contains('@') || email.len() > 254) {
            return Err(CoreError::invalid_email("email"));
        }
        for (field, text) in [("first_name", &name.first), ("last_name", &name.last)] {
            if text.chars().count() > MAX_NAME_CHARS {
                return Err(CoreError::invalid_field(
                    field,
                    format!("Ensure this field has no more than {MAX_NAME_CHARS} characters."),
                ));
            }
        }
        auth::validate_password(password)?;
        let hash = self.passwords.hash(password).await?;
        self.store
            .create_named_user(username, email, &hash, name)
            .await
            .on_conflict(|| {
                CoreError::Conflict(format!(
                    "A user with that username already exists: {username}"
                ))
            })
    }

    /// Checks a password; on success returns the user. Failures never say
    /// which part was wrong, and take as long for an unknown user as for a
    /// wrong password. Too many failures from `peer` or for `username`
    /// refuse further attempts for a while (errors count as failures).
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> CoreResult<User> {
        self.passwords.admit(peer, username)?;
        let matched = match self.store.user_by_name(username).await? {
            Some(user) => {
                let ok = self.passwords.verify(password, &user.password_hash).await?;
                (ok && user.is_active).then_some(user)
            }
            None => {
                self.passwords.verify_nobody(password).await?;
                None
            }
        };
        let user = matched.ok_or_else(CoreError::bad_credentials)?;
        self.passwords.succeeded(peer, username);
        Ok(user)
    }

    /// [`Berth::check_password`] for credentials sent with every request
    /// (Tutum's Basic `user:password`): once verified, the same pair is
    /// trusted for a short while, as long as the password is unchanged.
    pub async fn check_password_cached(
        &self,
        username: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> CoreResult<User> {
        if let Some(user) = self.store.user_by_name(username).await?
            && user.is_active
            && self
                .passwords
                .recently_verified(username, password, &user.password_hash)
        {
            return Ok(user);
        }
        let user = self.check_password(username, password, peer).await?;
        self.passwords
            .remember_verified(username, password, &user.password_hash);
        Ok(user)
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
            expires: ttl.or(self.token_ttl()).map(|d| created + d),
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

    /// The server-wide token lifetime, if one is set.
    fn token_ttl(&self) -> Option<time::Duration> {
        self.settings
            .token_ttl
            .and_then(|d| time::Duration::try_from(d).ok())
    }

    /// Removes expired and revoked tokens; returns how many.
    pub async fn purge_tokens(&self) -> CoreResult<u64> {
        Ok(self.store.purge_tokens(now()).await?)
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> CoreResult<(User, String)> {
        let user = self.check_password(username, password, peer).await?;
        let (_, secret) = self.issue_token(&user, None).await?;
        Ok((user, secret))
    }

    /// Ends one session: the token `secret` stops working; the account's
    /// other tokens keep theirs.
    pub async fn logout(&self, secret: &str) -> CoreResult<()> {
        self.store.revoke_token(&auth::token_hash(secret)).await?;
        Ok(())
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
    /// reconciler removes), its TLS certificates and its data sets.
    pub async fn cancel_account(&self, actor: &User) -> CoreResult<()> {
        let apps = self.store.delete_user(actor.id).await?;
        self.discard_user_datasets(actor);
        if !apps.is_empty() {
            self.signals.wake();
        }
        self.signals.certs_changed();
        Ok(())
    }

    /// Sets a new password and revokes the account's tokens, except
    /// `current` (the token the actor called with) when actors change
    /// their own.
    pub async fn change_password(
        &self,
        actor: &User,
        old: &str,
        new: &str,
        target: Option<&str>,
        current: Option<&str>,
    ) -> CoreResult<()> {
        auth::validate_password(new)?;
        let (user, keep) = match target {
            Some(name) if name != actor.username => {
                self.require_admin(actor)?;
                (self.user(name).await?, None)
            }
            _ => {
                if !self.passwords.verify(old, &actor.password_hash).await? {
                    return Err(CoreError::invalid_field(
                        "password",
                        "Current password does not match",
                    ));
                }
                let keep = match current {
                    Some(secret) => self
                        .store
                        .token_user(&auth::token_hash(secret), now())
                        .await?
                        .filter(|(_, holder)| holder.id == actor.id)
                        .map(|(token, _)| token.id),
                    None => None,
                };
                (actor.clone(), keep)
            }
        };
        let hash = self.passwords.hash(new).await?;
        self.store.set_password(user.id, &hash).await?;
        match keep {
            Some(token) => self.store.revoke_other_tokens(user.id, token).await?,
            None => self.store.revoke_user_tokens(user.id).await?,
        }
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

/// Makes `username` an administrator, creating the account with `password`
/// when it does not exist (an existing account keeps its password), before
/// any request is served. Returns whether the account was created.
pub async fn ensure_admin(store: &dyn Store, username: &str, password: &str) -> CoreResult<bool> {
    let (user, created) = match store.user_by_name(username).await? {
        Some(user) => (user, false),
        None => {
            auth::validate_username(username)?;
            auth::validate_password(password)?;
            let user = store
                .create_user(username, "", &auth::hash_password(password)?)
                .await?;
            (user, true)
        }
    };
    if !user.is_admin {
        store.set_admin(user.id, true).await?;
    }
    Ok(created)
}
