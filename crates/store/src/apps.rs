//! [`AppStore`]: apps, their desired state and the tombstones deleted apps
//! leave behind.

use async_trait::async_trait;
use berth_core::change::DesiredChange;
use berth_core::model::*;
use berth_core::store::{AppStore, Page, StoreError, StoreResult};
use uuid::Uuid;

use crate::events::add_event_in;
use crate::instances::set_instance_flag;
use crate::releases::{insert_build, insert_config, insert_release};
use crate::rows::{self, APP_JSON, APPS_JOIN_OWNERS, AppRecord, Columns};
use crate::{SqliteStore, db_err, execute, json, ts};

#[async_trait]
impl AppStore for SqliteStore {
    async fn create_app(
        &self,
        app: &App,
        config: &Config,
        build: Option<&Build>,
        releases: &[Release],
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        execute(
            &mut *tx,
            sqlx::query(
                "INSERT INTO apps (id, uuid, owner_id, kind, desired, structure, release, stop_at, meta, created, updated) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&app.id)
            .bind(app.uuid.to_string())
            .bind(app.owner_id)
            .bind(if app.kind == AppKind::Pod { "pod" } else { "app" })
            .bind(app.desired.as_str())
            .bind(json(&app.structure))
            .bind(app.release)
            .bind(app.stop_at.map(ts))
            .bind(if app.meta.is_null() { "{}".to_string() } else { json(&app.meta) })
            .bind(ts(app.created))
            .bind(ts(app.updated)),
        )
        .await?;
        insert_config(&mut tx, config).await?;
        if let Some(b) = build {
            insert_build(&mut tx, b).await?;
        }
        for release in releases {
            insert_release(&mut tx, release).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn get_app_by_uuid(&self, uuid: Uuid) -> StoreResult<Option<App>> {
        let query = format!("SELECT {APP_JSON} AS app FROM {APPS_JOIN_OWNERS} WHERE a.uuid = ?");
        self.fetch_optional(sqlx::query(&query).bind(uuid.to_string()), rows::app)
            .await
    }

    async fn get_app(&self, id: &str) -> StoreResult<Option<App>> {
        let query = format!("SELECT {APP_JSON} AS app FROM {APPS_JOIN_OWNERS} WHERE a.id = ?");
        self.fetch_optional(sqlx::query(&query).bind(id), rows::app)
            .await
    }

    async fn list_apps(&self, user: &User, offset: i64, limit: i64) -> StoreResult<Page<App>> {
        let visible = |t: &str| {
            format!(
                "(? OR {t}.owner_id = ? OR EXISTS (SELECT 1 FROM grants g \
                 WHERE g.object = 'app:' || {t}.uuid AND g.user_id = ?))"
            )
        };
        let count = format!("SELECT COUNT(*) FROM apps c WHERE {}", visible("c"));
        // One row: the total as an uncorrelated subquery (run once; a window
        // count would sort every visible row) and the page as one JSON array.
        let page = format!(
            "SELECT ({count}) AS total, (SELECT json_group_array(json(app)) FROM \
             (SELECT {APP_JSON} AS app FROM {APPS_JOIN_OWNERS} WHERE {} \
             ORDER BY a.id LIMIT ? OFFSET ?)) AS apps",
            visible("a")
        );
        let row = sqlx::query(&page)
            .bind(user.is_admin)
            .bind(user.id)
            .bind(user.id)
            .bind(user.is_admin)
            .bind(user.id)
            .bind(user.id)
            .bind(limit)
            .bind(offset)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let columns = Columns::of("apps", &row);
        let mut items = columns
            .json::<Vec<AppRecord>>("apps")?
            .into_iter()
            .map(AppRecord::into_app)
            .collect::<StoreResult<Vec<App>>>()?;
        // An aggregate's input order is not a promise SQL makes.
        items.sort_by(|x, y| x.id.cmp(&y.id));
        Ok(Page {
            items,
            total: columns.get("total")?,
        })
    }

    async fn delete_app(&self, id: &str, tombstone: &Tombstone) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let uuid: Option<String> = sqlx::query_scalar("SELECT uuid FROM apps WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(uuid) = uuid else {
            return Err(StoreError::NotFound(format!("app {id}")));
        };
        let object = format!("app:{uuid}");
        // Instance rows go with the app: their containers become orphans the
        // reconciler removes, even if the server dies right after this commit.
        for q in [
            "DELETE FROM instances WHERE app_id = ?",
            "DELETE FROM releases WHERE app_id = ?",
            "DELETE FROM apps WHERE id = ?",
        ] {
            execute(&mut *tx, sqlx::query(q).bind(id)).await?;
        }
        for q in [
            "DELETE FROM grants WHERE object = ?",
            "DELETE FROM events WHERE object = ?",
        ] {
            execute(&mut *tx, sqlx::query(q).bind(&object)).await?;
        }
        execute(
            &mut *tx,
            sqlx::query(
                "INSERT OR REPLACE INTO tombstones (app_uuid, owner_id, body, deleted) VALUES (?, ?, ?, ?)",
            )
            .bind(tombstone.app.uuid.to_string())
            .bind(tombstone.app.owner_id)
            .bind(json(tombstone))
            .bind(ts(tombstone.deleted)),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn list_tombstones(&self, user: &User, since: Timestamp) -> StoreResult<Vec<Tombstone>> {
        self.fetch_all(
            sqlx::query(
                "SELECT body FROM tombstones WHERE deleted > ? AND (? OR owner_id = ?) ORDER BY deleted DESC",
            )
            .bind(ts(since))
            .bind(user.is_admin)
            .bind(user.id),
            rows::tombstone,
        )
        .await
    }

    async fn get_tombstone(&self, app_uuid: Uuid) -> StoreResult<Option<Tombstone>> {
        self.fetch_optional(
            sqlx::query("SELECT body FROM tombstones WHERE app_uuid = ?")
                .bind(app_uuid.to_string()),
            rows::tombstone,
        )
        .await
    }

    async fn purge_tombstones(&self, before: Timestamp) -> StoreResult<()> {
        self.exec(sqlx::query("DELETE FROM tombstones WHERE deleted <= ?").bind(ts(before)))
            .await
    }

    async fn expire_apps(&self, now: Timestamp) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "UPDATE apps SET desired = 'OFF', stop_at = NULL, updated = ? \
             WHERE stop_at IS NOT NULL AND stop_at <= ? RETURNING 'app:' || uuid",
        )
        .bind(ts(now))
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn set_app_error(&self, id: &str, error: Option<&str>) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE apps SET error = ? WHERE id = ? AND error IS NOT ?")
                .bind(error)
                .bind(id)
                .bind(error),
        )
        .await
    }

    async fn app_traffic(&self) -> StoreResult<Vec<AppTraffic>> {
        let query = format!(
            "SELECT {APP_JSON} AS app, \
             COALESCE(c.vals, '{{}}') AS vals, COALESCE(c.memory, '{{}}') AS memory, \
             COALESCE(c.cpu, '{{}}') AS cpu, COALESCE(c.tags, '{{}}') AS tags, \
             COALESCE(c.policy, '{{}}') AS policy, \
             (SELECT json_group_array(d.domain) FROM domains d WHERE d.app_id = a.id) AS domains \
             FROM {APPS_JOIN_OWNERS} \
             LEFT JOIN releases r ON r.app_id = a.id AND r.version = a.release \
             LEFT JOIN configs c ON c.uuid = r.config"
        );
        self.fetch_all(sqlx::query(&query), |row| {
            let r = Columns::of("apps", row);
            Ok(AppTraffic {
                app: rows::app(row)?,
                config: rows::config_values(&r)?,
                domains: r.json("domains")?,
            })
        })
        .await
    }

    async fn owner_desired_instances(&self, owner_id: i64) -> StoreResult<u64> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(counts.value), 0) FROM apps, json_each(apps.structure) AS counts \
             WHERE apps.owner_id = ? AND apps.desired = 'ON'",
        )
        .bind(owner_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(total).unwrap_or(0))
    }

    async fn apply_change(&self, change: &DesiredChange) -> StoreResult<Option<Release>> {
        let mut tx = self.write_tx().await?;
        let stale = || StoreError::Stale(format!("app {}", change.app_id));
        let row = sqlx::query("SELECT uuid, release, structure FROM apps WHERE id = ?")
            .bind(&change.app_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or_else(|| StoreError::NotFound(format!("app {}", change.app_id)))?;
        let current = Columns::of("apps", &row);
        let app_uuid = current.uuid("uuid")?;
        let release_now: i64 = current.get("release")?;
        if change.expect_release.is_some_and(|r| r != release_now) {
            return Err(stale());
        }
        if let Some(expected) = &change.expect_structure
            && current.json::<Structure>("structure")? != *expected
        {
            return Err(stale());
        }
        let t = now();
        let mut release = None;
        if let Some(new) = &change.release {
            if let Some(b) = &new.new_build {
                insert_build(&mut tx, b).await?;
            }
            if let Some(c) = &new.new_config {
                insert_config(&mut tx, c).await?;
            }
            let made = Release::new(
                &change.app_id,
                &change.actor,
                berth_core::rules::next_release_version(release_now),
                (new.build, new.config),
                new.summary.clone(),
                t,
            );
            insert_release(&mut tx, &made).await?;
            release = Some(made);
        }
        execute(
            &mut *tx,
            sqlx::query(
                "UPDATE apps SET release = COALESCE(?, release), structure = COALESCE(?, structure), \
                 desired = COALESCE(?, desired), meta = COALESCE(?, meta), \
                 stop_at = CASE WHEN ? THEN ? ELSE stop_at END, updated = ? WHERE id = ?",
            )
            .bind(release.as_ref().map(|r| r.version))
            .bind(change.structure.as_ref().map(json))
            .bind(change.desired.map(Desired::as_str))
            .bind(change.meta.as_ref().map(json))
            .bind(change.stop_at.is_some())
            .bind(change.stop_at.flatten().map(ts))
            .bind(ts(t))
            .bind(&change.app_id),
        )
        .await?;
        if let Some((which, stopped)) = &change.stopped {
            set_instance_flag(&mut tx, &change.app_id, which, "stopped", *stopped).await?;
        }
        if let Some(which) = &change.restart {
            set_instance_flag(&mut tx, &change.app_id, which, "restart_requested", true).await?;
        }
        for message in &change.events {
            add_event_in(
                &mut *tx,
                &format!("app:{app_uuid}"),
                &change.actor,
                message,
                t,
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(release)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use berth_core::change::NewRelease;
    use berth_core::store::StoreError;
    use berth_core::store::prelude::*;

    use super::*;
    use crate::testing::store;

    /// App `demo` owned by `owner`, at release 1 with an empty config.
    pub(crate) fn demo_app(owner: &User) -> (App, Config, Release) {
        let t = now();
        let app = App::new("demo", owner, AppKind::App, t);
        let config = Config::new("demo", &owner.username, ConfigValues::default(), t);
        let release = Release::new(
            "demo",
            &owner.username,
            1,
            (None, config.uuid),
            "init".into(),
            t,
        );
        (app, config, release)
    }

    #[tokio::test]
    async fn releases_number_up_and_app_deletion_cascades() {
        let (_d, s) = store().await;
        let u = s.create_user("alice", "", "h").await.unwrap();
        let (app, config, r1) = demo_app(&u);
        s.create_app(&app, &config, None, std::slice::from_ref(&r1))
            .await
            .unwrap();
        assert!(matches!(
            s.create_app(&app, &config, None, std::slice::from_ref(&r1))
                .await,
            Err(StoreError::Conflict(_))
        ));
        let change = |expect: i64| DesiredChange {
            expect_release: Some(expect),
            release: Some(NewRelease {
                new_build: None,
                build: None,
                new_config: None,
                config: config.uuid,
                summary: "again".into(),
            }),
            structure: Some([("web".to_string(), 2)].into()),
            ..DesiredChange::new("demo", "alice").event("alice changed it")
        };
        let r2 = s.apply_change(&change(1)).await.unwrap().unwrap();
        // Computed from v1, which is no longer current: nothing is written.
        assert!(matches!(
            s.apply_change(&change(1)).await,
            Err(StoreError::Stale(_))
        ));
        assert_eq!(
            s.get_app("demo").await.unwrap().unwrap().structure,
            [("web".to_string(), 2)].into()
        );
        let object = format!("app:{}", app.uuid);
        assert_eq!(s.list_events(&object, 10).await.unwrap().len(), 1);
        assert_eq!(r2.version, 2);
        assert_eq!(s.get_app("demo").await.unwrap().unwrap().release, 2);
        let desired = s.desired_app("demo").await.unwrap().unwrap();
        assert!(!desired.runnable);
        let tomb = Tombstone {
            app: app.clone(),
            build: None,
            config: Some(config.clone()),
            deleted: now(),
        };
        s.delete_app("demo", &tomb).await.unwrap();
        assert!(s.get_app("demo").await.unwrap().is_none());
        let kept = s
            .list_tombstones(&u, now() - time::Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(kept, vec![tomb.clone()]);
        s.purge_tombstones(now()).await.unwrap();
        assert!(s.get_tombstone(app.uuid).await.unwrap().is_none());
        assert!(
            s.list_releases("demo", 0, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
}
