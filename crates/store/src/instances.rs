//! [`InstanceStore`]: what the reconciler reads as desired, the instance
//! rows it keeps, and the restart and stop flags users set on them.

use async_trait::async_trait;
use berth_core::change::InstanceSet;
use berth_core::model::{Instance, Structure, now};
use berth_core::plan::{DesiredApp, Observation};
use berth_core::store::{InstanceStore, StoreResult};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use crate::rows::{self, Columns};
use crate::{SqliteStore, db_err, execute, json, ts};

/// Each app with its current release's run policy; read by [`rows::desired_app`].
const DESIRED_QUERY: &str = "SELECT a.id, a.owner_id, a.desired, a.structure, a.release, a.error, c.policy, c.vals, \
     (r.build IS NOT NULL) AS runnable FROM apps a \
     LEFT JOIN releases r ON r.app_id = a.id AND r.version = a.release \
     LEFT JOIN configs c ON c.uuid = r.config";

#[async_trait]
impl InstanceStore for SqliteStore {
    async fn desired_apps(&self) -> StoreResult<Vec<DesiredApp>> {
        self.fetch_all(sqlx::query(DESIRED_QUERY), rows::desired_app)
            .await
    }

    async fn desired_app(&self, id: &str) -> StoreResult<Option<DesiredApp>> {
        let query = format!("{DESIRED_QUERY} WHERE a.id = ?");
        self.fetch_optional(sqlx::query(&query).bind(id), rows::desired_app)
            .await
    }

    async fn list_instances(&self, app_id: Option<&str>) -> StoreResult<Vec<Instance>> {
        let query = match app_id {
            Some(id) => sqlx::query(
                "SELECT * FROM instances WHERE app_id = ? ORDER BY proc_type, num, release",
            )
            .bind(id),
            None => sqlx::query("SELECT * FROM instances ORDER BY app_id, proc_type, num, release"),
        };
        self.fetch_all(query, rows::instance).await
    }

    async fn insert_instance(&self, i: &Instance) -> StoreResult<bool> {
        // Conditional, so a pass planned before the app was deleted or
        // re-released cannot add a row (and start a container) after it.
        let inserted = self
            .exec_count(
                sqlx::query(
                    "INSERT INTO instances (uuid, app_id, release, proc_type, num, state, restarts, created, updated) \
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS \
                     (SELECT 1 FROM apps WHERE id = ?2 AND release = ?3)",
                )
                .bind(i.uuid.to_string())
                .bind(&i.app_id)
                .bind(i.release)
                .bind(&i.proc_type)
                .bind(i64::from(i.num))
                .bind(i.state.as_str())
                .bind(i64::from(i.restarts))
                .bind(ts(i.created))
                .bind(ts(i.updated)),
            )
            .await?;
        Ok(inserted > 0)
    }

    async fn observe_instance(&self, o: &Observation) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE instances SET state = ?1, exit_code = ?2, message = ?3, engine_id = ?4, node = ?5, \
                 restarts = ?6, next_restart = ?7, ports = ?8, address = ?9, \
                 ready = CASE WHEN ?1 = 'up' THEN ready ELSE 0 END, updated = ?10 WHERE uuid = ?11",
            )
            .bind(o.state.as_str())
            .bind(o.exit_code)
            .bind(&o.message)
            .bind(&o.engine_id)
            .bind(&o.node)
            .bind(i64::from(o.restarts))
            .bind(o.next_restart.map(ts))
            .bind(json(&o.ports))
            .bind(&o.address)
            .bind(ts(now()))
            .bind(o.instance.to_string()),
        )
        .await
    }

    async fn get_instance(&self, uuid: Uuid) -> StoreResult<Option<Instance>> {
        self.fetch_optional(
            sqlx::query("SELECT * FROM instances WHERE uuid = ?").bind(uuid.to_string()),
            rows::instance,
        )
        .await
    }

    async fn destroy_instance(&self, uuid: Uuid) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("DELETE FROM instances WHERE uuid = ? RETURNING app_id, proc_type")
            .bind(uuid.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(row) = row {
            let instance = Columns::of("instances", &row);
            let app_id: String = instance.get("app_id")?;
            let proc_type: String = instance.get("proc_type")?;
            let app = sqlx::query("SELECT structure FROM apps WHERE id = ?")
                .bind(&app_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            if let Some(app) = app {
                let mut structure: Structure = Columns::of("apps", &app).json("structure")?;
                if let Some(n) = structure.get_mut(&proc_type) {
                    *n = n.saturating_sub(1);
                }
                execute(
                    &mut *tx,
                    sqlx::query("UPDATE apps SET structure = ?, updated = ? WHERE id = ?")
                        .bind(json(&structure))
                        .bind(ts(now()))
                        .bind(&app_id),
                )
                .await?;
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn delete_instance(&self, uuid: Uuid) -> StoreResult<()> {
        self.exec(sqlx::query("DELETE FROM instances WHERE uuid = ?").bind(uuid.to_string()))
            .await
    }

    async fn clear_restart(&self, uuid: Uuid) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE instances SET restart_requested = 0 WHERE uuid = ?")
                .bind(uuid.to_string()),
        )
        .await
    }

    async fn set_instance_ready(&self, uuid: Uuid, ready: bool) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE instances SET ready = ? WHERE uuid = ?")
                .bind(ready)
                .bind(uuid.to_string()),
        )
        .await
    }
}

