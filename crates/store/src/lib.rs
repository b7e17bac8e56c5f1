//! [`Store`] over sqlx. SQLite is the default (WAL, foreign keys, busy
//! timeout); every write is one transaction or one statement.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use berth_core::model::*;
use berth_core::plan::{DesiredApp, Observation};
use berth_core::store::{NewRelease, Page, Store, StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

mod catalog;
pub mod datasets;
mod jobs;
mod templates;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and runs migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Backend(format!(
                "unsupported database url {url}: this build supports sqlite:// only"
            )));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(backend)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        Ok(SqliteStore { pool })
    }

    /// Opens a write transaction holding SQLite's write lock from its first
    /// statement. A deferred transaction that reads first and writes later
    /// cannot wait for a concurrent writer: SQLite answers "database is
    /// locked" at once instead of honouring the busy timeout.
    async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Unique-constraint failures become conflicts; everything else is a backend error.
fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        return StoreError::Conflict(d.message().to_string());
    }
    backend(e)
}

fn ts(t: Timestamp) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn parse_ts(s: &str) -> StoreResult<Timestamp> {
    Timestamp::parse(s, &Rfc3339).map_err(|e| backend(format!("bad timestamp {s}: {e}")))
}

fn get_ts(row: &SqliteRow, col: &str) -> StoreResult<Timestamp> {
    parse_ts(&row.try_get::<String, _>(col).map_err(backend)?)
}

fn get_opt_ts(row: &SqliteRow, col: &str) -> StoreResult<Option<Timestamp>> {
    row.try_get::<Option<String>, _>(col)
        .map_err(backend)?
        .map(|s| parse_ts(&s))
        .transpose()
}

fn get_uuid(row: &SqliteRow, col: &str) -> StoreResult<Uuid> {
    let s: String = row.try_get(col).map_err(backend)?;
    Uuid::parse_str(&s).map_err(backend)
}

fn get_json<T: serde::de::DeserializeOwned>(row: &SqliteRow, col: &str) -> StoreResult<T> {
    let s: String = row.try_get(col).map_err(backend)?;
    serde_json::from_str(&s).map_err(backend)
}

