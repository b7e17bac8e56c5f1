//! Use cases of dialects that describe a workload whole (image, command,
//! environment, size, ports, count) and act asynchronously: Tutum
//! applications today, Tapis pods next. Same apps, builds, configs and
//! releases as the Deis use cases in [`crate::service`].

use futures::future::join_all;
use uuid::Uuid;

use crate::change::{DesiredChange, InstanceSet, NewRelease};
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::plan::{Phase, phase};
use crate::rules;
use crate::service::Berth;
use crate::store::Page;

/// A workload as such dialects submit it.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    /// Base of the app id; made unique with a `-N` suffix when taken.
    pub name: String,
    pub kind: AppKind,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// The one process type the workload runs as.
    pub proc_type: String,
    pub count: u32,
    pub config: ConfigValues,
    pub desired: Desired,
    /// Use `name` as the id exactly (Tapis pod ids): a taken id is a conflict.
    pub exact_id: bool,
    pub meta: serde_json::Value,
    pub stop_at: Option<Timestamp>,
}

/// Where a deleted app is on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Some of its containers are still there.
    Terminating,
    /// None is left.
    Terminated,
}

/// What changes in a workload's definition; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct WorkloadChange {
    pub image: Option<String>,
    pub command: Option<Option<Vec<String>>>,
    pub entrypoint: Option<Option<Vec<String>>>,
    pub config: Option<ConfigValues>,
}

impl WorkloadChange {
    pub fn is_empty(&self) -> bool {
        self.image.is_none()
            && self.command.is_none()
            && self.entrypoint.is_none()
            && self.config.is_none()
    }
}

/// A workload with everything its views show.
#[derive(Debug, Clone)]
pub struct Workload {
    pub app: App,
    pub build: Option<Build>,
    pub config: Config,
    pub instances: Vec<Instance>,
    pub phase: Phase,
}

/// An app as a list shows it: its instance rows and its phase.
#[derive(Debug, Clone)]
pub struct ListedApp {
    pub app: App,
    pub instances: Vec<Instance>,
    pub phase: Phase,
}

impl Workload {
    pub fn proc_type(&self) -> String {
        self.app
            .structure
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| rules::DEFAULT_PROC_TYPE.to_string())
    }

    pub fn target(&self) -> u32 {
        self.app.structure.values().sum()
    }
}

impl Berth {
    /// Creates app, config, build and scale in one transaction and lets the
    /// reconciler start it; returns at once.
    pub async fn create_workload(&self, actor: &User, spec: WorkloadSpec) -> CoreResult<App> {
        rules::validate_proc_type(&spec.proc_type)?;
        rules::validate_scale(&spec.proc_type, i64::from(spec.count))?;
        validate_config(&spec.config)?;
        self.settings
            .limits
            .check_memory_sizes(spec.config.memory.values())?;
        self.require_image(actor, &spec.image).await?;
        self.note_image_used(&spec.image).await;
        let base = if spec.exact_id {
            rules::validate_app_id(&spec.name)?;
            spec.name.clone()
        } else {
            rules::slugify(&spec.name)
        };
        let attempts = if spec.exact_id { 1 } else { 50 };
        let asks = crate::quota::desired_instances(
            spec.desired == Desired::On,
            &[(spec.proc_type.clone(), spec.count)].into(),
        );
        let _quota = self.hold_containers_quota(actor.id, asks).await?;
        let t = now();
        for attempt in 1..=attempts {
            let id = if attempt == 1 {
                base.clone()
            } else {
                format!("{base}-{attempt}")
            };
            if rules::validate_app_id(&id).is_err() || self.store.get_app(&id).await?.is_some() {
                continue;
            }
            let app = App {
                desired: spec.desired,
                structure: [(spec.proc_type.clone(), spec.count)].into(),
                release: 2,
                stop_at: spec.stop_at,
                meta: spec.meta.clone(),
                ..App::new(&id, actor, spec.kind, t)
            };
            let config = Config::new(&id, &actor.username, spec.config.clone(), t);
            let build = Build {
                uuid: Uuid::new_v4(),
                app_id: id.clone(),
                owner: actor.username.clone(),
                image: spec.image.clone(),
                procfile: Default::default(),
                dockerfile: String::new(),
                sha: String::new(),
                command: spec.command.clone(),
                entrypoint: spec.entrypoint.clone(),
                created: t,
            };
            let release = |version: i64, build: Option<Uuid>, summary: String| {
                Release::new(
                    &id,
                    &actor.username,
                    version,
                    (build, config.uuid),
                    summary,
                    t,
                )
            };
            let releases = [
                release(
                    1,
                    None,
                    format!("{} created initial release", actor.username),
                ),
                release(
                    2,
                    Some(build.uuid),
                    format!("{} deployed {}", actor.username, spec.image),
                ),
            ];
            match self
                .store
                .create_app(&app, &config, Some(&build), &releases)
                .await
            {
                Err(crate::store::StoreError::Conflict(_)) => continue,
                other => other?,
            }
            for r in &releases {
                self.event(&app, &actor.username, &r.summary).await;
            }
            self.signals.wake();
            self.report_created(&app);
            return Ok(app);
        }
        if spec.exact_id {
            return Err(CoreError::Conflict(format!("{base} already exists")));
        }
        Err(CoreError::Conflict(format!("no free name like {base}")))
    }

