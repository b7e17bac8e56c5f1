//! Rows read back into core's types.
//!
//! One policy for a stored value that does not decode (a wrong type, an
//! unknown state, a bad uuid, timestamp or JSON): reading it is a
//! [`StoreError::Backend`] naming the table and column, never a default
//! standing in for what was stored. A NULL in a nullable column is not such
//! a failure; it reads as `None` (or, where the comment says so, empty).

use std::collections::BTreeMap;
use std::fmt::Display;

use berth_core::image::ImageRef;
use berth_core::jobs::ScriptJob;
use berth_core::model::catalog::{
    CatalogStatus, ImageRepo, ImageVersion, RepoKind, Task, TaskState,
};
use berth_core::model::volume::{AllowedImage, Snapshot, Volume};
use berth_core::model::*;
use berth_core::plan::DesiredApp;
use berth_core::routing::declares_health_check;
use berth_core::store::{StoreError, StoreResult};
use berth_core::templates::{Template, TemplateTag};
use serde::de::DeserializeOwned;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

fn undecodable(table: Option<&str>, column: &str, why: impl Display) -> StoreError {
    let at = match table {
        Some(table) => format!("{table}.{column}"),
        None => column.to_string(),
    };
    StoreError::Backend(format!("stored {at} does not decode: {why}"))
}

fn parse_ts(text: &str) -> Result<Timestamp, time::error::Parse> {
    Timestamp::parse(text, &Rfc3339)
}

/// Parses text stored at `table.column`.
fn parse_stored<T, E: Display>(
    table: Option<&str>,
    column: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> StoreResult<T> {
    parse(text).map_err(|e| undecodable(table, column, e))
}

/// `parse`, with a name it does not know an error saying so.
fn or_unknown<T>(parse: fn(&str) -> Option<T>) -> impl Fn(&str) -> Result<T, String> {
    move |text| parse(text).ok_or_else(|| format!("unknown value {text:?}"))
}

/// The columns of one row, read from `table`.
pub(crate) struct Columns<'r> {
    row: &'r SqliteRow,
    table: Option<&'static str>,
}

impl<'r> Columns<'r> {
    pub(crate) fn of(table: &'static str, row: &'r SqliteRow) -> Self {
        Columns {
            row,
            table: Some(table),
        }
    }

    pub(crate) fn get<T>(&self, column: &str) -> StoreResult<T>
    where
        T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
    {
        self.row
            .try_get(column)
            .map_err(|e| undecodable(self.table, column, e))
    }