/// Sets one flag column (`stopped`, `restart_requested`) on the chosen
/// instances of an app, inside the app change's transaction.
pub(crate) async fn set_instance_flag(
    tx: &mut Transaction<'_, Sqlite>,
    app_id: &str,
    which: &InstanceSet,
    flag: &str,
    value: bool,
) -> StoreResult<()> {
    match which {
        InstanceSet::These(uuids) => {
            for u in uuids {
                execute(
                    &mut **tx,
                    sqlx::query(&format!(
                        "UPDATE instances SET {flag} = ? WHERE uuid = ? AND app_id = ?"
                    ))
                    .bind(value)
                    .bind(u.to_string())
                    .bind(app_id),
                )
                .await?;
            }
            Ok(())
        }
        InstanceSet::NotUp | InstanceSet::All => {
            execute(
                &mut **tx,
                sqlx::query(&format!(
                    "UPDATE instances SET {flag} = ? WHERE app_id = ? AND (? OR state != 'up')"
                ))
                .bind(value)
                .bind(app_id)
                .bind(*which == InstanceSet::All),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use berth_core::change::DesiredChange;
    use berth_core::model::InstanceState;
    use berth_core::store::prelude::*;

    use super::*;
    use crate::apps::tests::demo_app;
    use crate::testing::store;

    fn web_instance(release: i64, num: u32) -> Instance {
        let t = now();
        Instance {
            uuid: Uuid::new_v4(),
            app_id: "demo".into(),
            release,
            proc_type: "web".into(),
            num,
            state: InstanceState::Created,
            exit_code: None,
            message: None,
            engine_id: None,
            node: None,
            restarts: 0,
            next_restart: None,
            restart_requested: false,
            stopped: false,
            ports: Vec::new(),
            address: None,
            ready: false,
            created: t,
            updated: t,
        }
    }

    #[tokio::test]
    async fn instances_follow_their_app_release_and_flags() {
        let (_d, s) = store().await;
        let alice = s.create_user("alice", "", "h").await.unwrap();
        let (app, config, release) = demo_app(&alice);
        s.create_app(&app, &config, None, &[release]).await.unwrap();
        let structure = Structure::from([("web".to_string(), 2)]);
        s.apply_change(&DesiredChange {
            structure: Some(structure),
            ..DesiredChange::new("demo", "alice")
        })
        .await
        .unwrap();

        // Only the app's current release takes new rows.
        assert!(!s.insert_instance(&web_instance(2, 1)).await.unwrap());
        let first = web_instance(1, 1);
        let second = web_instance(1, 2);
        assert!(s.insert_instance(&first).await.unwrap());
        assert!(s.insert_instance(&second).await.unwrap());
        assert_eq!(
            s.list_instances(Some("demo")).await.unwrap(),
            [first.clone(), second.clone()]
        );

        s.observe_instance(&Observation {
            instance: first.uuid,
            state: InstanceState::Up,
            exit_code: None,
            message: None,
            engine_id: Some("c1".into()),
            node: Some("vm".into()),
            restarts: 1,
            next_restart: None,
            ports: Vec::new(),
            address: Some("10.0.0.2".into()),
        })
        .await
        .unwrap();
        s.apply_change(&DesiredChange {
            stopped: Some((InstanceSet::These(vec![first.uuid]), true)),
            restart: Some(InstanceSet::These(vec![first.uuid, second.uuid])),
            ..DesiredChange::new("demo", "alice")
        })
        .await
        .unwrap();
        s.clear_restart(second.uuid).await.unwrap();
        let seen = s.get_instance(first.uuid).await.unwrap().unwrap();
        assert_eq!(seen.state, InstanceState::Up);
        assert_eq!(seen.engine_id.as_deref(), Some("c1"));
        assert!(seen.stopped && seen.restart_requested);
        assert!(
            !s.get_instance(second.uuid)
                .await
                .unwrap()
                .unwrap()
                .restart_requested
        );

        // Destroying one instance lowers its type's count with it.
        s.destroy_instance(first.uuid).await.unwrap();
        assert!(s.get_instance(first.uuid).await.unwrap().is_none());
        let desired = s.desired_app("demo").await.unwrap().unwrap();
        assert_eq!(desired.structure["web"], 1);
        s.delete_instance(second.uuid).await.unwrap();
        assert!(s.list_instances(None).await.unwrap().is_empty());
        assert_eq!(s.desired_apps().await.unwrap().len(), 1);
    }
}