    pub async fn workload(&self, actor: &User, app: App) -> CoreResult<Workload> {
        let _ = actor;
        let build = self.current_build(&app).await?;
        let config = self.current_config(&app).await?;
        let id = app.id.clone();
        let ListedApp {
            app,
            instances,
            phase,
        } = self
            .listed_app(app)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("app {id} not found")))?;
        Ok(Workload {
            app,
            build,
            config,
            instances,
            phase,
        })
    }

    /// Every app the actor may see, as workloads.
    pub async fn workloads(&self, actor: &User) -> CoreResult<Vec<Workload>> {
        let apps = self.store.list_apps(actor, 0, i64::MAX).await?.items;
        let mut out = Vec::with_capacity(apps.len());
        for app in apps {
            match self.workload(actor, app).await {
                Ok(w) => out.push(w),
                // Deleted while the list was being read.
                Err(CoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// One page of the apps the actor may see (as `list_apps` pages them),
    /// each with its instance rows and phase: what a list of apps shows.
    pub async fn listed_apps(
        &self,
        actor: &User,
        offset: i64,
        limit: i64,
    ) -> CoreResult<Page<ListedApp>> {
        let page = self.store.list_apps(actor, offset, limit).await?;
        let listed = join_all(page.items.into_iter().map(|app| self.listed_app(app))).await;
        let mut items = Vec::with_capacity(listed.len());
        for app in listed {
            // `None`: deleted while the list was being read.
            if let Some(app) = app? {
                items.push(app);
            }
        }
        Ok(Page {
            items,
            total: page.total,
        })
    }

    /// `app` with its instance rows and phase; `None` once it is deleted.
    async fn listed_app(&self, app: App) -> CoreResult<Option<ListedApp>> {
        let (instances, desired) = futures::try_join!(
            self.store.list_instances(Some(&app.id)),
            self.store.desired_app(&app.id),
        )?;
        Ok(desired.map(|desired| ListedApp {
            phase: phase(&desired, &instances),
            app,
            instances,
        }))
    }

    /// Apps deleted in the last few minutes that the actor owned (or all, for administrators).
    pub async fn recent_tombstones(&self, actor: &User) -> CoreResult<Vec<Tombstone>> {
        let since = now() - TOMBSTONE_KEEP;
        Ok(self.store.list_tombstones(actor, since).await?)
    }

    /// An app by uuid, with the same visibility rules as by id.
    pub async fn app_by_uuid(&self, actor: &User, uuid: Uuid, need: Level) -> CoreResult<App> {
        let app = self
            .store
            .get_app_by_uuid(uuid)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("application {uuid} not found")))?;
        self.app(actor, &app.id, need).await
    }

    /// A tombstone by app uuid, if the actor owned the app (or is an administrator).
    pub async fn tombstone(&self, actor: &User, uuid: Uuid) -> CoreResult<Option<Tombstone>> {
        Ok(self
            .store
            .get_tombstone(uuid)
            .await?
            .filter(|t| crate::access::owns(actor, t.app.owner_id)))
    }

    /// How far a deleted app's teardown is: terminating while the engine
    /// still has any container of it (its instances or one-off runs).
    pub async fn lifecycle(&self, tombstone: &Tombstone) -> Lifecycle {
        if self.app_containers(&tombstone.app.id).await.is_empty() {
            Lifecycle::Terminated
        } else {
            Lifecycle::Terminating
        }
    }

    /// The instance as it is stored now; one no longer stored has been destroyed.
    pub async fn instance_now(&self, before: Instance) -> Instance {
        match self.store.get_instance(before.uuid).await {
            Ok(Some(now)) => now,
            _ => Instance {
                state: InstanceState::Destroyed,
                ..before
            },
        }
    }

    /// Turns the app on or off; returns at once.
    pub async fn set_desired(&self, actor: &User, app: &App, desired: Desired) -> CoreResult<()> {
        self.may_run(actor, app).await?;
        self.change_app(app, |app: App| async move {
            Ok(desired_change(actor, &app, desired))
        })
        .await?;
        Ok(())
    }

    /// Sets one process type's count; returns at once.
    pub async fn set_count(
        &self,
        actor: &User,
        app: &App,
        proc_type: &str,
        count: i64,
    ) -> CoreResult<()> {
        self.may_run(actor, app).await?;
        let count = rules::validate_scale(proc_type, count)?;
        let counts = [(proc_type.to_string(), count)].into();
        self.set_counts(actor, app, &counts).await?;
        Ok(())
    }

    /// Makes a release with the changed definition; returns at once.
    pub async fn change_workload(
        &self,
        actor: &User,
        app: &App,
        change: WorkloadChange,
    ) -> CoreResult<Option<Release>> {
        if change.is_empty() {
            return Ok(None);
        }
        let change = &change;
        let applied = self
            .change_app(app, |app: App| async move {
                let app = &app;
                let release = self.workload_release(actor, app, change).await?;
                Ok(DesiredChange {
                    expect_release: Some(app.release),
                    ..DesiredChange::new(&app.id, &actor.username)
                        .event(&release.summary)
                        .with_release(release)
                })
            })
            .await?;
        Ok(applied.release)
    }

    /// The release a workload change makes, from the app's current one.
    pub(crate) async fn workload_release(
        &self,
        actor: &User,
        app: &App,
        change: &WorkloadChange,
    ) -> CoreResult<NewRelease> {
        let previous = self.current_release(app).await?;
        let current_build = self.current_build(app).await?;
        let new_build =
            if change.image.is_some() || change.command.is_some() || change.entrypoint.is_some() {
                let base = current_build
                    .clone()
                    .ok_or_else(|| CoreError::invalid("the app has no image yet"))?;
                let image = change.image.clone().unwrap_or(base.image.clone());
                self.require_image(actor, &image).await?;
                Some(Build {
                    uuid: Uuid::new_v4(),
                    image,
                    command: change.command.clone().unwrap_or(base.command.clone()),
                    entrypoint: change.entrypoint.clone().unwrap_or(base.entrypoint.clone()),
                    created: now(),
                    owner: actor.username.clone(),
                    ..base
                })
            } else {
                None
            };
        let new_config = match &change.config {
            Some(values) => {
                validate_config(values)?;
                self.settings
                    .limits
                    .check_memory_sizes(values.memory.values())?;
                Some(Config {
                    uuid: Uuid::new_v4(),
                    app_id: app.id.clone(),
                    owner: actor.username.clone(),
                    values: values.clone(),
                    created: now(),
                })
            }
            None => None,
        };
        let summary = match &new_build {
            Some(b) => format!("{} deployed {}", actor.username, b.image),
            None => format!("{} changed the configuration", actor.username),
        };
        Ok(NewRelease {
            build: new_build.as_ref().map(|b| b.uuid).or(previous.build),
            new_build,
            config: new_config.as_ref().map_or(previous.config, |c| c.uuid),
            new_config,
            summary,
        })
    }

    /// Replaces every instance with a fresh one of the same definition.
    pub async fn redeploy(&self, actor: &User, app: &App) -> CoreResult<Release> {
        self.may_run(actor, app).await?;
        let applied = self
            .change_app(app, |app: App| async move {
                let app = &app;
                let current = self.current_release(app).await?;
                if current.build.is_none() {
                    return Err(CoreError::invalid("the app has no image to redeploy"));
                }
                let summary = format!("{} redeployed v{}", actor.username, current.version);
                Ok(DesiredChange {
                    expect_release: Some(app.release),
                    ..DesiredChange::new(&app.id, &actor.username)
                        .event(&summary)
                        .with_release(NewRelease {
                            new_build: None,
                            build: current.build,
                            new_config: None,
                            config: current.config,
                            summary,
                        })
                })
            })
            .await?;
        applied
            .release
            .ok_or_else(|| CoreError::Internal("a redeploy without a release".into()))
    }

    /// An instance by uuid and its app, if the actor may act at `need`.
    pub async fn instance(
        &self,
        actor: &User,
        uuid: Uuid,
        need: Level,
    ) -> CoreResult<(App, Instance)> {
        let not_found = || CoreError::not_found(format!("container {uuid} not found"));
        let instance = self.store.get_instance(uuid).await?.ok_or_else(not_found)?;
        let app = self
            .app(actor, &instance.app_id, need)
            .await
            .map_err(|e| match e {
                CoreError::NotFound(_) => not_found(),
                other => other,
            })?;
        Ok((app, instance))
    }

    /// Stops or starts one instance; returns at once.
    pub async fn set_instance_stopped(
        &self,
        actor: &User,
        app: &App,
        instance: &Instance,
        stopped: bool,
    ) -> CoreResult<()> {
        self.may_run(actor, app).await?;
        if !stopped && app.desired == Desired::Off {
            return Err(CoreError::invalid(
                "cannot perform the operation: the application is stopped; start it first",
            ));
        }
        let verb = if stopped { "stopped" } else { "started" };
        let name = format!("{}.{}", instance.proc_type, instance.num);
        let only = || InstanceSet::These(vec![instance.uuid]);
        let name = &name;
        self.change_app(app, |app: App| async move {
            let app = &app;
            Ok(DesiredChange {
                stopped: Some((only(), stopped)),
                restart: (!stopped && instance.state != InstanceState::Up).then(only),
                ..DesiredChange::new(&app.id, &actor.username)
                    .event(format!("{} {verb} {name}", actor.username))
            })
        })
        .await?;
        Ok(())
    }

    /// Removes one instance for good and lowers its type's count; returns at once.
    pub async fn terminate_instance(
        &self,
        actor: &User,
        app: &App,
        instance: &Instance,
    ) -> CoreResult<()> {
        self.may_run(actor, app).await?;
        self.store.destroy_instance(instance.uuid).await?;
        let name = format!("{}.{}", instance.proc_type, instance.num);
        self.event(
            app,
            &actor.username,
            &format!("{} terminated {name}", actor.username),
        )
        .await;
        self.signals.wake();
        Ok(())
    }

    /// Recent output of one instance, one line each.
    pub async fn instance_logs(&self, instance: &Instance, lines: usize) -> CoreResult<String> {
        let Some(engine_id) = instance.engine_id.as_deref() else {
            return Ok(String::new());
        };
        let mut stream = match self.runtime.logs(engine_id, Some(lines), false).await {
            Ok(s) => s,
            Err(crate::runtime::RuntimeError::NotFound(_)) => return Ok(String::new()),
            Err(e) => return Err(CoreError::unavailable(e)),
        };
        let mut out = String::new();
        while let Some(line) = futures::StreamExt::next(&mut stream).await {
            let Ok(line) = line else { break };
            out.push_str(&line.text);
            out.push('\n');
        }
        Ok(out)
    }

    /// The tags of image repository `name` (written as a user writes it:
    /// `busybox`, `tutum/mysql`, `ghcr.io/org/app`) that the engine has and
    /// the actor may use, sorted; none for a name that is no image name.
    pub async fn engine_image_tags(&self, actor: &User, name: &str) -> CoreResult<Vec<String>> {
        let Ok(wanted) = crate::image::ImageRef::parse(name) else {
            return Ok(Vec::new());
        };
        if crate::image::split_tag(name).1.is_some() || wanted.digest.is_some() {
            return Ok(Vec::new());
        }
        let images = self
            .runtime
            .list_images()
            .await
            .map_err(CoreError::unavailable)?;
        let mut tags: Vec<String> = self
            .usable_images(actor, images)
            .await?
            .iter()
            .filter_map(|image| crate::image::ImageRef::parse(image).ok())
            .filter(|r| {
                (&r.registry, &r.namespace, &r.repository)
                    == (&wanted.registry, &wanted.namespace, &wanted.repository)
            })
            .map(|r| r.tag)
            .collect();
        tags.sort();
        tags.dedup();
        Ok(tags)
    }
}

/// Turning an app on starts exited instances again whatever their restart
/// policy says: the user asked for it.
pub(crate) fn desired_change(actor: &User, app: &App, desired: Desired) -> DesiredChange {
    let verb = if desired == Desired::Off {
        "stopped"
    } else {
        "started"
    };
    let on = desired == Desired::On;
    DesiredChange {
        desired: Some(desired),
        stopped: on.then_some((InstanceSet::All, false)),
        restart: on.then_some(InstanceSet::NotUp),
        ..DesiredChange::new(&app.id, &actor.username)
            .event(format!("{} {verb} the app", actor.username))
    }
}

fn validate_config(config: &ConfigValues) -> CoreResult<()> {
    fn set_all<V: Clone>(
        m: &std::collections::BTreeMap<String, V>,
    ) -> std::collections::BTreeMap<String, Option<V>> {
        m.iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect()
    }
    let patch = rules::ConfigPatch {
        values: set_all(&config.values),
        memory: set_all(&config.memory),
        cpu: set_all(&config.cpu),
        tags: set_all(&config.tags),
    };
    rules::merge_config(&ConfigValues::default(), &patch)?;
    for p in &config.policy.ports {
        if p.inner == 0 || !["tcp", "udp"].contains(&p.protocol.as_str()) {
            return Err(CoreError::invalid_field(
                "container_ports",
                format!("invalid port {}/{}", p.inner, p.protocol),
            ));
        }
    }
    Ok(())
}
