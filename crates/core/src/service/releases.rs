//! Builds, config and releases: what an app runs, and going back to an earlier release.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::changes::roll_to;
use super::{Berth, app_object};
use crate::change::{DesiredChange, NewRelease};
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::rules::{self, ConfigPatch};
use crate::store::Page;

impl Berth {
    pub async fn current_release(&self, app: &App) -> CoreResult<Release> {
        match self.store.get_release(&app.id, app.release).await? {
            Some(release) => Ok(release),
            None => Err(self
                .missing_part(
                    app,
                    format!("release v{} of {} is missing", app.release, app.id),
                )
                .await),
        }
    }

    pub async fn current_config(&self, app: &App) -> CoreResult<Config> {
        let release = self.current_release(app).await?;
        match self.store.get_config(release.config).await? {
            Some(config) => Ok(config),
            None => Err(self
                .missing_part(app, format!("config of {} is missing", app.id))
                .await),
        }
    }

    /// A part of `app` that should exist but does not: gone with the app if
    /// it was deleted since it was read, else a broken store.
    async fn missing_part(&self, app: &App, what: String) -> CoreError {
        match self.store.get_app(&app.id).await {
            Ok(None) => CoreError::not_found(format!("app {} not found", app.id)),
            Ok(Some(_)) => CoreError::Internal(what.into()),
            Err(e) => e.into(),
        }
    }

    pub async fn current_build(&self, app: &App) -> CoreResult<Option<Build>> {
        let release = self.current_release(app).await?;
        match release.build {
            Some(b) => Ok(self.store.get_build(b).await?),
            None => Ok(None),
        }
    }

    /// Makes sure the engine has the image, pulling where a registry is in
    /// reach, and that the actor may use it: an image built from a catalog
    /// repository they cannot read does not exist for them.
    pub async fn require_image(&self, actor: &User, image: &str) -> CoreResult<()> {
        // Checked here, so the engine never sees a malformed reference (it
        // answers those with an error that reads like an outage).
        crate::image::ImageRef::parse(image).map_err(|e| match e {
            CoreError::Invalid { message, .. } => CoreError::invalid_field("image", message),
            other => other,
        })?;
        if !self.may_use_image(actor, image).await? {
            return Err(CoreError::invalid_field(
                "image",
                format!("image {image} not found on the engine"),
            ));
        }
        let present = self
            .runtime
            .image_exists(image)
            .await
            .map_err(CoreError::unavailable)?;
        if present {
            return Ok(());
        }
        match self.runtime.pull(image, self.settings.pull_timeout).await {
            Ok(()) => Ok(()),
            Err(e) => Err(CoreError::invalid_field(
                "image",
                format!("image {image} not found on the engine and could not be pulled ({e})"),
            )),
        }
    }

    pub async fn create_build(
        &self,
        actor: &User,
        id: &str,
        image: &str,
        procfile: BTreeMap<String, String>,
    ) -> CoreResult<(Build, Release)> {
        let app = self.app(actor, id, Level::User).await?;
        for (t, cmd) in &procfile {
            rules::validate_proc_type(t)?;
            if cmd.trim().is_empty() {
                return Err(CoreError::invalid_field(
                    "procfile",
                    format!("command for {t} is empty"),
                ));
            }
        }
        self.require_image(actor, image).await?;
        self.note_image_used(image).await;
        let build = Build {
            uuid: Uuid::new_v4(),
            app_id: app.id.clone(),
            owner: actor.username.clone(),
            image: image.to_string(),
            procfile: procfile.clone(),
            dockerfile: String::new(),
            sha: String::new(),
            command: None,
            entrypoint: None,
            created: now(),
        };
        let summary = format!("{} deployed {}", actor.username, image);
        let (procfile, build, summary) = (&procfile, &build, summary.as_str());
        let applied = self
            .change_app(&app, |app: App| async move {
                let app = &app;
                let previous = self.current_release(app).await?;
                // Types the new build cannot run are dropped; a first build starts one instance.
                let mut structure: Structure = app
                    .structure
                    .iter()
                    .filter(|(t, _)| {
                        procfile.contains_key(t.as_str())
                            || (procfile.is_empty() && *t == rules::DEFAULT_PROC_TYPE)
                    })
                    .map(|(t, n)| (t.clone(), *n))
                    .collect();
                if previous.build.is_none() && structure.values().all(|n| *n == 0) {
                    if procfile.is_empty() {
                        structure.insert(rules::DEFAULT_PROC_TYPE.into(), 1);
                    } else if procfile.contains_key("web") {
                        structure.insert("web".into(), 1);
                    }
                }
                Ok(DesiredChange {
                    expect_release: Some(app.release),
                    expect_structure: Some(app.structure.clone()),
                    structure: (structure != app.structure).then_some(structure),
                    release: Some(NewRelease {
                        new_build: Some(build.clone()),
                        build: Some(build.uuid),
                        new_config: None,
                        config: previous.config,
                        summary: summary.to_string(),
                    }),
                    ..DesiredChange::new(&app.id, &actor.username).event(summary)
                })
            })
            .await?;
        let release = self.deploy(actor, &app, applied).await?;
        Ok((build.clone(), release))
    }

