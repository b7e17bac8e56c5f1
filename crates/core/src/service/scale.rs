//! Process counts and instances: scaling, listing and restarting containers.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::{Applied, Berth};
use crate::change::{DesiredChange, InstanceSet};
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::plan::Convergence;
use crate::rules::{self};

impl Berth {
    /// Sets instance counts for the given process types and waits for the
    /// engine; on failure the previous counts are restored.
    pub async fn scale(
        &self,
        actor: &User,
        id: &str,
        counts: &BTreeMap<String, u32>,
    ) -> CoreResult<()> {
        let app = self.app(actor, id, Level::User).await?;
        self.may_run(actor, &app).await?;
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
        let applied = self.set_counts(actor, &app, counts).await?;
        if let Convergence::Failed(why) = self.converge(&app.id, applied.ticket).await? {
            self.revert(DesiredChange {
                expect_structure: applied.change.structure,
                structure: applied.change.expect_structure,
                ..DesiredChange::new(&app.id, &actor.username)
                    .event(format!("scaling failed, counts restored: {why}"))
            })
            .await?;
            return Err(CoreError::Failed(format!("scaling failed: {why}")));
        }
        Ok(())
    }

    /// Sets the counts of the given process types, leaving the others, as
    /// one guarded change; returns at once. Deis and Tutum scale through it.
    pub(crate) async fn set_counts(
        &self,
        actor: &User,
        app: &App,
        counts: &BTreeMap<String, u32>,
    ) -> CoreResult<Applied> {
        let summary = format!(
            "{} scaled {}",
            actor.username,
            counts
                .iter()
                .map(|(t, n)| format!("{t}={n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let summary = &summary;
        self.change_app(app, |app: App| async move {
            let app = &app;
            let mut after = app.structure.clone();
            for (t, n) in counts {
                after.insert(t.clone(), *n);
            }
            Ok(DesiredChange {
                expect_structure: Some(app.structure.clone()),
                structure: Some(after),
                ..DesiredChange::new(&app.id, &actor.username).event(summary)
            })
        })
        .await
    }

    /// How many instances of all apps are in each state, for operators'
    /// metrics (so it asks for no actor and names no app).
    pub async fn instance_counts(&self) -> CoreResult<Vec<(InstanceState, u64)>> {
        use InstanceState::*;
        let rows = self.store.list_instances(None).await?;
        Ok([Created, Starting, Up, Down, Crashed, Error, Destroyed]
            .into_iter()
            .map(|state| {
                (
                    state,
                    rows.iter().filter(|r| r.state == state).count() as u64,
                )
            })
            .collect())
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
        self.may_run(actor, &app).await?;
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
        let what = match (proc_type, num) {
            (Some(t), Some(n)) => format!("{t}.{n}"),
            (Some(t), None) => t.to_string(),
            _ => "all containers".into(),
        };
        let (uuids, what) = (&uuids, &what);
        let applied = self
            .change_app(&app, |app: App| async move {
                let app = &app;
                Ok(DesiredChange {
                    restart: Some(InstanceSet::These(uuids.clone())),
                    ..DesiredChange::new(&app.id, &actor.username)
                        .event(format!("{} restarted {what}", actor.username))
                })
            })
            .await?;
        if let Convergence::Failed(why) = self.converge(&app.id, applied.ticket).await? {
            return Err(CoreError::Failed(format!("restart failed: {why}")));
        }
        let mut after = self.instances(actor, id, proc_type).await?;
        after.retain(|i| uuids.contains(&i.uuid));
        Ok(after)
    }
}
