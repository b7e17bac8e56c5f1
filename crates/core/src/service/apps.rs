//! Apps: who may act on one, creating, listing and deleting them.

use std::time::Duration;

use uuid::Uuid;

use super::{Berth, app_object};
use crate::access;
use crate::error::{CoreError, CoreResult, OnConflict};
use crate::feed::{Change, ChangeKind};
use crate::model::*;
use crate::rules::{self};
use crate::runtime::{ContainerInfo, LABEL_APP, LABEL_INSTANCE};
use crate::store::Page;

impl Berth {
    /// The app if the actor may act on it at `need`; to anyone with no access it does not exist.
    pub async fn app(&self, actor: &User, id: &str, need: Level) -> CoreResult<App> {
        let not_found = || CoreError::not_found(format!("app {id} not found"));
        let app = self.store.get_app(id).await?.ok_or_else(not_found)?;
        let level = self
            .level_on(actor, app.owner_id, &app_object(&app), false)
            .await?
            .ok_or_else(not_found)?;
        access::require(level, need)?;
        Ok(app)
    }

    pub fn app_url(&self, app: &App) -> String {
        format!("{}.{}", app.id, self.settings.domain)
    }

    pub async fn create_app(
        &self,
        actor: &User,
        id: Option<&str>,
        kind: AppKind,
    ) -> CoreResult<App> {
        let id = match id {
            Some(id) => {
                rules::validate_app_id(id)?;
                id.to_string()
            }
            None => self.free_app_id().await?,
        };
        let t = now();
        let app = App::new(&id, actor, kind, t);
        let config = Config::new(&id, &actor.username, ConfigValues::default(), t);
        let summary = format!("{} created initial release", actor.username);
        let release = Release::new(
            &id,
            &actor.username,
            1,
            (None, config.uuid),
            summary.clone(),
            t,
        );
        self.store
            .create_app(&app, &config, None, std::slice::from_ref(&release))
            .await
            .on_conflict(|| {
                CoreError::Conflict(format!("App with this id already exists: {id}"))
            })?;
        self.event(&app, &actor.username, &summary).await;
        self.report_created(&app);
        Ok(app)
    }

    async fn free_app_id(&self) -> CoreResult<String> {
        for _ in 0..20 {
            let id = rules::generate_app_id();
            if self.store.get_app(&id).await?.is_none() {
                return Ok(id);
            }
        }
        let id = format!(
            "{}-{}",
            rules::generate_app_id(),
            &Uuid::new_v4().simple().to_string()[..6]
        );
        Ok(id)
    }

    pub async fn list_apps(&self, actor: &User, offset: i64, limit: i64) -> CoreResult<Page<App>> {
        Ok(self.store.list_apps(actor, offset, limit).await?)
    }

    /// Deletes the app and waits until the engine runs none of its containers.
    pub async fn destroy_app(&self, actor: &User, id: &str) -> CoreResult<()> {
        let app = self.app(actor, id, Level::Admin).await?;
        let mut ticket = self.signals.ticket();
        self.delete_app(actor, &app).await?;
        let deadline = tokio::time::Instant::now() + self.settings.converge_timeout;
        while tokio::time::Instant::now() < deadline {
            let left = self
                .app_containers(&app.id)
                .await
                .iter()
                .any(|c| c.label(LABEL_INSTANCE).is_some());
            if !left {
                break;
            }
            self.signals
                .pass_after(ticket, Duration::from_millis(500))
                .await;
            ticket = self.signals.last_finished();
        }
        Ok(())
    }

    /// The containers the engine has of the app, instances and one-off runs
    /// alike; none when the engine does not answer.
    pub(crate) async fn app_containers(&self, app_id: &str) -> Vec<ContainerInfo> {
        self.runtime
            .list(&[(LABEL_APP, Some(app_id))])
            .await
            .unwrap_or_default()
    }

    /// Deletes the app at once, keeping a tombstone; the reconciler then
    /// removes its containers as orphans.
    pub async fn delete_app(&self, actor: &User, app: &App) -> CoreResult<()> {
        let tombstone = Tombstone {
            app: app.clone(),
            build: self.current_build(app).await?,
            config: Some(self.current_config(app).await?),
            deleted: now(),
        };
        self.store.delete_app(&app.id, &tombstone).await?;
        tracing::info!(app = %app.id, by = %actor.username, "app deleted");
        self.signals.wake();
        self.signals.changes.send(Change::new(
            &app.id,
            Some(app.owner_id),
            ChangeKind::AppDestroyed,
        ));
        Ok(())
    }

    /// Tells followers of the change feed that `app` now exists.
    pub(crate) fn report_created(&self, app: &App) {
        self.signals.changes.send(Change::new(
            &app.id,
            Some(app.owner_id),
            ChangeKind::AppCreated,
        ));
    }

    pub(crate) async fn event(&self, app: &App, actor: &str, message: &str) {
        if let Err(e) = self.store.add_event(&app_object(app), actor, message).await {
            tracing::warn!(error = %e, "could not record event");
        }
    }
}
