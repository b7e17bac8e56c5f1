//! Use cases on Tapis pods: create, read, change, start, stop, restart,
//! delete, logs and credentials (permissions: `super::permissions`).

use serde_json::Value;

use super::*;
use crate::change::{DesiredChange, InstanceSet};
use crate::error::{CoreError, CoreResult};
use crate::service::{Berth, app_object};
use crate::workload::{WorkloadChange, WorkloadSpec, desired_change};

impl Berth {
    /// Creates a pod from its definition (merged over its template, if any).
    pub async fn create_pod(
        &self,
        actor: &User,
        definition: PodDefinition,
        template: Option<Value>,
    ) -> CoreResult<App> {
        definition.validate()?;
        let derived = derive(&definition, template.as_ref())?;
        self.check_pod_image("image", &derived.image).await?;
        let credentials = Credentials::generate(&definition.pod_id);
        let mut config = derived.config(&credentials)?;
        config.policy.mounts = self
            .pod_mounts(actor, &definition.pod_id, &derived.volume_mounts)
            .await?;
        let on = derived.status_requested != "OFF";
        let meta = PodMeta {
            definition: definition.clone(),
            derived: derived.clone(),
            credentials: Some(credentials.clone()),
            start_instance_ts: on.then(|| crate::model::rfc3339(now())),
        };
        let spec = WorkloadSpec {
            name: definition.pod_id.clone(),
            kind: AppKind::Pod,
            image: derived.image.clone(),
            command: derived.arguments.clone(),
            entrypoint: derived.command.clone(),
            proc_type: POD_PROC_TYPE.into(),
            count: 1,
            config,
            desired: if on { Desired::On } else { Desired::Off },
            exact_id: true,
            meta: serde_json::to_value(&meta).map_err(CoreError::internal_from)?,
            stop_at: if on { derived.stop_at(now()) } else { None },
        };
        let app = self.create_workload(actor, spec).await?;
        self.event(
            &app,
            &actor.username,
            &format!("{} created pod {}", actor.username, app.id),
        )
        .await;
        Ok(app)
    }

    /// A pod the actor may act on at `need`; apps of other kinds are not pods.
    pub async fn pod(&self, actor: &User, id: &str, need: Level) -> CoreResult<App> {
        let not_found = || CoreError::not_found(format!("pod {id} not found"));
        let app = self.app(actor, id, need).await.map_err(|e| match e {
            CoreError::NotFound(_) => not_found(),
            other => other,
        })?;
        if app.kind != AppKind::Pod {
            return Err(not_found());
        }
        Ok(app)
    }

    /// The images the actor's pods may use: those the engine has, less
    /// the built images the actor may not use.
    pub async fn pod_images(&self, actor: &User) -> CoreResult<Vec<String>> {
        let images = self
            .runtime
            .list_images()
            .await
            .map_err(CoreError::unavailable)?;
        self.usable_images(actor, images).await
    }

    pub async fn pods(&self, actor: &User) -> CoreResult<Vec<App>> {
        let apps = self.store.list_apps(actor, 0, i64::MAX).await?.items;
        Ok(apps
            .into_iter()
            .filter(|a| a.kind == AppKind::Pod)
            .collect())
    }

