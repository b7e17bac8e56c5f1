//! Who holds what on a Tapis pod, template, volume or snapshot: one set of
//! use cases (list, grant, revoke) for all four kinds of shared object.
//! Listing needs USER on the object, changing needs ADMIN; an object the
//! actor may not see is not found, in the kind's own words. Also the level
//! check the template, volume and snapshot loaders share.

use crate::error::{CoreError, CoreResult};
use crate::model::template::template_object;
use crate::model::volume::{snapshot_object, volume_object};
use crate::model::*;
use crate::service::{Berth, app_object};

/// The kinds of Tapis object whose owner shares them by grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedKind {
    Pod,
    Template,
    Volume,
    Snapshot,
}

/// An object the actor reached, as its grants need it.
struct Holder {
    /// The grant object name.
    object: String,
    owner: String,
    owner_id: i64,
    /// The pod, when the object is one: its grants go in its action log.
    pod: Option<App>,
}

impl Berth {
    /// Holds the actor to `need` on a shared object owned by `owner_id`;
    /// one they hold nothing on is `not_found` to them.
    pub(crate) async fn require_shared(
        &self,
        actor: &User,
        owner_id: i64,
        object: &str,
        need: Level,
        not_found: impl Fn() -> CoreError,
    ) -> CoreResult<()> {
        let level = self
            .level_on(actor, owner_id, object, false)
            .await?
            .ok_or_else(not_found)?;
        crate::access::require(level, need)
    }

    /// Loads the object `id` of `kind` if the actor holds `need` on it.
    async fn shared_object(
        &self,
        kind: SharedKind,
        actor: &User,
        id: &str,
        need: Level,
    ) -> CoreResult<Holder> {
        Ok(match kind {
            SharedKind::Pod => {
                let app = self.pod(actor, id, need).await?;
                Holder {
                    object: app_object(&app),
                    owner: app.owner.clone(),
                    owner_id: app.owner_id,
                    pod: Some(app),
                }
            }
            SharedKind::Template => {
                let t = self.template(actor, id, need).await?;
                Holder {
                    object: template_object(id),
                    owner: t.owner,
                    owner_id: t.owner_id,
                    pod: None,
                }
            }
            SharedKind::Volume => {
                let v = self.volume(actor, id, need).await?;
                Holder {
                    object: volume_object(id),
                    owner: v.owner,
                    owner_id: v.owner_id,
                    pod: None,
                }
            }
            SharedKind::Snapshot => {
                let s = self.snapshot(actor, id, need).await?;
                Holder {
                    object: snapshot_object(id),
                    owner: s.owner,
                    owner_id: s.owner_id,
                    pod: None,
                }
            }
        })
    }

    /// Who holds what on the object: the owner, then everyone granted.
    pub async fn permissions(
        &self,
        kind: SharedKind,
        actor: &User,
        id: &str,
    ) -> CoreResult<Vec<(String, Level)>> {
        let held = self.shared_object(kind, actor, id, Level::User).await?;
        self.grant_list(&held.object, &held.owner).await
    }

    /// Grants `username` a level on the object; answers the grants after.
    pub async fn set_permission(
        &self,
        kind: SharedKind,
        actor: &User,
        id: &str,
        username: &str,
        level: &str,
    ) -> CoreResult<Vec<(String, Level)>> {
        let held = self.shared_object(kind, actor, id, Level::Admin).await?;
        let level = self
            .set_grant(&held.object, held.owner_id, username, level)
            .await?;
        if let Some(app) = &held.pod {
            let what = format!(
                "{} gave {username} {} on the pod",
                actor.username,
                level.as_str()
            );
            self.event(app, &actor.username, &what).await;
        }
        self.grant_list(&held.object, &held.owner).await
    }

    /// Removes a grant; the owner, the last ADMIN, cannot be removed.
    pub async fn delete_permission(
        &self,
        kind: SharedKind,
        actor: &User,
        id: &str,
        username: &str,
    ) -> CoreResult<Vec<(String, Level)>> {
        let held = self.shared_object(kind, actor, id, Level::Admin).await?;
        self.remove_grant(&held.object, &held.owner, username)
            .await?;
        self.grant_list(&held.object, &held.owner).await
    }
}
