//! Use cases. Every dialect calls these; each one authorises the actor,
//! validates, writes desired state in one store call and wakes the reconciler.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use uuid::Uuid;

use crate::auth;
use crate::datasets::Datasets;
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::plan::{Convergence, convergence};
use crate::reconciler::{Signals, release_env, shell_command};
use crate::rules::{self, ConfigPatch};
use crate::runtime::{ContainerSpec, LABEL_APP, LABEL_JOB, Runtime, RuntimeError};
use crate::store::{NewRelease, Page, Store};

#[derive(Debug, Clone)]
pub struct Settings {
    /// App URLs are `<app>.<domain>`.
    pub domain: String,
    /// How long synchronous dialects wait for the engine to converge.
    pub converge_timeout: Duration,
    pub run_timeout: Duration,
    pub pull_timeout: Duration,
    /// Signs the JWTs Tapis clients get; kept in the data dir.
    pub jwt_key: Vec<u8>,
    /// Tenant named in JWT claims and Tapis answers.
    pub tenant: String,
    /// Where data sets live (`<data_dir>/datasets`).
    pub data_dir: std::path::PathBuf,
    /// How long a finished script job is kept (logs, diff, files) before it is removed.
    pub job_retention: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            domain: "berth.local".into(),
            converge_timeout: Duration::from_secs(120),
            run_timeout: Duration::from_secs(600),
            pull_timeout: Duration::from_secs(20),
            jwt_key: Vec::new(),
            tenant: "dev".into(),
            data_dir: "./berth-data".into(),
            job_retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// The grant object name of an app; by uuid, so a reused id never inherits.
pub fn app_object(app: &App) -> String {
    format!("app:{}", app.uuid)
}

pub struct Berth {
    pub store: Arc<dyn Store>,
    pub runtime: Arc<dyn Runtime>,
    pub(crate) datasets: Arc<dyn Datasets>,
    pub signals: Arc<Signals>,
    pub settings: Settings,
}

impl Berth {
    pub fn new(
        store: Arc<dyn Store>,
        runtime: Arc<dyn Runtime>,
        datasets: Arc<dyn Datasets>,
        signals: Arc<Signals>,
        settings: Settings,
    ) -> Self {
        Berth {
            store,
            runtime,
            datasets,
            signals,
            settings,
        }
    }

    // ---------------------------------------------------------------- identity