    /// Changes the stored definition; like Tapis, it applies on the next
    /// (re)start. `status_requested` turns the pod on (ON), off (OFF) or
    /// restarts it (RESTART), as the start, stop and restart routes do.
    pub async fn update_pod(
        &self,
        actor: &User,
        id: &str,
        changes: &Map<String, Value>,
    ) -> CoreResult<App> {
        check_pod_fields(changes)?;
        let app = self.pod(actor, id, Level::User).await?;
        let mut changes = changes.clone();
        let status = match changes.remove("status_requested") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_str().map(str::to_ascii_uppercase).as_deref() {
                Some(s @ ("ON" | "OFF" | "RESTART")) => Some(s.to_string()),
                _ => {
                    return Err(CoreError::invalid_field(
                        "status_requested",
                        "must be ON, OFF or RESTART",
                    ));
                }
            },
        };
        if status.is_some() {
            // Checked before anything changes: only the pod's admins turn it on or off.
            self.pod(actor, id, Level::Admin).await?;
        }
        if let Some(given) = changes.remove("pod_id")
            && given.as_str() != Some(app.id.as_str())
        {
            return Err(CoreError::invalid_field(
                "pod_id",
                "cannot be changed on an existing pod",
            ));
        }
        if !changes.is_empty() {
            self.change_pod_definition(actor, &app, &changes).await?;
        }
        match status.as_deref() {
            Some("ON") => self.start_pod(actor, id).await,
            Some("OFF") => self.stop_pod(actor, id).await,
            Some(_) => self.restart_pod(actor, id).await,
            None => self.pod(actor, id, Level::Read).await,
        }
    }

    /// Lays `changes` over the stored definition and derives what runs anew:
    /// from the template when the template or its overrides change, else
    /// over what ran before. A secret shown hidden keeps its stored value.
    async fn change_pod_definition(
        &self,
        actor: &User,
        app: &App,
        changes: &Map<String, Value>,
    ) -> CoreResult<()> {
        let mut meta = pod_meta(app);
        let mut definition =
            serde_json::to_value(&meta.definition).map_err(CoreError::internal_from)?;
        for (k, v) in changes {
            definition[k] = v.clone();
        }
        let mut definition: PodDefinition = serde_json::from_value(definition)
            .map_err(|e| CoreError::invalid(format!("invalid pod fields: {e}")))?;
        for (key, value) in definition.secret_map.iter_mut() {
            if value.as_str() == Some(HIDDEN_SECRET)
                && let Some(stored) = meta.definition.secret_map.get(key)
            {
                *value = stored.clone();
            }
        }
        definition.validate()?;
        let rederive = changes.contains_key("template")
            || changes.contains_key("template_overrides")
            || definition.template.is_empty();
        meta.derived = if rederive {
            let template = match definition.template.as_str() {
                "" => None,
                reference => Some(self.resolve_template(actor, reference).await.map_err(
                    |e| match e {
                        CoreError::NotFound(m) => CoreError::invalid_field("template", m),
                        other => other,
                    },
                )?),
            };
            derive(&definition, template.as_ref())?
        } else {
            let mut user = serde_json::to_value(&definition).unwrap_or_default();
            if let Some(obj) = user.as_object_mut() {
                obj.remove("template_overrides");
            }
            let derived_json = merge_template(
                &serde_json::to_value(&meta.derived).unwrap_or_default(),
                &user,
            );
            serde_json::from_value(derived_json).map_err(CoreError::internal_from)?
        };
        self.check_pod_image("image", &meta.derived.image).await?;
        self.pod_mounts(actor, &app.id, &meta.derived.volume_mounts)
            .await?;
        meta.definition = definition;
        self.save_pod_meta(actor, app, &meta, "updated the pod definition")
            .await
    }

    /// Applies the stored definition (a new release if it changed) and turns the pod on.
    async fn apply_and_start(&self, actor: &User, app: &App, restart: bool) -> CoreResult<()> {
        self.change_app(app, |app: App| async move {
            let app = &app;
            let mut meta = pod_meta(app);
            let credentials = meta
                .credentials
                .clone()
                .unwrap_or_else(|| Credentials::generate(&app.id));
            let derived = meta.derived.clone();
            let build = self.current_build(app).await?;
            let config = self.current_config(app).await?;
            let mut wanted = derived.config(&credentials)?;
            wanted.policy.mounts = self
                .pod_mounts(actor, &app.id, &derived.volume_mounts)
                .await?;
            let mut definition = WorkloadChange::default();
            if build.as_ref().is_some_and(|b| b.image != derived.image) {
                definition.image = Some(derived.image.clone());
            }
            if build
                .as_ref()
                .is_none_or(|b| b.entrypoint != derived.command || b.command != derived.arguments)
            {
                definition.command = Some(derived.arguments.clone());
                definition.entrypoint = Some(derived.command.clone());
            }
            if config.values != wanted {
                definition.config = Some(wanted);
            }
            meta.start_instance_ts = Some(crate::model::rfc3339(now()));
            let mut change = desired_change(actor, app, Desired::On);
            if definition.is_empty() {
                if restart {
                    change.restart = Some(InstanceSet::All);
                }
            } else {
                let release = self.workload_release(actor, app, &definition).await?;
                change.events.insert(0, release.summary.clone());
                change.expect_release = Some(app.release);
                change.release = Some(release);
            }
            change.meta = Some(meta_value(&meta)?);
            change.stop_at = Some(derived.stop_at(now()));
            Ok(change)
        })
        .await?;
        Ok(())
    }

    pub async fn start_pod(&self, actor: &User, id: &str) -> CoreResult<App> {
        let app = self.pod(actor, id, Level::Admin).await?;
        let running = self
            .store
            .list_instances(Some(&app.id))
            .await?
            .iter()
            .any(|i| {
                matches!(
                    i.state,
                    InstanceState::Up | InstanceState::Starting | InstanceState::Created
                )
            });
        // As in Tapis, start only asks for ON: a pod that runs stays as it is.
        if app.desired == Desired::Off || !running {
            self.apply_and_start(actor, &app, false).await?;
        }
        self.pod(actor, id, Level::Read).await
    }

    /// Stores a pod's definitions and records who changed them and how.
    async fn save_pod_meta(
        &self,
        actor: &User,
        app: &App,
        meta: &PodMeta,
        change: &str,
    ) -> CoreResult<()> {
        let meta = &meta_value(meta)?;
        self.change_app(app, |app: App| async move {
            let app = &app;
            Ok(DesiredChange {
                meta: Some(meta.clone()),
                ..DesiredChange::new(&app.id, &actor.username)
                    .event(format!("{} {change}", actor.username))
            })
        })
        .await?;
        Ok(())
    }

    /// Re-derives a templated pod from the newest version of its template's
    /// tag (`grab_latest_template_tag`); the next start or restart runs it.
    pub async fn grab_latest_template_tag(&self, actor: &User, id: &str) -> CoreResult<()> {
        let app = self.pod(actor, id, Level::User).await?;
        let mut meta = pod_meta(&app);
        if meta.definition.template.is_empty() {
            return Ok(());
        }
        let (name, tag, _) = crate::templates::parse_template_ref(&meta.definition.template);
        let latest = format!("{name}:{tag}");
        let template = self
            .resolve_template(actor, &latest)
            .await
            .map_err(|e| match e {
                CoreError::NotFound(m) => CoreError::invalid_field("template", m),
                other => other,
            })?;
        let derived = derive(&meta.definition, Some(&template))?;
        if derived == meta.derived {
            return Ok(());
        }
        meta.derived = derived;
        self.save_pod_meta(
            actor,
            &app,
            &meta,
            &format!("took the latest version of template {latest}"),
        )
        .await?;
        Ok(())
    }

    pub async fn restart_pod(&self, actor: &User, id: &str) -> CoreResult<App> {
        let app = self.pod(actor, id, Level::Admin).await?;
        self.apply_and_start(actor, &app, true).await?;
        self.pod(actor, id, Level::Read).await
    }

    pub async fn stop_pod(&self, actor: &User, id: &str) -> CoreResult<App> {
        let app = self.pod(actor, id, Level::Admin).await?;
        self.change_app(&app, |app: App| async move {
            let app = &app;
            Ok(DesiredChange {
                stop_at: Some(None),
                ..desired_change(actor, app, Desired::Off)
            })
        })
        .await?;
        self.pod(actor, id, Level::Read).await
    }

    pub async fn delete_pod(&self, actor: &User, id: &str) -> CoreResult<()> {
        let app = self.pod(actor, id, Level::Admin).await?;
        self.delete_app(actor, &app).await?;
        self.discard_pod_configs(&app.id).await;
        Ok(())
    }

    /// The pod's container output (without prefixes) and its action log.
    pub async fn pod_logs(&self, actor: &User, id: &str) -> CoreResult<(String, Vec<String>)> {
        let app = self.pod(actor, id, Level::Read).await?;
        let instances = self.store.list_instances(Some(&app.id)).await?;
        let mut logs = String::new();
        if let Some(instance) = instances
            .iter()
            .filter(|i| i.engine_id.is_some())
            .max_by_key(|i| i.release)
        {
            logs = self.instance_logs(instance, 10_000).await?;
        }
        let actions = self
            .store
            .list_events(&app_object(&app), 1000)
            .await?
            .into_iter()
            .map(|e| format!("{}: {}", crate::model::rfc3339(e.created), e.message))
            .collect();
        Ok((logs, actions))
    }
}
