//! [`ReleaseStore`]: an app's builds, configs and the numbered releases
//! that pair them, plus the inserts that app creation shares.

use async_trait::async_trait;
use berth_core::model::{Build, Config, Release};
use berth_core::store::{Page, ReleaseStore, StoreResult};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use crate::{SqliteStore, execute, json, rows, ts};

#[async_trait]
impl ReleaseStore for SqliteStore {
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