fn get_opt_json<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
    col: &str,
) -> StoreResult<Option<T>> {
    let s: Option<String> = row.try_get(col).map_err(backend)?;
    s.map(|s| serde_json::from_str(&s).map_err(backend))
        .transpose()
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    col: &str,
) -> StoreResult<T> {
    row.try_get(col).map_err(backend)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

fn user_from(row: &SqliteRow) -> StoreResult<User> {
    Ok(User {
        id: get(row, "id")?,
        username: get(row, "username")?,
        email: get(row, "email")?,
        password_hash: get(row, "password_hash")?,
        is_admin: get(row, "is_admin")?,
        is_active: get(row, "is_active")?,
        tenant: get(row, "tenant")?,
        created: get_ts(row, "created")?,
        last_login: get_opt_ts(row, "last_login")?,
    })
}

/// An app with its owner's name, as one JSON object per row: a page of apps
/// then crosses from SQLite as a single value instead of a row per app.
const APP_JSON: &str = "json_object('id', a.id, 'uuid', a.uuid, 'owner_id', a.owner_id, \
     'owner', u.username, 'kind', a.kind, 'desired', a.desired, 'structure', json(a.structure), \
     'release', a.release, 'error', a.error, 'stop_at', a.stop_at, 'meta', json(a.meta), \
     'created', a.created, 'updated', a.updated)";
const APPS_JOIN_OWNERS: &str = "apps a JOIN users u ON u.id = a.owner_id";

/// The shape of [`APP_JSON`].
#[derive(serde::Deserialize)]
struct AppRecord {
    id: String,
    uuid: Uuid,
    owner_id: i64,
    owner: String,
    kind: String,
    desired: String,
    structure: Structure,
    release: i64,
    error: Option<String>,
    stop_at: Option<String>,
    meta: serde_json::Value,
    created: String,
    updated: String,
}

impl AppRecord {
    fn into_app(self) -> StoreResult<App> {
        Ok(App {
            id: self.id,
            uuid: self.uuid,
            owner_id: self.owner_id,
            owner: self.owner,
            kind: if self.kind == "pod" {
                AppKind::Pod
            } else {
                AppKind::App
            },
            desired: Desired::parse(&self.desired).unwrap_or(Desired::On),
            structure: self.structure,
            release: self.release,
            error: self.error,
            stop_at: self.stop_at.as_deref().map(parse_ts).transpose()?,
            meta: self.meta,
            created: parse_ts(&self.created)?,
            updated: parse_ts(&self.updated)?,
        })
    }
}

fn app_from(row: &SqliteRow) -> StoreResult<App> {
    get_json::<AppRecord>(row, "app")?.into_app()
}

fn build_from(row: &SqliteRow) -> StoreResult<Build> {
    Ok(Build {
        uuid: get_uuid(row, "uuid")?,
        app_id: get(row, "app_id")?,
        owner: get(row, "owner")?,
        image: get(row, "image")?,
        procfile: get_json(row, "procfile")?,
        dockerfile: get(row, "dockerfile")?,
        sha: get(row, "sha")?,
        command: get_opt_json(row, "command")?,
        entrypoint: get_opt_json(row, "entrypoint")?,
        created: get_ts(row, "created")?,
    })
}

fn config_from(row: &SqliteRow) -> StoreResult<Config> {
    Ok(Config {
        uuid: get_uuid(row, "uuid")?,
        app_id: get(row, "app_id")?,
        owner: get(row, "owner")?,
        values: ConfigValues {
            values: get_json(row, "vals")?,
            memory: get_json(row, "memory")?,
            cpu: get_json(row, "cpu")?,
            tags: get_json(row, "tags")?,
            policy: get_json(row, "policy")?,
        },
        created: get_ts(row, "created")?,
    })
}

fn release_from(row: &SqliteRow) -> StoreResult<Release> {
    let build: Option<String> = get(row, "build")?;
    Ok(Release {
        uuid: get_uuid(row, "uuid")?,
        app_id: get(row, "app_id")?,
        owner: get(row, "owner")?,
        version: get(row, "version")?,
        build: build
            .map(|b| Uuid::parse_str(&b))
            .transpose()
            .map_err(backend)?,
        config: get_uuid(row, "config")?,
        summary: get(row, "summary")?,
        created: get_ts(row, "created")?,
    })
}

fn instance_from(row: &SqliteRow) -> StoreResult<Instance> {
    let state: String = get(row, "state")?;
    let num: i64 = get(row, "num")?;
    let restarts: i64 = get(row, "restarts")?;
    Ok(Instance {
        uuid: get_uuid(row, "uuid")?,
        app_id: get(row, "app_id")?,
        release: get(row, "release")?,
        proc_type: get(row, "proc_type")?,
        num: num as u32,
        state: InstanceState::parse(&state).unwrap_or(InstanceState::Created),
        exit_code: get(row, "exit_code")?,
        message: get(row, "message")?,
        engine_id: get(row, "engine_id")?,
        node: get(row, "node")?,
        restarts: restarts as u32,
        next_restart: get_opt_ts(row, "next_restart")?,
        restart_requested: get(row, "restart_requested")?,
        stopped: get(row, "stopped")?,
        ports: get_json(row, "ports")?,
        created: get_ts(row, "created")?,
        updated: get_ts(row, "updated")?,
    })
}

fn job_from(row: &SqliteRow) -> StoreResult<Job> {
    let state: String = get(row, "state")?;
    Ok(Job {
        uuid: get_uuid(row, "uuid")?,
        owner_id: get(row, "owner_id")?,
        app_id: get(row, "app_id")?,
        kind: get(row, "kind")?,
        image: get(row, "image")?,
        command: get(row, "command")?,
        state: JobState::parse(&state).unwrap_or(JobState::Failed),
        exit_code: get(row, "exit_code")?,
        output: get(row, "output")?,
        created: get_ts(row, "created")?,
        finished: get_opt_ts(row, "finished")?,
    })
}

fn desired_from(row: &SqliteRow) -> StoreResult<DesiredApp> {
    let desired: String = get(row, "desired")?;
    let runnable: i64 = get(row, "runnable")?;
    let policy: RunPolicy = get_opt_json(row, "policy")?.unwrap_or_default();
    Ok(DesiredApp {
        app_id: get(row, "id")?,
        desired: Desired::parse(&desired).unwrap_or(Desired::On),
        structure: get_json(row, "structure")?,
        release: get(row, "release")?,
        runnable: runnable != 0,
        error: get(row, "error")?,
        restart: policy.restart,
        autodestroy: policy.autodestroy,
    })
}

const DESIRED_QUERY: &str = "SELECT a.id, a.desired, a.structure, a.release, a.error, c.policy, \
     (r.build IS NOT NULL) AS runnable FROM apps a \
     LEFT JOIN releases r ON r.app_id = a.id AND r.version = a.release \
     LEFT JOIN configs c ON c.uuid = r.config";

fn collect<T>(rows: Vec<SqliteRow>, f: fn(&SqliteRow) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn count_users(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn create_user(
        &self,
        username: &str,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<User> {
        // The admin decision and the insert share one statement, so two
        // concurrent first registrations cannot both become administrator.
        let row = sqlx::query(
            "INSERT INTO users (username, email, password_hash, is_admin, created) \
             VALUES (?, ?, ?, (SELECT COUNT(*) = 0 FROM users), ?) RETURNING *",
        )
        .bind(username)
        .bind(email)
        .bind(password_hash)
        .bind(ts(now()))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        user_from(&row)
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_admin(&self, user_id: i64, is_admin: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET is_admin = ? WHERE id = ?")
            .bind(is_admin)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn list_admins(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users WHERE is_admin = 1 ORDER BY username")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        collect(rows, user_from)
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        collect(rows, user_from)
    }

    async fn touch_login(&self, user_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET last_login = ? WHERE id = ?")
            .bind(ts(now()))
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_user(&self, user_id: i64) -> StoreResult<Vec<String>> {
        let mut tx = self.write_tx().await?;
        let apps: Vec<String> = sqlx::query_scalar("SELECT id FROM apps WHERE owner_id = ?")
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        for app in &apps {
            sqlx::query("DELETE FROM instances WHERE app_id = ?")
                .bind(app)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(apps)
    }

    async fn create_token(&self, token: &Token, secret_hash: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO tokens (id, user_id, secret_hash, created, expires) VALUES (?, ?, ?, ?, ?)")
            .bind(token.id.to_string())
            .bind(token.user_id)
            .bind(secret_hash)
            .bind(ts(token.created))
            .bind(token.expires.map(ts))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn token_user(
        &self,
        secret_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Token, User)>> {
        let row = sqlx::query(
            "SELECT t.id AS token_id, t.created AS token_created, t.expires, u.* FROM tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ? AND t.revoked IS NULL",
        )
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let token = Token {
            id: get_uuid(&row, "token_id")?,
            user_id: get(&row, "id")?,
            created: get_ts(&row, "token_created")?,
            expires: get_opt_ts(&row, "expires")?,
        };
        if token.expires.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        Ok(Some((token, user_from(&row)?)))
    }

    async fn revoke_user_tokens(&self, user_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE tokens SET revoked = ? WHERE user_id = ? AND revoked IS NULL")
            .bind(ts(now()))
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_app(
        &self,
        app: &App,
        config: &Config,
        build: Option<&Build>,
        releases: &[Release],
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
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
        .bind(ts(app.updated))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
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
        let row = sqlx::query(&format!(
            "SELECT {APP_JSON} AS app FROM {APPS_JOIN_OWNERS} WHERE a.uuid = ?"
        ))
        .bind(uuid.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(app_from).transpose()
    }

    async fn get_app(&self, id: &str) -> StoreResult<Option<App>> {
        let row = sqlx::query(&format!(
            "SELECT {APP_JSON} AS app FROM {APPS_JOIN_OWNERS} WHERE a.id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(app_from).transpose()
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
        let mut items = get_json::<Vec<AppRecord>>(&row, "apps")?
            .into_iter()
            .map(AppRecord::into_app)
            .collect::<StoreResult<Vec<App>>>()?;
        // An aggregate's input order is not a promise SQL makes.
        items.sort_by(|x, y| x.id.cmp(&y.id));
        Ok(Page {
            items,
            total: get(&row, "total")?,
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
            sqlx::query(q)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for q in [
            "DELETE FROM grants WHERE object = ?",
            "DELETE FROM events WHERE object = ?",
        ] {
            sqlx::query(q)
                .bind(&object)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query("INSERT OR REPLACE INTO tombstones (app_uuid, owner_id, body, deleted) VALUES (?, ?, ?, ?)")
            .bind(tombstone.app.uuid.to_string())
            .bind(tombstone.app.owner_id)
            .bind(json(tombstone))
            .bind(ts(tombstone.deleted))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn list_tombstones(&self, user: &User, since: Timestamp) -> StoreResult<Vec<Tombstone>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM tombstones WHERE deleted > ? AND (? OR owner_id = ?) ORDER BY deleted DESC",
        )
        .bind(ts(since))
        .bind(user.is_admin)
        .bind(user.id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(backend))
            .collect()
    }

    async fn get_tombstone(&self, app_uuid: Uuid) -> StoreResult<Option<Tombstone>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM tombstones WHERE app_uuid = ?")
                .bind(app_uuid.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        body.map(|b| serde_json::from_str(&b).map_err(backend))
            .transpose()
    }

    async fn purge_tombstones(&self, before: Timestamp) -> StoreResult<()> {
        sqlx::query("DELETE FROM tombstones WHERE deleted <= ?")
            .bind(ts(before))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_structure(&self, id: &str, structure: &Structure) -> StoreResult<()> {
        let done = sqlx::query("UPDATE apps SET structure = ?, updated = ? WHERE id = ?")
            .bind(json(structure))
            .bind(ts(now()))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("app {id}")));
        }
        Ok(())
    }

    async fn set_desired(&self, id: &str, desired: Desired) -> StoreResult<()> {
        sqlx::query("UPDATE apps SET desired = ?, updated = ? WHERE id = ?")
            .bind(desired.as_str())
            .bind(ts(now()))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_app_meta(&self, id: &str, meta: &serde_json::Value) -> StoreResult<()> {
        sqlx::query("UPDATE apps SET meta = ?, updated = ? WHERE id = ?")
            .bind(json(meta))
            .bind(ts(now()))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_stop_at(&self, id: &str, stop_at: Option<Timestamp>) -> StoreResult<()> {
        sqlx::query("UPDATE apps SET stop_at = ? WHERE id = ?")
            .bind(stop_at.map(ts))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
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
        sqlx::query("UPDATE apps SET error = ? WHERE id = ? AND error IS NOT ?")
            .bind(error)
            .bind(id)
            .bind(error)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

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
        sqlx::query("UPDATE apps SET release = ?, updated = ? WHERE id = ?")
            .bind(release.version)
            .bind(ts(t))
            .bind(&new.app_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(release)
    }

    async fn get_release(&self, app_id: &str, version: i64) -> StoreResult<Option<Release>> {
        let row = sqlx::query("SELECT * FROM releases WHERE app_id = ? AND version = ?")
            .bind(app_id)
            .bind(version)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(release_from).transpose()
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
            release_from,
        )
        .await
    }

    async fn get_build(&self, uuid: Uuid) -> StoreResult<Option<Build>> {
        let row = sqlx::query("SELECT * FROM builds WHERE uuid = ?")
            .bind(uuid.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(build_from).transpose()
    }

    async fn list_builds(&self, app_id: &str, offset: i64, limit: i64) -> StoreResult<Page<Build>> {
        self.app_page("builds", "created DESC", app_id, offset, limit, build_from)
            .await
    }

    async fn get_config(&self, uuid: Uuid) -> StoreResult<Option<Config>> {
        let row = sqlx::query("SELECT * FROM configs WHERE uuid = ?")
            .bind(uuid.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(config_from).transpose()
    }

    async fn desired_apps(&self) -> StoreResult<Vec<DesiredApp>> {
        let rows = sqlx::query(DESIRED_QUERY)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        collect(rows, desired_from)
    }

    async fn desired_app(&self, id: &str) -> StoreResult<Option<DesiredApp>> {
        let row = sqlx::query(&format!("{DESIRED_QUERY} WHERE a.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(desired_from).transpose()
    }

    async fn list_instances(&self, app_id: Option<&str>) -> StoreResult<Vec<Instance>> {
        let rows = match app_id {
            Some(id) => {
                sqlx::query(
                    "SELECT * FROM instances WHERE app_id = ? ORDER BY proc_type, num, release",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query("SELECT * FROM instances ORDER BY app_id, proc_type, num, release")
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(db_err)?;
        collect(rows, instance_from)
    }

    async fn insert_instance(&self, i: &Instance) -> StoreResult<bool> {
        // Conditional, so a pass planned before the app was deleted or
        // re-released cannot add a row (and start a container) after it.
        let done = sqlx::query(
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
        .bind(ts(i.updated))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn observe_instance(&self, o: &Observation) -> StoreResult<()> {
        sqlx::query(
            "UPDATE instances SET state = ?, exit_code = ?, message = ?, engine_id = ?, node = ?, \
             restarts = ?, next_restart = ?, ports = ?, updated = ? WHERE uuid = ?",
        )
        .bind(o.state.as_str())
        .bind(o.exit_code)
        .bind(&o.message)
        .bind(&o.engine_id)
        .bind(&o.node)
        .bind(i64::from(o.restarts))
        .bind(o.next_restart.map(ts))
        .bind(json(&o.ports))
        .bind(ts(now()))
        .bind(o.instance.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_instance(&self, uuid: Uuid) -> StoreResult<Option<Instance>> {
        let row = sqlx::query("SELECT * FROM instances WHERE uuid = ?")
            .bind(uuid.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(instance_from).transpose()
    }

    async fn destroy_instance(&self, uuid: Uuid) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("DELETE FROM instances WHERE uuid = ? RETURNING app_id, proc_type")
            .bind(uuid.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(row) = row {
            let app_id: String = get(&row, "app_id")?;
            let proc_type: String = get(&row, "proc_type")?;
            let structure: Option<String> =
                sqlx::query_scalar("SELECT structure FROM apps WHERE id = ?")
                    .bind(&app_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if let Some(structure) = structure {
                let mut structure: Structure = serde_json::from_str(&structure).map_err(backend)?;
                if let Some(n) = structure.get_mut(&proc_type) {
                    *n = n.saturating_sub(1);
                }
                sqlx::query("UPDATE apps SET structure = ?, updated = ? WHERE id = ?")
                    .bind(json(&structure))
                    .bind(ts(now()))
                    .bind(&app_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn set_instance_stopped(&self, uuid: Uuid, stopped: bool) -> StoreResult<()> {
        sqlx::query("UPDATE instances SET stopped = ? WHERE uuid = ?")
            .bind(stopped)
            .bind(uuid.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_instance(&self, uuid: Uuid) -> StoreResult<()> {
        sqlx::query("DELETE FROM instances WHERE uuid = ?")
            .bind(uuid.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn request_restart(&self, uuids: &[Uuid]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for u in uuids {
            sqlx::query("UPDATE instances SET restart_requested = 1 WHERE uuid = ?")
                .bind(u.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn clear_restart(&self, uuid: Uuid) -> StoreResult<()> {
        sqlx::query("UPDATE instances SET restart_requested = 0 WHERE uuid = ?")
            .bind(uuid.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn add_event(&self, object: &str, actor: &str, message: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO events (object, actor, message, created) VALUES (?, ?, ?, ?)")
            .bind(object)
            .bind(actor)
            .bind(message)
            .bind(ts(now()))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn list_events(&self, object: &str, limit: i64) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT * FROM (SELECT * FROM events WHERE object = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
        )
        .bind(object)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(Event {
                    id: get(row, "id")?,
                    object: get(row, "object")?,
                    actor: get(row, "actor")?,
                    message: get(row, "message")?,
                    created: get_ts(row, "created")?,
                })
            })
            .collect()
    }

    async fn grant(&self, object: &str, user_id: i64, level: Level) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO grants (object, user_id, level, created) VALUES (?, ?, ?, ?) \
             ON CONFLICT (object, user_id) DO UPDATE SET level = excluded.level",
        )
        .bind(object)
        .bind(user_id)
        .bind(level.as_str())
        .bind(ts(now()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn revoke(&self, object: &str, user_id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM grants WHERE object = ? AND user_id = ?")
            .bind(object)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn grant_level(&self, object: &str, user_id: i64) -> StoreResult<Option<Level>> {
        let level: Option<String> =
            sqlx::query_scalar("SELECT level FROM grants WHERE object = ? AND user_id = ?")
                .bind(object)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(level.as_deref().and_then(Level::parse))
    }

    async fn grantees(&self, object: &str) -> StoreResult<Vec<(String, Level)>> {
        let rows = sqlx::query(
            "SELECT u.username, g.level FROM grants g JOIN users u ON u.id = g.user_id \
             WHERE g.object = ? ORDER BY u.username",
        )
        .bind(object)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let level: String = get(r, "level")?;
                Ok((
                    get(r, "username")?,
                    Level::parse(&level).unwrap_or(Level::Read),
                ))
            })
            .collect()
    }

    async fn add_domain(&self, d: &Domain) -> StoreResult<()> {
        sqlx::query("INSERT INTO domains (domain, app_id, owner, created) VALUES (?, ?, ?, ?)")
            .bind(&d.domain)
            .bind(&d.app_id)
            .bind(&d.owner)
            .bind(ts(d.created))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn list_domains(
        &self,
        app_id: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Domain>> {
        self.app_page("domains", "domain", app_id, offset, limit, domain_from)
            .await
    }

    async fn remove_domain(&self, app_id: &str, domain: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM domains WHERE app_id = ? AND domain = ?")
            .bind(app_id)
            .bind(domain)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_key(&self, user_id: i64, k: &SshKey) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO ssh_keys (uuid, user_id, id, public, fingerprint, created) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(k.uuid.to_string())
        .bind(user_id)
        .bind(&k.id)
        .bind(&k.public)
        .bind(&k.fingerprint)
        .bind(ts(k.created))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_keys(&self, user_id: i64, offset: i64, limit: i64) -> StoreResult<Page<SshKey>> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ssh_keys WHERE user_id = ?")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT k.*, u.username AS owner FROM ssh_keys k JOIN users u ON u.id = k.user_id \
             WHERE k.user_id = ? ORDER BY k.id LIMIT ? OFFSET ?",
        )
        .bind(user_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(SshKey {
                    uuid: get_uuid(r, "uuid")?,
                    id: get(r, "id")?,
                    owner: get(r, "owner")?,
                    public: get(r, "public")?,
                    fingerprint: get(r, "fingerprint")?,
                    created: get_ts(r, "created")?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(Page { items, total })
    }

    async fn remove_key(&self, user_id: i64, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM ssh_keys WHERE user_id = ? AND id = ?")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_job(&self, j: &Job) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO jobs (uuid, owner_id, app_id, kind, image, command, state, output, created) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(j.uuid.to_string())
        .bind(j.owner_id)
        .bind(&j.app_id)
        .bind(&j.kind)
        .bind(&j.image)
        .bind(&j.command)
        .bind(j.state.as_str())
        .bind(&j.output)
        .bind(ts(j.created))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn finish_job(
        &self,
        uuid: Uuid,
        state: JobState,
        exit_code: Option<i64>,
        output: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE jobs SET state = ?, exit_code = ?, output = ?, finished = ? WHERE uuid = ?",
        )
        .bind(state.as_str())
        .bind(exit_code)
        .bind(output)
        .bind(ts(now()))
        .bind(uuid.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_job(&self, uuid: Uuid) -> StoreResult<Option<Job>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE uuid = ?")
            .bind(uuid.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(job_from).transpose()
    }

    async fn fail_interrupted_jobs(&self, message: &str) -> StoreResult<Vec<Uuid>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE jobs SET state = 'FAILED', output = output || ?, finished = ? \
             WHERE state IN ('RUNNING', 'PENDING') RETURNING uuid",
        )
        .bind(message)
        .bind(ts(now()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        ids.iter()
            .map(|s| Uuid::parse_str(s).map_err(backend))
            .collect()
    }
}

impl SqliteStore {
    /// One page of an app's rows in `table` (a fixed table name, never
    /// input), ordered by `order`, with the total they were cut from.
    async fn app_page<T>(
        &self,
        table: &'static str,
        order: &'static str,
        app_id: &str,
        offset: i64,
        limit: i64,
        from: fn(&SqliteRow) -> StoreResult<T>,
    ) -> StoreResult<Page<T>> {
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE app_id = ?"))
                .bind(app_id)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        let rows = sqlx::query(&format!(
            "SELECT * FROM {table} WHERE app_id = ? ORDER BY {order} LIMIT ? OFFSET ?"
        ))
        .bind(app_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Page {
            items: collect(rows, from)?,
            total,
        })
    }
}

fn domain_from(r: &SqliteRow) -> StoreResult<Domain> {
    Ok(Domain {
        domain: get(r, "domain")?,
        app_id: get(r, "app_id")?,
        owner: get(r, "owner")?,
        created: get_ts(r, "created")?,
    })
}

async fn insert_config(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    c: &Config,
) -> StoreResult<()> {
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
    .bind(ts(c.created))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_build(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, b: &Build) -> StoreResult<()> {
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
    .bind(ts(b.created))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_release(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    r: &Release,
) -> StoreResult<()> {
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
    .bind(ts(r.created))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        (dir, SqliteStore::connect(&url).await.unwrap())
    }

    #[tokio::test]
    async fn first_user_is_admin_and_names_are_unique() {
        let (_d, s) = store().await;
        let a = s.create_user("alice", "", "h").await.unwrap();
        let b = s.create_user("bob", "", "h").await.unwrap();
        assert!(a.is_admin && !b.is_admin);
        assert!(matches!(
            s.create_user("alice", "", "h").await,
            Err(StoreError::Conflict(_))
        ));
    }

    #[tokio::test]
    async fn releases_number_up_and_app_deletion_cascades() {
        let (_d, s) = store().await;
        let u = s.create_user("alice", "", "h").await.unwrap();
        let t = now();
        let app = App {
            id: "demo".into(),
            uuid: Uuid::new_v4(),
            owner_id: u.id,
            owner: "alice".into(),
            kind: AppKind::App,
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
            app_id: "demo".into(),
            owner: "alice".into(),
            values: ConfigValues::default(),
            created: t,
        };
        let r1 = Release {
            uuid: Uuid::new_v4(),
            app_id: "demo".into(),
            owner: "alice".into(),
            version: 1,
            build: None,
            config: config.uuid,
            summary: "init".into(),
            created: t,
        };
        s.create_app(&app, &config, None, std::slice::from_ref(&r1))
            .await
            .unwrap();
        assert!(matches!(
            s.create_app(&app, &config, None, std::slice::from_ref(&r1))
                .await,
            Err(StoreError::Conflict(_))
        ));
        let r2 = s
            .create_release(&NewRelease {
                app_id: "demo".into(),
                owner: "alice".into(),
                new_build: None,
                build: None,
                new_config: None,
                config: config.uuid,
                summary: "again".into(),
            })
            .await
            .unwrap();
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