    /// A text column parsed by `parse`.
    fn text_as<T, E: Display>(
        &self,
        column: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> StoreResult<T> {
        let text: String = self.get(column)?;
        parse_stored(self.table, column, &text, parse)
    }

    /// A nullable text column parsed by `parse`.
    fn opt_text_as<T, E: Display>(
        &self,
        column: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> StoreResult<Option<T>> {
        let text: Option<String> = self.get(column)?;
        text.map(|t| parse_stored(self.table, column, &t, parse))
            .transpose()
    }

    pub(crate) fn uuid(&self, column: &str) -> StoreResult<Uuid> {
        self.text_as(column, Uuid::parse_str)
    }

    pub(crate) fn opt_uuid(&self, column: &str) -> StoreResult<Option<Uuid>> {
        self.opt_text_as(column, Uuid::parse_str)
    }

    pub(crate) fn ts(&self, column: &str) -> StoreResult<Timestamp> {
        self.text_as(column, parse_ts)
    }

    pub(crate) fn opt_ts(&self, column: &str) -> StoreResult<Option<Timestamp>> {
        self.opt_text_as(column, parse_ts)
    }

    pub(crate) fn json<T: DeserializeOwned>(&self, column: &str) -> StoreResult<T> {
        self.text_as(column, |text| serde_json::from_str(text))
    }

    pub(crate) fn opt_json<T: DeserializeOwned>(&self, column: &str) -> StoreResult<Option<T>> {
        self.opt_text_as(column, |text| serde_json::from_str(text))
    }

    /// An integer column holding one of the codes `parse` knows.
    pub(crate) fn coded<T>(&self, column: &str, parse: fn(i64) -> Option<T>) -> StoreResult<T> {
        let code: i64 = self.get(column)?;
        parse(code).ok_or_else(|| undecodable(self.table, column, format!("unknown code {code}")))
    }

    /// A text column holding one of the names `parse` knows.
    pub(crate) fn named<T>(&self, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
        self.text_as(column, or_unknown(parse))
    }
}

// Column readers for decoders that do not name their table (the catalog's):
// the same policy, with errors that name only the column.

// ------------------------------------------------------------------ identity

/// A `users` row, or the `u.*` part of a join.
pub(crate) fn user(row: &SqliteRow) -> StoreResult<User> {
    let r = Columns::of("users", row);
    Ok(User {
        id: r.get("id")?,
        username: r.get("username")?,
        email: r.get("email")?,
        password_hash: r.get("password_hash")?,
        is_admin: r.get("is_admin")?,
        is_active: r.get("is_active")?,
        tenant: r.get("tenant")?,
        name: PersonalName {
            first: r.get("first_name")?,
            last: r.get("last_name")?,
        },
        created: r.ts("created")?,
        last_login: r.opt_ts("last_login")?,
    })
}

/// The token half of `token_user`'s join: its columns renamed `token_*`
/// where they clash with the user's, and `id` being the user's.
pub(crate) fn token(row: &SqliteRow) -> StoreResult<Token> {
    let r = Columns::of("tokens", row);
    Ok(Token {
        id: r.uuid("token_id")?,
        user_id: r.get("id")?,
        created: r.ts("token_created")?,
        expires: r.opt_ts("expires")?,
    })
}

// ---------------------------------------------------------------------- apps

/// An app with its owner's name, as one JSON object per row: a page of apps
/// then crosses from SQLite as a single value instead of a row per app.
pub(crate) const APP_JSON: &str = "json_object('id', a.id, 'uuid', a.uuid, 'owner_id', a.owner_id, \
     'owner', u.username, 'kind', a.kind, 'desired', a.desired, 'structure', json(a.structure), \
     'release', a.release, 'error', a.error, 'stop_at', a.stop_at, 'meta', json(a.meta), \
     'created', a.created, 'updated', a.updated)";
pub(crate) const APPS_JOIN_OWNERS: &str = "apps a JOIN users u ON u.id = a.owner_id";

/// The shape of [`APP_JSON`].
#[derive(serde::Deserialize)]
pub(crate) struct AppRecord {
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

fn app_kind(text: &str) -> Option<AppKind> {
    match text {
        "app" => Some(AppKind::App),
        "pod" => Some(AppKind::Pod),
        _ => None,
    }
}

impl AppRecord {
    pub(crate) fn into_app(self) -> StoreResult<App> {
        const APPS: Option<&str> = Some("apps");
        let time = |column: &str, text: &str| parse_stored(APPS, column, text, parse_ts);
        Ok(App {
            kind: parse_stored(APPS, "kind", &self.kind, or_unknown(app_kind))?,
            desired: parse_stored(APPS, "desired", &self.desired, or_unknown(Desired::parse))?,
            stop_at: self
                .stop_at
                .as_deref()
                .map(|t| time("stop_at", t))
                .transpose()?,
            created: time("created", &self.created)?,
            updated: time("updated", &self.updated)?,
            id: self.id,
            uuid: self.uuid,
            owner_id: self.owner_id,
            owner: self.owner,
            structure: self.structure,
            release: self.release,
            error: self.error,
            meta: self.meta,
        })
    }
}

/// A row of one `app` column holding [`APP_JSON`].
pub(crate) fn app(row: &SqliteRow) -> StoreResult<App> {
    Columns::of("apps", row)
        .json::<AppRecord>("app")?
        .into_app()
}

pub(crate) fn tombstone(row: &SqliteRow) -> StoreResult<Tombstone> {
    Columns::of("tombstones", row).json("body")
}

// ------------------------------------------------------------------ releases

pub(crate) fn build(row: &SqliteRow) -> StoreResult<Build> {
    let r = Columns::of("builds", row);
    Ok(Build {
        uuid: r.uuid("uuid")?,
        app_id: r.get("app_id")?,
        owner: r.get("owner")?,
        image: r.get("image")?,
        procfile: r.json("procfile")?,
        dockerfile: r.get("dockerfile")?,
        sha: r.get("sha")?,
        command: r.opt_json("command")?,
        entrypoint: r.opt_json("entrypoint")?,
        created: r.ts("created")?,
    })
}

pub(crate) fn config(row: &SqliteRow) -> StoreResult<Config> {
    let r = Columns::of("configs", row);
    Ok(Config {
        uuid: r.uuid("uuid")?,
        app_id: r.get("app_id")?,
        owner: r.get("owner")?,
        values: config_values(&r)?,
        created: r.ts("created")?,
    })
}

/// A config's values from its columns (`vals`, `memory`, `cpu`, `tags`, `policy`).
pub(crate) fn config_values(r: &Columns<'_>) -> StoreResult<ConfigValues> {
    Ok(ConfigValues {
        values: r.json("vals")?,
        memory: r.json("memory")?,
        cpu: r.json("cpu")?,
        tags: r.json("tags")?,
        policy: r.json("policy")?,
    })
}

pub(crate) fn release(row: &SqliteRow) -> StoreResult<Release> {
    let r = Columns::of("releases", row);
    Ok(Release {
        uuid: r.uuid("uuid")?,
        app_id: r.get("app_id")?,
        owner: r.get("owner")?,
        version: r.get("version")?,
        build: r.opt_uuid("build")?,
        config: r.uuid("config")?,
        summary: r.get("summary")?,
        created: r.ts("created")?,
    })
}

// ----------------------------------------------------------------- instances

/// A row of `instances::DESIRED_QUERY`: an app with its current release's
/// run policy, which is absent while the app has no release config.
pub(crate) fn desired_app(row: &SqliteRow) -> StoreResult<DesiredApp> {
    let apps = Columns::of("apps", row);
    let config = Columns::of("configs", row);
    let policy: RunPolicy = config.opt_json("policy")?.unwrap_or_default();
    let values: BTreeMap<String, String> = config.opt_json("vals")?.unwrap_or_default();
    let runnable: i64 = apps.get("runnable")?;
    Ok(DesiredApp {
        app_id: apps.get("id")?,
        owner_id: apps.get("owner_id")?,
        desired: apps.named("desired", Desired::parse)?,
        structure: apps.json("structure")?,
        release: apps.get("release")?,
        runnable: runnable != 0,
        error: apps.get("error")?,
        restart: policy.restart,
        autodestroy: policy.autodestroy,
        health_checked: declares_health_check(&values),
    })
}

pub(crate) fn instance(row: &SqliteRow) -> StoreResult<Instance> {
    let r = Columns::of("instances", row);
    let num: i64 = r.get("num")?;
    let restarts: i64 = r.get("restarts")?;
    Ok(Instance {
        uuid: r.uuid("uuid")?,
        app_id: r.get("app_id")?,
        release: r.get("release")?,
        proc_type: r.get("proc_type")?,
        num: num as u32,
        state: r.named("state", InstanceState::parse)?,
        exit_code: r.get("exit_code")?,
        message: r.get("message")?,
        engine_id: r.get("engine_id")?,
        node: r.get("node")?,
        restarts: restarts as u32,
        next_restart: r.opt_ts("next_restart")?,
        restart_requested: r.get("restart_requested")?,
        stopped: r.get("stopped")?,
        ports: r.json("ports")?,
        address: r.get("address")?,
        ready: r.get("ready")?,
        created: r.ts("created")?,
        updated: r.ts("updated")?,
    })
}

// -------------------------------------------------------------------- events

pub(crate) fn event(row: &SqliteRow) -> StoreResult<Event> {
    let r = Columns::of("events", row);
    Ok(Event {
        id: r.get("id")?,
        object: r.get("object")?,
        actor: r.get("actor")?,
        message: r.get("message")?,
        created: r.ts("created")?,
    })
}

// -------------------------------------------------------------------- access

pub(crate) fn level(row: &SqliteRow) -> StoreResult<Level> {
    Columns::of("grants", row).named("level", Level::parse)
}

/// A grant's level with its grantee's `username`.
pub(crate) fn grantee(row: &SqliteRow) -> StoreResult<(String, Level)> {
    Ok((Columns::of("users", row).get("username")?, level(row)?))
}

pub(crate) fn domain(row: &SqliteRow) -> StoreResult<Domain> {
    let r = Columns::of("domains", row);
    Ok(Domain {
        domain: r.get("domain")?,
        app_id: r.get("app_id")?,
        owner: r.get("owner")?,
        created: r.ts("created")?,
    })
}

/// A `certs` row with its user's name as `owner`.
pub(crate) fn certificate(row: &SqliteRow) -> StoreResult<Certificate> {
    let r = Columns::of("certs", row);
    Ok(Certificate {
        common_name: r.get("common_name")?,
        owner: r.get("owner")?,
        san: r.json("san")?,
        expires: r.ts("expires")?,
        created: r.ts("created")?,
    })
}

/// A `certs` row as the TLS listener loads it: names, chain and key.
pub(crate) fn serving_cert(row: &SqliteRow) -> StoreResult<ServingCert> {
    let r = Columns::of("certs", row);
    let common_name: String = r.get("common_name")?;
    let san: Vec<String> = r.json("san")?;
    let mut names = vec![common_name.clone()];
    names.extend(san.into_iter().filter(|n| *n != common_name));
    Ok(ServingCert {
        names,
        chain_pem: r.get("certificate")?,
        key_pem: r.get("key")?,
    })
}

/// An `ssh_keys` row with its user's name as `owner`.
pub(crate) fn ssh_key(row: &SqliteRow) -> StoreResult<SshKey> {
    let r = Columns::of("ssh_keys", row);
    Ok(SshKey {
        uuid: r.uuid("uuid")?,
        id: r.get("id")?,
        owner: r.get("owner")?,
        public: r.get("public")?,
        fingerprint: r.get("fingerprint")?,
        created: r.ts("created")?,
    })
}

// ---------------------------------------------------------------------- jobs

pub(crate) fn job(row: &SqliteRow) -> StoreResult<Job> {
    let r = Columns::of("jobs", row);
    Ok(Job {
        uuid: r.uuid("uuid")?,
        owner_id: r.get("owner_id")?,
        app_id: r.get("app_id")?,
        kind: r.get("kind")?,
        image: r.get("image")?,
        command: r.get("command")?,
        state: r.named("state", JobState::parse)?,
        exit_code: r.get("exit_code")?,
        output: r.get("output")?,
        created: r.ts("created")?,
        finished: r.opt_ts("finished")?,
    })
}

pub(crate) fn job_uuid(row: &SqliteRow) -> StoreResult<Uuid> {
    Columns::of("jobs", row).uuid("uuid")
}

pub(crate) fn script_job(row: &SqliteRow) -> StoreResult<ScriptJob> {
    let r = Columns::of("jobs", row);
    Ok(ScriptJob {
        job: job(row)?,
        // The column is nullable: other kinds of job leave it NULL.
        script_name: r.get::<Option<String>>("script_name")?.unwrap_or_default(),
        dataset: r.get("dataset")?,
        container_id: r.get("container_id")?,
        node: r.get("node")?,
        started: r.opt_ts("started")?,
        metrics: r.opt_json("metrics")?,
    })
}

// ----------------------------------------------------------------- templates

/// A `templates` row with its owner's name as `owner`.
pub(crate) fn template(row: &SqliteRow) -> StoreResult<Template> {
    let r = Columns::of("templates", row);
    Ok(Template {
        template_id: r.get("template_id")?,
        owner_id: r.get("owner_id")?,
        owner: r.get("owner")?,
        description: r.get("description")?,
        metatags: r.json("metatags")?,
        archive_message: r.get("archive_message")?,
        created: r.ts("created")?,
        updated: r.ts("updated")?,
    })
}

pub(crate) fn volume(row: &SqliteRow) -> StoreResult<Volume> {
    let r = Columns::of("pod_volumes", row);
    Ok(Volume {
        volume_id: r.get("volume_id")?,
        owner_id: r.get("owner_id")?,
        owner: r.get("owner")?,
        description: r.get("description")?,
        size_limit: r.get("size_limit")?,
        created: r.ts("created")?,
        updated: r.ts("updated")?,
    })
}

pub(crate) fn snapshot(row: &SqliteRow) -> StoreResult<Snapshot> {
    let r = Columns::of("pod_snapshots", row);
    Ok(Snapshot {
        snapshot_id: r.get("snapshot_id")?,
        owner_id: r.get("owner_id")?,
        owner: r.get("owner")?,
        source_volume_id: r.get("source_volume_id")?,
        source_volume_path: r.get("source_volume_path")?,
        destination_path: r.get("destination_path")?,
        description: r.get("description")?,
        size_limit: r.get("size_limit")?,
        cron: r.get("cron")?,
        retention_policy: r.get("retention_policy")?,
        created: r.ts("created")?,
        updated: r.ts("updated")?,
    })
}

pub(crate) fn allowed_image(row: &SqliteRow) -> StoreResult<AllowedImage> {
    let r = Columns::of("pod_images", row);
    Ok(AllowedImage {
        image: r.get("image")?,
        tenants: r.json("tenants")?,
        description: r.get("description")?,
        added_by: r.get("added_by")?,
        created: r.ts("created")?,
    })
}

pub(crate) fn template_tag(row: &SqliteRow) -> StoreResult<TemplateTag> {
    let r = Columns::of("template_tags", row);
    Ok(TemplateTag {
        template_id: r.get("template_id")?,
        tag: r.get("tag")?,
        tag_timestamp: r.get("tag_timestamp")?,
        pod_definition: r.json("pod_definition")?,
        commit_message: r.get("commit_message")?,
        added_by: r.get("added_by")?,
        created: r.ts("created")?,
    })
}

// ------------------------------------------------------------------ catalog

/// An `image_repos` row joined with its owner's name; labels are read apart.
pub(crate) fn image_repo(row: &SqliteRow) -> StoreResult<ImageRepo> {
    let r = Columns::of("image_repos", row);
    Ok(ImageRepo {
        id: r.get("id")?,
        name: r.get("name")?,
        kind: r.coded("kind", RepoKind::from_code)?,
        readme: r.get("readme")?,
        is_public: r.get("is_public")?,
        status: r.coded("status", CatalogStatus::from_code)?,
        owner_id: r.get("owner_id")?,
        owner: r.get("owner")?,
        labels: Vec::new(),
        created: r.ts("created")?,
        updated: r.ts("updated")?,
    })
}

pub(crate) fn image_version(row: &SqliteRow) -> StoreResult<ImageVersion> {
    let r = Columns::of("image_versions", row);
    Ok(ImageVersion {
        id: r.get("id")?,
        repo_id: r.get("repo_id")?,
        name: r.get("name")?,
        image_ref: r.get("image_ref")?,
        image: ImageRef {
            registry: r.get("registry")?,
            namespace: r.get("namespace")?,
            repository: r.get("repository")?,
            tag: r.get("tag")?,
            digest: r.get("digest")?,
        },
        command: r.get("command")?,
        env_vars: r.opt_json("env_vars")?,
        github_link: r.get("github_link")?,
        helm_config: r.opt_json("helm_config")?,
        usage: r.get("usage")?,
        status: r.coded("status", CatalogStatus::from_code)?,
        created: r.ts("created")?,
        updated: r.ts("updated")?,
    })
}

pub(crate) fn task(row: &SqliteRow) -> StoreResult<Task> {
    let r = Columns::of("tasks", row);
    Ok(Task {
        id: r.uuid("id")?,
        kind: r.get("kind")?,
        owner_id: r.get("owner_id")?,
        group_id: r.uuid("group_id")?,
        trace_id: r.uuid("trace_id")?,
        state: r.named("state", TaskState::parse)?,
        payload: r.json("payload")?,
        log: r.get("log")?,
        result: r.opt_json("result")?,
        created: r.ts("created")?,
        updated: r.ts("updated")?,
    })
}

#[cfg(test)]
mod tests {
    use berth_core::store::prelude::*;

    use super::*;
    use crate::testing::store;
    use crate::{SqliteStore, ts};

    /// Writes a row the store itself never would, as a damaged or
    /// hand-edited database holds it.
    async fn write_raw(s: &SqliteStore, sql: &str, values: &[&str]) {
        let mut query = sqlx::query(sql);
        for v in values {
            query = query.bind(*v);
        }
        query.execute(&s.pool).await.unwrap();
    }

    #[track_caller]
    fn assert_undecodable<T: std::fmt::Debug>(result: StoreResult<T>, at: &str, value: &str) {
        match result {
            Err(StoreError::Backend(message)) => assert!(
                message.contains(at) && message.contains(value),
                "{message:?} should name {at} and {value}"
            ),
            other => panic!("expected a decode error naming {at}, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_stored_value_that_does_not_decode_is_an_error_naming_its_column() {
        let (_d, s) = store().await;
        let alice = s.create_user("alice", "", "h").await.unwrap();
        let owner = alice.id.to_string();
        let t = ts(now());

        let insert_instance = "INSERT INTO instances (uuid, app_id, release, proc_type, num, \
             state, ports, created, updated) VALUES (?1, 'demo', 1, 'web', ?2, ?3, ?4, ?5, ?5)";
        let bad_state = Uuid::new_v4();
        let values = [&bad_state.to_string(), "1", "zzz", "[]", &t];
        write_raw(&s, insert_instance, &values).await;
        assert_undecodable(s.get_instance(bad_state).await, "instances.state", "zzz");
        assert_undecodable(s.list_instances(None).await, "instances.state", "zzz");
        let bad_json = Uuid::new_v4();
        let values = [&bad_json.to_string(), "2", "up", "not json", &t];
        write_raw(&s, insert_instance, &values).await;
        assert_undecodable(s.get_instance(bad_json).await, "instances.ports", "");

        let job = Uuid::new_v4().to_string();
        write_raw(
            &s,
            "INSERT INTO jobs (uuid, owner_id, kind, image, command, state, created) \
             VALUES (?, ?, 'run', 'busybox', 'true', 'DONE', ?)",
            &[&job, &owner, &t],
        )
        .await;
        assert_undecodable(s.get_job(job.parse().unwrap()).await, "jobs.state", "DONE");

        write_raw(
            &s,
            "INSERT INTO ssh_keys (uuid, user_id, id, public, fingerprint, created) \
             VALUES ('not-a-uuid', ?, 'k', 'ssh-ed25519 AAAA', 'fp', ?)",
            &[&owner, &t],
        )
        .await;
        assert_undecodable(s.list_keys(alice.id, 0, 10).await, "ssh_keys.uuid", "");

        write_raw(
            &s,
            "INSERT INTO events (object, actor, message, created) VALUES ('app:x', 'a', 'm', 'yesterday')",
            &[],
        )
        .await;
        assert_undecodable(s.list_events("app:x", 10).await, "events.created", "");

        write_raw(
            &s,
            "INSERT INTO grants (object, user_id, level, created) VALUES ('app:x', ?, 'OWNER', ?)",
            &[&owner, &t],
        )
        .await;
        assert_undecodable(
            s.grant_level("app:x", alice.id).await,
            "grants.level",
            "OWNER",
        );
        assert_undecodable(s.grantees("app:x").await, "grants.level", "OWNER");

        write_raw(
            &s,
            "INSERT INTO apps (id, uuid, owner_id, kind, desired, release, created, updated) \
             VALUES ('demo', ?, ?, 'vm', 'ON', 1, ?, ?3)",
            &[&Uuid::new_v4().to_string(), &owner, &t],
        )
        .await;
        assert_undecodable(s.get_app("demo").await, "apps.kind", "vm");
        assert_undecodable(s.list_apps(&alice, 0, 10).await, "apps.kind", "vm");
        write_raw(
            &s,
            "UPDATE apps SET kind = 'app', desired = 'SOMETIMES'",
            &[],
        )
        .await;
        assert_undecodable(s.get_app("demo").await, "apps.desired", "SOMETIMES");
        assert_undecodable(s.desired_apps().await, "apps.desired", "SOMETIMES");
    }
}