    pub async fn register(&self, username: &str, password: &str, email: &str) -> CoreResult<User> {
        auth::validate_username(username)?;
        auth::validate_password(password)?;
        if !email.is_empty() && (!email.contains('@') || email.len() > 254) {
            return Err(CoreError::invalid_field(
                "email",
                "Enter a valid email address.",
            ));
        }
        let hash = auth::hash_password(password)?;
        match self.store.create_user(username, email, &hash).await {
            Ok(u) => Ok(u),
            Err(crate::store::StoreError::Conflict(_)) => Err(CoreError::Conflict(format!(
                "A user with that username already exists: {username}"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a password; on success returns the user. Failures never say which part was wrong.
    pub async fn check_password(&self, username: &str, password: &str) -> CoreResult<User> {
        let user = self.store.user_by_name(username).await?;
        match user {
            Some(u) if u.is_active && auth::verify_password(password, &u.password_hash) => Ok(u),
            _ => Err(CoreError::Unauthenticated(
                "Unable to log in with provided credentials.".into(),
            )),
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
    /// (stored by hash, revocable), whose claims carry its id and user.
    pub async fn issue_jwt(
        &self,
        user: &User,
        ttl: time::Duration,
    ) -> CoreResult<(String, Timestamp)> {
        let created = now();
        let token = Token {
            id: Uuid::new_v4(),
            user_id: user.id,
            created,
            expires: Some(created + ttl),
        };
        let expires = created + ttl;
        let claims = serde_json::json!({
            "jti": token.id,
            "sub": format!("{}@{}", user.username, self.settings.tenant),
            "iss": "berth",
            "iat": created.unix_timestamp(),
            "exp": expires.unix_timestamp(),
            "tapis/username": user.username,
            "tapis/tenant_id": self.settings.tenant,
            "tapis/token_type": "access",
        });
        let jwt = auth::sign_jwt(&self.settings.jwt_key, &claims);
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
            _ => Err(CoreError::Unauthenticated("Invalid token.".into())),
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
                if !actor.is_admin {
                    return Err(CoreError::Forbidden(
                        "You do not have permission to perform this action.".into(),
                    ));
                }
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
            Err(CoreError::Forbidden(
                "You do not have permission to perform this action.".into(),
            ))
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

    // ------------------------------------------------------------------- apps

    /// The app if the actor may act on it at `need`; to anyone with no access it does not exist.
    pub async fn app(&self, actor: &User, id: &str, need: Level) -> CoreResult<App> {
        let not_found = || CoreError::not_found(format!("app {id} not found"));
        let app = self.store.get_app(id).await?.ok_or_else(not_found)?;
        let level = if actor.is_admin || app.owner_id == actor.id {
            Level::Admin
        } else {
            self.store
                .grant_level(&app_object(&app), actor.id)
                .await?
                .ok_or_else(not_found)?
        };
        if level < need {
            return Err(CoreError::Forbidden(
                "You do not have permission to perform this action.".into(),
            ));
        }
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
        let app = App {
            id: id.clone(),
            uuid: Uuid::new_v4(),
            owner_id: actor.id,
            owner: actor.username.clone(),
            kind,
            desired: Desired::On,
            structure: Structure::new(),
            release: 1,
            error: None,
            stop_at: None,
            meta: serde_json::Value::Null,
            created: t,
            updated: t,
        };
        let config = Config {
            uuid: Uuid::new_v4(),
            app_id: id.clone(),
            owner: actor.username.clone(),
            values: ConfigValues::default(),
            created: t,
        };
        let summary = format!("{} created initial release", actor.username);
        let release = Release {
            uuid: Uuid::new_v4(),
            app_id: id.clone(),
            owner: actor.username.clone(),
            version: 1,
            build: None,
            config: config.uuid,
            summary: summary.clone(),
            created: t,
        };
        match self
            .store
            .create_app(&app, &config, None, std::slice::from_ref(&release))
            .await
        {
            Ok(()) => {}
            Err(crate::store::StoreError::Conflict(_)) => {
                return Err(CoreError::Conflict(format!(
                    "App with this id already exists: {id}"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.event(&app, &actor.username, &summary).await;
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
                .runtime
                .list(&[(LABEL_APP, Some(app.id.as_str()))])
                .await
                .map(|cs| {
                    cs.iter()
                        .any(|c| c.label(crate::runtime::LABEL_INSTANCE).is_some())
                })
                .unwrap_or(false);
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
        Ok(())
    }

    pub(crate) async fn event(&self, app: &App, actor: &str, message: &str) {
        if let Err(e) = self.store.add_event(&app_object(app), actor, message).await {
            tracing::warn!(error = %e, "could not record event");
        }
    }

    // ------------------------------------------------- builds, config, releases

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
            Ok(Some(_)) => CoreError::Internal(what),
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

    /// Makes sure the engine has the image, pulling where a registry is in reach.
    pub async fn require_image(&self, image: &str) -> CoreResult<()> {
        // Checked here, so the engine never sees a malformed reference (it
        // answers those with an error that reads like an outage).
        crate::image::ImageRef::parse(image).map_err(|e| match e {
            CoreError::Invalid { message, .. } => CoreError::invalid_field("image", message),
            other => other,
        })?;
        let present = self
            .runtime
            .image_exists(image)
            .await
            .map_err(|e| CoreError::Unavailable(e.to_string()))?;
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
        self.require_image(image).await?;
        self.note_image_used(image).await;
        let previous = self.current_release(&app).await?;
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
        // Types the new build cannot run are dropped; a first build starts one instance.
        let mut structure: Structure = app
            .structure
            .iter()
            .filter(|(t, _)| {
                procfile.contains_key(*t) || (procfile.is_empty() && *t == rules::DEFAULT_PROC_TYPE)
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
        if structure != app.structure {
            self.store.set_structure(&app.id, &structure).await?;
        }
        let summary = format!("{} deployed {}", actor.username, image);
        let release = self
            .store
            .create_release(&NewRelease {
                app_id: app.id.clone(),
                owner: actor.username.clone(),
                new_build: Some(build.clone()),
                build: Some(build.uuid),
                new_config: None,
                config: previous.config,
                summary: summary.clone(),
            })
            .await?;
        self.event(&app, &actor.username, &summary).await;
        self.deploy(actor, &app, &release).await?;
        Ok((build, release))
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

    pub async fn config(&self, actor: &User, id: &str) -> CoreResult<Config> {
        let app = self.app(actor, id, Level::Read).await?;
        self.current_config(&app).await
    }

    pub async fn set_config(
        &self,
        actor: &User,
        id: &str,
        patch: &ConfigPatch,
    ) -> CoreResult<(Config, Release)> {
        let app = self.app(actor, id, Level::User).await?;
        let previous = self.current_release(&app).await?;
        let base = self.current_config(&app).await?;
        let values = rules::merge_config(&base.values, patch)?;
        let config = Config {
            uuid: Uuid::new_v4(),
            app_id: app.id.clone(),
            owner: actor.username.clone(),
            values,
            created: now(),
        };
        let summary = format!(
            "{} {}",
            actor.username,
            describe_config_change(&base.values, patch)
        );
        let release = self
            .store
            .create_release(&NewRelease {
                app_id: app.id.clone(),
                owner: actor.username.clone(),
                new_build: None,
                build: previous.build,
                new_config: Some(config.clone()),
                config: config.uuid,
                summary: summary.clone(),
            })
            .await?;
        self.event(&app, &actor.username, &summary).await;
        self.deploy(actor, &app, &release).await?;
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
        let release = self.roll_to(&app, &actor.username, &target).await?;
        self.deploy(actor, &app, &release).await?;
        Ok(release)
    }

    async fn roll_to(&self, app: &App, actor: &str, target: &Release) -> CoreResult<Release> {
        let summary = format!("{actor} rolled back to v{}", target.version);
        let release = self
            .store
            .create_release(&NewRelease {
                app_id: app.id.clone(),
                owner: actor.to_string(),
                new_build: None,
                build: target.build,
                new_config: None,
                config: target.config,
                summary: summary.clone(),
            })
            .await?;
        self.event(app, actor, &summary).await;
        Ok(release)
    }

    /// Waits for a new release to run. If it cannot, the app goes back to the
    /// release before it (as a new release) and the error says why.
    async fn deploy(&self, actor: &User, app: &App, release: &Release) -> CoreResult<()> {
        if let Convergence::Failed(why) = self.wait_converged(&app.id).await? {
            let previous = self.store.get_release(&app.id, release.version - 1).await?;
            if let Some(previous) = previous {
                self.roll_to(app, &actor.username, &previous).await?;
                self.signals.wake();
            }
            return Err(CoreError::Failed(format!(
                "release v{} failed to deploy: {why}",
                release.version
            )));
        }
        Ok(())
    }

    /// Wakes the reconciler, then checks the store after each of its passes
    /// until the app converged, failed, or the deadline passed (which counts
    /// as failure).
    pub async fn wait_converged(&self, app_id: &str) -> CoreResult<Convergence> {
        let deadline = tokio::time::Instant::now() + self.settings.converge_timeout;
        // Taken before the wake, so the pass it triggers is the one awaited.
        let mut ticket = self.signals.ticket();
        self.signals.wake();
        loop {
            let Some(desired) = self.store.desired_app(app_id).await? else {
                return Ok(Convergence::Converged);
            };
            let rows = self.store.list_instances(Some(app_id)).await?;
            match convergence(&desired, &rows) {
                Convergence::Pending => {}
                done => return Ok(done),
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Convergence::Failed(format!(
                    "not converged after {} s",
                    self.settings.converge_timeout.as_secs()
                )));
            }
            self.signals
                .pass_after(ticket, Duration::from_millis(250))
                .await;
            ticket = self.signals.last_finished();
        }
    }

    // ------------------------------------------------------- scale, instances

    /// Sets instance counts for the given process types and waits for the
    /// engine; on failure the previous counts are restored.
    pub async fn scale(
        &self,
        actor: &User,
        id: &str,
        counts: &BTreeMap<String, u32>,
    ) -> CoreResult<()> {
        let app = self.app(actor, id, Level::User).await?;
        if counts.is_empty() {
            return Err(CoreError::invalid(
                "Invalid scaling format: give {\"type\": count}",
            ));
        }
        let build = self.current_build(&app).await?;
        if counts.values().any(|n| *n > 0) && build.is_none() {
            return Err(CoreError::invalid("No build associated with this release"));
        }
        if let Some(build) = &build {
            for t in counts.keys() {
                let known = build.procfile.contains_key(t)
                    || (build.procfile.is_empty() && t == rules::DEFAULT_PROC_TYPE);
                if !known {
                    return Err(CoreError::invalid(format!(
                        "Container type {t} does not exist in application"
                    )));
                }
            }
        }
        let mut structure = app.structure.clone();
        for (t, n) in counts {
            structure.insert(t.clone(), *n);
        }
        self.store.set_structure(&app.id, &structure).await?;
        let summary = format!(
            "{} scaled {}",
            actor.username,
            counts
                .iter()
                .map(|(t, n)| format!("{t}={n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.event(&app, &actor.username, &summary).await;
        if let Convergence::Failed(why) = self.wait_converged(&app.id).await? {
            self.store.set_structure(&app.id, &app.structure).await?;
            self.signals.wake();
            self.event(
                &app,
                &actor.username,
                &format!("scaling failed, counts restored: {why}"),
            )
            .await;
            return Err(CoreError::Failed(format!("scaling failed: {why}")));
        }
        Ok(())
    }

    pub async fn instances(
        &self,
        actor: &User,
        id: &str,
        proc_type: Option<&str>,
    ) -> CoreResult<Vec<Instance>> {
        let app = self.app(actor, id, Level::Read).await?;
        let mut rows = self.store.list_instances(Some(&app.id)).await?;
        rows.retain(|r| {
            r.state != InstanceState::Destroyed && proc_type.is_none_or(|t| r.proc_type == t)
        });
        rows.sort_by(|a, b| {
            a.proc_type
                .cmp(&b.proc_type)
                .then(a.num.cmp(&b.num))
                .then(a.release.cmp(&b.release))
        });
        Ok(rows)
    }

    /// Restarts the app's live instances (all, of one type, or one) and
    /// waits until they run again; returns them.
    pub async fn restart(
        &self,
        actor: &User,
        id: &str,
        proc_type: Option<&str>,
        num: Option<u32>,
    ) -> CoreResult<Vec<Instance>> {
        let app = self.app(actor, id, Level::User).await?;
        let targets: Vec<Instance> = self
            .instances(actor, id, proc_type)
            .await?
            .into_iter()
            .filter(|i| i.release == app.release && num.is_none_or(|n| i.num == n))
            .collect();
        if targets.is_empty() && (proc_type.is_some() || num.is_some()) {
            return Err(CoreError::not_found("no such container"));
        }
        let uuids: Vec<Uuid> = targets.iter().map(|i| i.uuid).collect();
        self.store.request_restart(&uuids).await?;
        let what = match (proc_type, num) {
            (Some(t), Some(n)) => format!("{t}.{n}"),
            (Some(t), None) => t.to_string(),
            _ => "all containers".into(),
        };
        self.event(
            &app,
            &actor.username,
            &format!("{} restarted {what}", actor.username),
        )
        .await;
        if let Convergence::Failed(why) = self.wait_converged(&app.id).await? {
            return Err(CoreError::Failed(format!("restart failed: {why}")));
        }
        let mut after = self.instances(actor, id, proc_type).await?;
        after.retain(|i| uuids.contains(&i.uuid));
        Ok(after)
    }

    // ---------------------------------------------------------------- logs, run

    /// The app's event log, then recent output of its containers, one line each.
    pub async fn logs(
        &self,
        actor: &User,
        id: &str,
        lines: Option<usize>,
    ) -> CoreResult<Vec<String>> {
        let app = self.app(actor, id, Level::Read).await?;
        let limit = lines.unwrap_or(100).clamp(1, 10_000);
        let mut out: Vec<String> = self
            .store
            .list_events(&app_object(&app), limit as i64)
            .await?
            .into_iter()
            .map(|e| format!("{} deis[api]: {}", clock(e.created), e.message))
            .collect();
        out.extend(self.container_output(&app, limit).await?);
        let skip = out.len().saturating_sub(limit);
        Ok(out.split_off(skip))
    }

    /// The last `limit` lines each of the app's containers wrote, prefixed
    /// with time and `app[type.num]:`.
    pub async fn container_output(&self, app: &App, limit: usize) -> CoreResult<Vec<String>> {
        let mut out = Vec::new();
        let instances = self.store.list_instances(Some(&app.id)).await?;
        for inst in instances {
            let Some(engine_id) = inst.engine_id.as_deref() else {
                continue;
            };
            let Ok(mut stream) = self.runtime.logs(engine_id, Some(limit), false).await else {
                continue;
            };
            while let Some(Ok(line)) = stream.next().await {
                let when = line.timestamp.map(clock).unwrap_or_default();
                out.push(format!(
                    "{when} {}[{}.{}]: {}",
                    app.id, inst.proc_type, inst.num, line.text
                ));
            }
        }
        Ok(out)
    }

    /// New output of the app's current containers, as it is written, one line per item.
    pub async fn follow_logs(
        &self,
        actor: &User,
        id: &str,
    ) -> CoreResult<futures::stream::BoxStream<'static, String>> {
        let app = self.app(actor, id, Level::Read).await?;
        let mut streams = Vec::new();
        for inst in self.store.list_instances(Some(&app.id)).await? {
            let Some(engine_id) = inst.engine_id.as_deref() else {
                continue;
            };
            let Ok(stream) = self.runtime.logs(engine_id, Some(0), true).await else {
                continue;
            };
            let prefix = format!("{}[{}.{}]:", app.id, inst.proc_type, inst.num);
            streams.push(
                stream
                    .filter_map(move |line| {
                        let out = line.ok().map(|l| {
                            format!(
                                "{} {prefix} {}",
                                l.timestamp.map(clock).unwrap_or_default(),
                                l.text
                            )
                        });
                        async move { out }
                    })
                    .boxed(),
            );
        }
        Ok(futures::stream::select_all(streams).boxed())
    }

    /// Runs a command line in a one-off container of the current release with its config.
    pub async fn run(&self, actor: &User, id: &str, command: &str) -> CoreResult<(i64, String)> {
        let app = self.app(actor, id, Level::User).await?;
        if command.trim().is_empty() {
            return Err(CoreError::invalid_field(
                "command",
                "This field may not be blank.",
            ));
        }
        let build = self.current_build(&app).await?.ok_or_else(|| {
            CoreError::invalid("No build associated with this release to run this command")
        })?;
        let config = self.current_config(&app).await?;
        let job = Job {
            uuid: Uuid::new_v4(),
            owner_id: actor.id,
            app_id: Some(app.id.clone()),
            kind: "run".into(),
            image: build.image.clone(),
            command: command.to_string(),
            state: JobState::Running,
            exit_code: None,
            output: String::new(),
            created: now(),
            finished: None,
        };
        self.store.insert_job(&job).await?;
        let spec = ContainerSpec {
            name: format!(
                "berth_{}_run_{}",
                app.id,
                &job.uuid.simple().to_string()[..8]
            ),
            image: build.image.clone(),
            entrypoint: Some(Vec::new()),
            cmd: Some(shell_command(command)),
            env: release_env(&app.id, app.release, &config),
            labels: BTreeMap::from([
                (LABEL_APP.to_string(), app.id.clone()),
                (LABEL_JOB.to_string(), job.uuid.to_string()),
            ]),
            ..ContainerSpec::default()
        };
        let result = self.run_container(&spec, self.settings.run_timeout).await;
        let (state, code, output) = match &result {
            Ok(r) => (
                if r.exit_code == 0 {
                    JobState::Completed
                } else {
                    JobState::Failed
                },
                Some(r.exit_code),
                r.output.clone(),
            ),
            Err(e) => (JobState::Failed, None, e.to_string()),
        };
        self.store
            .finish_job(job.uuid, state, code, &output)
            .await?;
        self.event(
            &app,
            &actor.username,
            &format!(
                "{} ran '{}' (exit {})",
                actor.username,
                command,
                code.unwrap_or(-1)
            ),
        )
        .await;
        let r = result.map_err(|e| match e {
            RuntimeError::ImageNotFound(i) => {
                CoreError::invalid(format!("image {i} not found on the engine"))
            }
            RuntimeError::Timeout(m) => CoreError::Failed(format!("command timed out: {m}")),
            other => CoreError::Unavailable(other.to_string()),
        })?;
        Ok((r.exit_code, r.output))
    }

    /// Creates, starts and waits for a container, returns its output and
    /// always removes it.
    pub async fn run_container(
        &self,
        spec: &ContainerSpec,
        timeout: Duration,
    ) -> Result<crate::runtime::RunOutput, RuntimeError> {
        let id = self.runtime.create(spec).await?;
        let outcome = async {
            self.runtime.start(&id).await?;
            let code = tokio::time::timeout(timeout, self.runtime.wait(&id))
                .await
                .map_err(|_| RuntimeError::Timeout(format!("after {} s", timeout.as_secs())))??;
            let mut output = String::new();
            let mut stream = self.runtime.logs(&id, None, false).await?;
            while let Some(line) = stream.next().await {
                output.push_str(&line?.text);
                output.push('\n');
            }
            Ok(crate::runtime::RunOutput {
                exit_code: code,
                output,
            })
        }
        .await;
        let _ = self.runtime.remove(&id).await;
        outcome
    }

    // -------------------------------------------------- domains, keys, perms

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
        match self.store.add_domain(&d).await {
            Err(crate::store::StoreError::Conflict(_)) => Err(CoreError::Conflict(format!(
                "Domain is already in use by another application: {domain}"
            ))),
            other => {
                other?;
                self.event(
                    &app,
                    &actor.username,
                    &format!("{} added domain {domain}", actor.username),
                )
                .await;
                Ok(d)
            }
        }
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
            return Err(CoreError::invalid_field(
                "id",
                "This field may not be blank.",
            ));
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
        match self.store.add_key(actor.id, &key).await {
            Err(crate::store::StoreError::Conflict(_)) => Err(CoreError::Conflict(
                "This key is already registered (same id or same public key)".into(),
            )),
            other => other.map(|_| key).map_err(Into::into),
        }
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

    /// `user:LEVEL` for an object's owner (always ADMIN) and everyone granted on it.
    pub async fn grant_list(&self, object: &str, owner: &str) -> CoreResult<Vec<String>> {
        let mut out = vec![format!("{owner}:ADMIN")];
        for (user, level) in self.store.grantees(object).await? {
            if user != owner {
                out.push(format!("{user}:{}", level.as_str()));
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

/// RFC 3339 text of a timestamp, as answers carry it.
pub fn rfc3339(t: Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn clock(t: Timestamp) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
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
