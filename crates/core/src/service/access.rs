//! Domains, SSH keys, and who may act on an object: sharing, grants and
//! the level a user holds ([`crate::access`] is the rule).

use uuid::Uuid;

use super::{Berth, app_object};
use crate::access;
use crate::error::{CoreError, CoreResult, OnConflict};
use crate::model::*;
use crate::rules::{self};
use crate::store::Page;

impl Berth {
    pub async fn add_domain(&self, actor: &User, id: &str, domain: &str) -> CoreResult<Domain> {
        let app = self.app(actor, id, Level::User).await?;
        let domain = domain.trim().to_ascii_lowercase();
        rules::validate_hostname(&domain)?;
        let d = Domain {
            domain: domain.clone(),
            app_id: app.id.clone(),
            owner: actor.username.clone(),
            created: now(),
        };
        self.store.add_domain(&d).await.on_conflict(|| {
            CoreError::Conflict(format!(
                "Domain is already in use by another application: {domain}"
            ))
        })?;
        self.event(
            &app,
            &actor.username,
            &format!("{} added domain {domain}", actor.username),
        )
        .await;
        Ok(d)
    }

    pub async fn list_domains(
        &self,
        actor: &User,
        id: &str,
        offset: i64,
        limit: i64,
    ) -> CoreResult<Page<Domain>> {
        let app = self.app(actor, id, Level::Read).await?;
        Ok(self.store.list_domains(&app.id, offset, limit).await?)
    }

    pub async fn remove_domain(&self, actor: &User, id: &str, domain: &str) -> CoreResult<()> {
        let app = self.app(actor, id, Level::User).await?;
        if !self
            .store
            .remove_domain(&app.id, &domain.to_ascii_lowercase())
            .await?
        {
            return Err(CoreError::not_found(format!("domain {domain} not found")));
        }
        self.event(
            &app,
            &actor.username,
            &format!("{} removed domain {domain}", actor.username),
        )
        .await;
        Ok(())
    }

    pub async fn add_key(&self, actor: &User, id: &str, public: &str) -> CoreResult<SshKey> {
        if id.trim().is_empty() || id.len() > 128 {
            return Err(CoreError::blank_field("id"));
        }
        let fingerprint = rules::ssh_key_fingerprint(public)?;
        let key = SshKey {
            uuid: Uuid::new_v4(),
            id: id.to_string(),
            owner: actor.username.clone(),
            public: public.trim().to_string(),
            fingerprint,
            created: now(),
        };
        self.store.add_key(actor.id, &key).await.on_conflict(|| {
            CoreError::Conflict(
                "This key is already registered (same id or same public key)".into(),
            )
        })?;
        Ok(key)
    }

    pub async fn list_keys(
        &self,
        actor: &User,
        offset: i64,
        limit: i64,
    ) -> CoreResult<Page<SshKey>> {
        Ok(self.store.list_keys(actor.id, offset, limit).await?)
    }

    pub async fn remove_key(&self, actor: &User, id: &str) -> CoreResult<()> {
        if !self.store.remove_key(actor.id, id).await? {
            return Err(CoreError::not_found(format!("key {id} not found")));
        }
        Ok(())
    }

    /// Who holds what on an object: its owner (always ADMIN) first, then
    /// everyone granted on it, by user name.
    pub async fn grant_list(&self, object: &str, owner: &str) -> CoreResult<Vec<(String, Level)>> {
        let mut out = vec![(owner.to_string(), Level::Admin)];
        for (user, level) in self.store.grantees(object).await? {
            if user != owner {
                out.push((user, level));
            }
        }
        Ok(out)
    }

    /// Grants `username` a level (`READ`, `USER`, `ADMIN`) on an object
    /// owned by `owner_id`; the owner's own level cannot change.
    pub async fn set_grant(
        &self,
        object: &str,
        owner_id: i64,
        username: &str,
        level: &str,
    ) -> CoreResult<Level> {
        let level = Level::parse(level)
            .ok_or_else(|| CoreError::invalid_field("level", "must be READ, USER or ADMIN"))?;
        let user = self.user(username).await?;
        if user.id == owner_id {
            return Err(CoreError::invalid_field(
                "user",
                "the owner is always ADMIN",
            ));
        }
        self.store.grant(object, user.id, level).await?;
        Ok(level)
    }

    /// Removes `username`'s grant on an object; the owner, its last ADMIN, cannot be removed.
    pub async fn remove_grant(&self, object: &str, owner: &str, username: &str) -> CoreResult<()> {
        if username == owner {
            return Err(CoreError::invalid_field(
                "user",
                "the owner is the last ADMIN and cannot be removed",
            ));
        }
        let user = self.user(username).await?;
        if !self.store.revoke(object, user.id).await? {
            return Err(CoreError::not_found(format!(
                "{username} has no permission here"
            )));
        }
        Ok(())
    }

    pub async fn collaborators(&self, actor: &User, id: &str) -> CoreResult<Vec<String>> {
        let app = self.app(actor, id, Level::Read).await?;
        Ok(self
            .store
            .grantees(&app_object(&app))
            .await?
            .into_iter()
            .map(|(u, _)| u)
            .collect())
    }

    pub async fn share(&self, actor: &User, id: &str, username: &str) -> CoreResult<()> {
        let app = self.app(actor, id, Level::Admin).await?;
        let user = self.user(username).await?;
        self.store
            .grant(&app_object(&app), user.id, Level::User)
            .await?;
        self.event(
            &app,
            &actor.username,
            &format!("{} shared the app with {username}", actor.username),
        )
        .await;
        Ok(())
    }

    pub async fn unshare(&self, actor: &User, id: &str, username: &str) -> CoreResult<()> {
        let app = self.app(actor, id, Level::Admin).await?;
        let user = self.user(username).await?;
        if !self.store.revoke(&app_object(&app), user.id).await? {
            return Err(CoreError::not_found(format!(
                "{username} has no permission on {id}"
            )));
        }
        self.event(
            &app,
            &actor.username,
            &format!("{} removed {username} from the app", actor.username),
        )
        .await;
        Ok(())
    }
}

impl Berth {
    /// [`access::level`] for an object whose grants are kept under the name `object`;
    /// the grant is only looked up for users who do not own it.
    pub(crate) async fn level_on(
        &self,
        actor: &User,
        owner_id: i64,
        object: &str,
        public: bool,
    ) -> CoreResult<Option<Level>> {
        let granted = if access::owns(actor, owner_id) {
            None
        } else {
            self.store.grant_level(object, actor.id).await?
        };
        Ok(access::level(actor, owner_id, granted, public))
    }

    /// Starting, stopping, restarting, scaling or running commands in a pod
    /// needs ADMIN on it, as Tapis asks, whichever dialect the request comes
    /// through; an app needs USER, as it already had to have.
    pub(crate) async fn may_run(&self, actor: &User, app: &App) -> CoreResult<()> {
        if app.kind == AppKind::Pod {
            self.app(actor, &app.id, Level::Admin).await?;
        }
        Ok(())
    }
}
