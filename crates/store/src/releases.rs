//! [`ReleaseStore`]: an app's builds, configs and the numbered releases
//! that pair them, plus the inserts that app creation shares.

use async_trait::async_trait;
use berth_core::model::{Build, Config, Release, now};
use berth_core::store::{NewRelease, Page, ReleaseStore, StoreError, StoreResult};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use crate::{SqliteStore, db_err, execute, json, rows, ts};

#[async_trait]
impl ReleaseStore for SqliteStore {
    async fn create_release(&self, new: &NewRelease) -> StoreResult<Release> {
        let mut tx = self.write_tx().await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT release FROM apps WHERE id = ?")
            .bind(&new.app_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(current) = current else {
            return Err(StoreError::NotFound(format!("app {}", new.app_id)));
        };
        if let Some(b) = &new.new_build {
            insert_build(&mut tx, b).await?;
        }
        if let Some(c) = &new.new_config {
            insert_config(&mut tx, c).await?;
        }
        let t = now();
        let release = Release {
            uuid: Uuid::new_v4(),
            app_id: new.app_id.clone(),
            owner: new.owner.clone(),
            version: berth_core::rules::next_release_version(current),
            build: new.build,
            config: new.config,
            summary: new.summary.clone(),
            created: t,
        };
        insert_release(&mut tx, &release).await?;
        execute(
            &mut *tx,
            sqlx::query("UPDATE apps SET release = ?, updated = ? WHERE id = ?")
                .bind(release.version)
                .bind(ts(t))
                .bind(&new.app_id),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(release)
    }

    async fn get_release(&self, app_id: &str, version: i64) -> StoreResult<Option<Release>> {
        self.fetch_optional(
            sqlx::query("SELECT * FROM releases WHERE app_id = ? AND version = ?")
                .bind(app_id)
                .bind(version),
            rows::release,
        )
        .await
    }

    async fn list_releases(
        &self,
        app_id: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Release>> {
        self.app_page(
            "releases",
            "version DESC",
            app_id,
            offset,
            limit,
            rows::release,
        )
        .await
    }

    async fn get_build(&self, uuid: Uuid) -> StoreResult<Option<Build>> {
        self.fetch_optional(
            sqlx::query("SELECT * FROM builds WHERE uuid = ?").bind(uuid.to_string()),
            rows::build,
        )
        .await
    }

    async fn list_builds(&self, app_id: &str, offset: i64, limit: i64) -> StoreResult<Page<Build>> {
        self.app_page("builds", "created DESC", app_id, offset, limit, rows::build)
            .await
    }

    async fn get_config(&self, uuid: Uuid) -> StoreResult<Option<Config>> {
        self.fetch_optional(
            sqlx::query("SELECT * FROM configs WHERE uuid = ?").bind(uuid.to_string()),
            rows::config,
        )
        .await
    }
}

pub(crate) async fn insert_config(tx: &mut Transaction<'_, Sqlite>, c: &Config) -> StoreResult<()> {
    execute(
        &mut **tx,
        sqlx::query(
            "INSERT INTO configs (uuid, app_id, owner, vals, memory, cpu, tags, policy, created) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(c.uuid.to_string())
        .bind(&c.app_id)
        .bind(&c.owner)
        .bind(json(&c.values.values))
        .bind(json(&c.values.memory))
        .bind(json(&c.values.cpu))
        .bind(json(&c.values.tags))
        .bind(json(&c.values.policy))
        .bind(ts(c.created)),
    )
    .await
}

pub(crate) async fn insert_build(tx: &mut Transaction<'_, Sqlite>, b: &Build) -> StoreResult<()> {
    execute(
        &mut **tx,
        sqlx::query(
            "INSERT INTO builds (uuid, app_id, owner, image, procfile, dockerfile, sha, command, entrypoint, created) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(b.uuid.to_string())
        .bind(&b.app_id)
        .bind(&b.owner)
        .bind(&b.image)
        .bind(json(&b.procfile))
        .bind(&b.dockerfile)
        .bind(&b.sha)
        .bind(b.command.as_ref().map(json))
        .bind(b.entrypoint.as_ref().map(json))
        .bind(ts(b.created)),
    )
    .await
}

pub(crate) async fn insert_release(
    tx: &mut Transaction<'_, Sqlite>,
    r: &Release,
) -> StoreResult<()> {
    execute(
        &mut **tx,
        sqlx::query(
            "INSERT INTO releases (uuid, app_id, owner, version, build, config, summary, created) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.uuid.to_string())
        .bind(&r.app_id)
        .bind(&r.owner)
        .bind(r.version)
        .bind(r.build.map(|b| b.to_string()))
        .bind(r.config.to_string())
        .bind(&r.summary)
        .bind(ts(r.created)),
    )
    .await
}