    pub async fn list_builds(
        &self,
        actor: &User,
        id: &str,
        offset: i64,
        limit: i64,
    ) -> CoreResult<Page<Build>> {
        let app = self.app(actor, id, Level::Read).await?;
        Ok(self.store.list_builds(&app.id, offset, limit).await?)
    }

    /// The app's config as `actor` may read it: a pod's secrets are hidden
    /// below the level its own routes ask for them.
    pub async fn config(&self, actor: &User, id: &str) -> CoreResult<Config> {
        let app = self.app(actor, id, Level::Read).await?;
        let config = self.current_config(&app).await?;
        self.readable_config(actor, &app, config).await
    }

    async fn readable_config(
        &self,
        actor: &User,
        app: &App,
        mut config: Config,
    ) -> CoreResult<Config> {
        let level = self
            .level_on(actor, app.owner_id, &app_object(app), false)
            .await?
            .unwrap_or(Level::Read);
        crate::pods::hide_secrets(app, level, &mut config.values.values);
        Ok(config)
    }

    pub async fn set_config(
        &self,
        actor: &User,
        id: &str,
        patch: &ConfigPatch,
    ) -> CoreResult<(Config, Release)> {
        let app = self.app(actor, id, Level::User).await?;
        let applied = self
            .change_app(&app, |app: App| async move {
                let app = &app;
                let previous = self.current_release(app).await?;
                let base = self.current_config(app).await?;
                let values = rules::merge_config(&base.values, patch)?;
                self.settings
                    .limits
                    .check_memory_sizes(patch.memory.values().flatten())?;
                let config = Config::new(&app.id, &actor.username, values, now());
                let summary = format!(
                    "{} {}",
                    actor.username,
                    describe_config_change(&base.values, patch)
                );
                Ok(DesiredChange {
                    expect_release: Some(app.release),
                    release: Some(NewRelease {
                        new_build: None,
                        build: previous.build,
                        config: config.uuid,
                        new_config: Some(config),
                        summary: summary.clone(),
                    }),
                    ..DesiredChange::new(&app.id, &actor.username).event(summary)
                })
            })
            .await?;
        let config = applied
            .change
            .release
            .as_ref()
            .and_then(|r| r.new_config.clone())
            .ok_or_else(|| CoreError::Internal("a config change without a config".into()))?;
        let release = self.deploy(actor, &app, applied).await?;
        let config = self.readable_config(actor, &app, config).await?;
        Ok((config, release))
    }

    pub async fn list_releases(
        &self,
        actor: &User,
        id: &str,
        offset: i64,
        limit: i64,
    ) -> CoreResult<Page<Release>> {
        let app = self.app(actor, id, Level::Read).await?;
        Ok(self.store.list_releases(&app.id, offset, limit).await?)
    }

    pub async fn release(&self, actor: &User, id: &str, version: i64) -> CoreResult<Release> {
        let app = self.app(actor, id, Level::Read).await?;
        self.store
            .get_release(&app.id, version)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("release v{version} not found")))
    }

    /// A new release copying an older one's build and config.
    pub async fn rollback(
        &self,
        actor: &User,
        id: &str,
        version: Option<i64>,
    ) -> CoreResult<Release> {
        let app = self.app(actor, id, Level::User).await?;
        let target_version = rules::rollback_target(app.release, version)?;
        let target = self
            .store
            .get_release(&app.id, target_version)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("release v{target_version} not found")))?;
        if target.build.is_none() {
            return Err(CoreError::invalid_field(
                "version",
                format!(
                    "cannot roll back to v{target_version}: it has no build, so nothing could run"
                ),
            ));
        }
        let target = &target;
        let applied = self
            .change_app(&app, |app: App| async move {
                let app = &app;
                Ok(roll_to(app, &actor.username, target))
            })
            .await?;
        self.deploy(actor, &app, applied).await
    }
}

/// Sorts one config section's patched keys into added, changed and removed.
fn sort_changes<V, B>(
    prefix: &str,
    patch: &BTreeMap<String, Option<V>>,
    base: &BTreeMap<String, B>,
    changes: &mut [Vec<String>; 3],
) {
    for (key, value) in patch {
        let slot = match (value.is_some(), base.contains_key(key)) {
            (true, false) => 0,
            (true, true) => 1,
            (false, _) => 2,
        };
        changes[slot].push(format!("{prefix}{key}"));
    }
}

/// "added FOO, BAR, changed BAZ, removed QUX" as Deis summarises config releases.
fn describe_config_change(base: &ConfigValues, patch: &ConfigPatch) -> String {
    let mut changes: [Vec<String>; 3] = Default::default();
    sort_changes("", &patch.values, &base.values, &mut changes);
    sort_changes("memory ", &patch.memory, &base.memory, &mut changes);
    sort_changes("cpu ", &patch.cpu, &base.cpu, &mut changes);
    sort_changes("tag ", &patch.tags, &base.tags, &mut changes);
    let parts: Vec<String> = ["added", "changed", "removed"]
        .into_iter()
        .zip(changes)
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(verb, keys)| format!("{verb} {}", keys.join(", ")))
        .collect();
    if parts.is_empty() {
        "changed nothing".into()
    } else {
        parts.join(", ")
    }
}
