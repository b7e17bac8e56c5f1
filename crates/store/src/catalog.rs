//! [`CatalogStore`]: image repositories, versions and tasks. Searches are
//! built by `search` with [`QueryBuilder`].

use async_trait::async_trait;
use berth_core::catalog::*;
use berth_core::model::Timestamp;
use berth_core::store::{CatalogStore, Page, StoreResult};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

use self::search::{column, push_where};
use crate::rows::{self, Columns};
use crate::{SqliteStore, Statement, backend, db_err, execute, json, ts};

mod search;

/// Tasks keep the last this many bytes of their log.
const MAX_TASK_LOG: i64 = 1 << 20;

const REPO_SELECT: &str = "SELECT r.id, r.name, r.kind, r.readme, r.is_public, r.status, \
     r.owner_id, u.username AS owner, r.created, r.updated \
     FROM image_repos r JOIN users u ON u.id = r.owner_id";

/// Binds a version's definition (image, command, parameters, links) in the
/// column order `VERSION_DEFINITION` names.
fn bind_definition<'q>(statement: Statement<'q>, v: &'q ImageVersion) -> Statement<'q> {
    statement
        .bind(&v.image_ref)
        .bind(&v.image.registry)
        .bind(&v.image.namespace)
        .bind(&v.image.repository)
        .bind(&v.image.tag)
        .bind(&v.image.digest)
        .bind(&v.command)
        .bind(v.env_vars.as_ref().map(json))
        .bind(&v.github_link)
        .bind(v.helm_config.as_ref().map(json))
}

/// The columns [`bind_definition`] binds, in its order.
const VERSION_DEFINITION: [&str; 10] = [
    "image_ref",
    "registry",
    "namespace",
    "repository",
    "tag",
    "digest",
    "command",
    "env_vars",
    "github_link",
    "helm_config",
];

async fn insert_version_on(conn: &mut SqliteConnection, v: &ImageVersion) -> StoreResult<i64> {
    let insert = format!(
        "INSERT INTO image_versions (repo_id, name, {}, usage, status, created, updated) \
         VALUES (?, ?, {}, ?, ?, ?, ?) RETURNING id",
        VERSION_DEFINITION.join(", "),
        ["?"; VERSION_DEFINITION.len()].join(", ")
    );
    let statement = sqlx::query(&insert).bind(v.repo_id).bind(&v.name);
    let row = bind_definition(statement, v)
        .bind(v.usage)
        .bind(v.status.code())
        .bind(ts(v.created))
        .bind(ts(v.updated))
        .fetch_one(conn)
        .await
        .map_err(db_err)?;
    Columns::of("image_versions", &row).get("id")
}

fn built_image(row: &sqlx::sqlite::SqliteRow) -> StoreResult<BuiltImage> {
    let c = Columns::of("built_images", row);
    Ok(BuiltImage {
        image: c.get("image")?,
        owner_id: c.get("owner_id")?,
        repo_id: c.get("repo_id")?,
        created: c.ts("created")?,
    })
}

impl SqliteStore {
    async fn attach_labels(&self, repos: &mut [ImageRepo]) -> StoreResult<()> {
        if repos.is_empty() {
            return Ok(());
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT repo_id, key, value FROM image_repo_labels WHERE repo_id IN (",
        );
        let mut ids = qb.separated(", ");
        for r in repos.iter() {
            ids.push_bind(r.id);
        }
        qb.push(") ORDER BY key, value");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        for row in &rows {
            let label = Columns::of("image_repo_labels", row);
            let repo_id: i64 = label.get("repo_id")?;
            if let Some(r) = repos.iter_mut().find(|r| r.id == repo_id) {
                r.labels.push(Label {
                    key: label.get("key")?,
                    value: label.get("value")?,
                });
            }
        }
        Ok(())
    }

    async fn repo_where(&self, condition: &str, value: Operand) -> StoreResult<Option<ImageRepo>> {
        let query = format!("{REPO_SELECT} WHERE {condition}");
        let q = sqlx::query(&query);
        let q = match value {
            Operand::Int(n) => q.bind(n),
            Operand::Text(s) => q.bind(s),
        };
        let Some(row) = q.fetch_optional(&self.pool).await.map_err(db_err)? else {
            return Ok(None);
        };
        let mut repo = [rows::image_repo(&row)?];
        self.attach_labels(&mut repo).await?;
        let [repo] = repo;
        Ok(Some(repo))
    }
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn insert_repo(
        &self,
        repo: &ImageRepo,
        first_version: Option<&ImageVersion>,
    ) -> StoreResult<(ImageRepo, Option<ImageVersion>)> {
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO image_repos (name, kind, readme, is_public, status, owner_id, created, updated) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&repo.name)
        .bind(repo.kind.code())
        .bind(&repo.readme)
        .bind(repo.is_public)
        .bind(repo.status.code())
        .bind(repo.owner_id)
        .bind(ts(repo.created))
        .bind(ts(repo.updated))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        for l in &repo.labels {
            sqlx::query(
                "INSERT OR IGNORE INTO image_repo_labels (repo_id, key, value) VALUES (?, ?, ?)",
            )
            .bind(id)
            .bind(&l.key)
            .bind(&l.value)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let version_id = match first_version {
            Some(v) => {
                let v = ImageVersion {
                    repo_id: id,
                    ..v.clone()
                };
                Some(insert_version_on(&mut tx, &v).await?)
            }
            None => None,
        };
        tx.commit().await.map_err(db_err)?;
        let stored = self
            .get_repo(id)
            .await?
            .ok_or_else(|| backend("inserted repository vanished"))?;
        let version = match version_id {
            Some(vid) => self.get_version(id, vid).await?,
            None => None,
        };
        Ok((stored, version))
    }

    async fn get_repo(&self, id: i64) -> StoreResult<Option<ImageRepo>> {
        self.repo_where("r.id = ?", Operand::Int(id)).await
    }

    async fn live_repo_by_name(&self, name: &str) -> StoreResult<Option<ImageRepo>> {
        self.repo_where("r.name = ? AND r.status <> -1", Operand::Text(name.into()))
            .await
    }

    async fn query_repos(&self, q: &RepoQuery) -> StoreResult<Page<ImageRepo>> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM image_repos r");
        push_where(&mut count, q);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;

        let mut select = QueryBuilder::<Sqlite>::new(REPO_SELECT);
        push_where(&mut select, q);
        select.push(" ORDER BY ");
        for key in &q.sort {
            if key.field.is_time() {
                select.push(format!("julianday({})", column(key.field)));
            } else {
                select.push(column(key.field));
            }
            select.push(if key.descending { " DESC, " } else { " ASC, " });
        }
        select.push("r.id DESC LIMIT ");
        select.push_bind(q.limit);
        select.push(" OFFSET ");
        select.push_bind(q.offset);
        let rows = select.build().fetch_all(&self.pool).await.map_err(db_err)?;
        let mut items = rows
            .iter()
            .map(rows::image_repo)
            .collect::<StoreResult<Vec<_>>>()?;
        self.attach_labels(&mut items).await?;
        Ok(Page { items, total })
    }

    async fn update_repo(&self, repo: &ImageRepo) -> StoreResult<()> {
        sqlx::query(
            "UPDATE image_repos SET readme = ?, is_public = ?, status = ?, updated = ? WHERE id = ?",
        )
        .bind(&repo.readme)
        .bind(repo.is_public)
        .bind(repo.status.code())
        .bind(ts(repo.updated))
        .bind(repo.id)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn change_repo_labels(
        &self,
        repo_id: i64,
        add: &[Label],
        remove: &[Label],
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let changes = [
            (
                "DELETE FROM image_repo_labels WHERE repo_id = ? AND key = ? AND value = ?",
                remove,
            ),
            (
                "INSERT OR IGNORE INTO image_repo_labels (repo_id, key, value) VALUES (?, ?, ?)",
                add,
            ),
        ];
        for (statement, labels) in changes {
            for l in labels {
                let query = sqlx::query(statement)
                    .bind(repo_id)
                    .bind(&l.key)
                    .bind(&l.value);
                execute(&mut *tx, query).await?;
            }
        }
        sqlx::query("UPDATE image_repos SET updated = ? WHERE id = ?")
            .bind(ts(now))
            .bind(repo_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn insert_version(&self, version: &ImageVersion) -> StoreResult<ImageVersion> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let id = insert_version_on(&mut conn, version).await?;
        Ok(ImageVersion {
            id,
            ..version.clone()
        })
    }

    async fn get_version(&self, repo_id: i64, id: i64) -> StoreResult<Option<ImageVersion>> {
        let row = sqlx::query("SELECT * FROM image_versions WHERE repo_id = ? AND id = ?")
            .bind(repo_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::image_version).transpose()
    }

    async fn repo_versions(&self, repo_id: i64) -> StoreResult<Vec<ImageVersion>> {
        let rows = sqlx::query("SELECT * FROM image_versions WHERE repo_id = ? ORDER BY id")
            .bind(repo_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::image_version).collect()
    }

    async fn update_version(&self, v: &ImageVersion) -> StoreResult<()> {
        let update = format!(
            "UPDATE image_versions SET {} = ?, status = ?, updated = ? WHERE id = ? AND repo_id = ?",
            VERSION_DEFINITION.join(" = ?, ")
        );
        self.exec(
            bind_definition(sqlx::query(&update), v)
                .bind(v.status.code())
                .bind(ts(v.updated))
                .bind(v.id)
                .bind(v.repo_id),
        )
        .await
    }

    async fn versions_by_image_ref(&self, image_ref: &str) -> StoreResult<Vec<ImageVersion>> {
        let rows = sqlx::query(
            "SELECT v.* FROM image_versions v JOIN image_repos r ON r.id = v.repo_id \
             WHERE v.image_ref = ? AND v.status <> -1 AND r.status <> -1 ORDER BY v.id",
        )
        .bind(image_ref)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::image_version).collect()
    }

    async fn bump_version_usage(&self, image_ref: &str) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE image_versions SET usage = usage + 1 WHERE image_ref = ? AND status <> -1",
        )
        .bind(image_ref)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn claim_built_image(
        &self,
        image: &str,
        owner_id: i64,
        now: Timestamp,
    ) -> StoreResult<BuiltImage> {
        sqlx::query(
            "INSERT OR IGNORE INTO built_images (image, owner_id, repo_id, created) \
             VALUES (?, ?, NULL, ?)",
        )
        .bind(image)
        .bind(owner_id)
        .bind(ts(now))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        self.get_built_image(image)
            .await?
            .ok_or_else(|| backend("claimed image record vanished"))
    }

    async fn get_built_image(&self, image: &str) -> StoreResult<Option<BuiltImage>> {
        let row = sqlx::query("SELECT * FROM built_images WHERE image = ?")
            .bind(image)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(built_image).transpose()
    }

    async fn list_built_images(&self) -> StoreResult<Vec<BuiltImage>> {
        let rows = sqlx::query("SELECT * FROM built_images ORDER BY image")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(built_image).collect()
    }

    async fn set_built_image_repo(&self, image: &str, repo_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE built_images SET repo_id = ? WHERE image = ?")
            .bind(repo_id)
            .bind(image)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_task(&self, t: &Task) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tasks (id, kind, owner_id, group_id, trace_id, state, payload, log, result, created, updated) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(t.id.to_string())
        .bind(&t.kind)
        .bind(t.owner_id)
        .bind(t.group_id.to_string())
        .bind(t.trace_id.to_string())
        .bind(t.state.as_str())
        .bind(json(&t.payload))
        .bind(&t.log)
        .bind(t.result.as_ref().map(json))
        .bind(ts(t.created))
        .bind(ts(t.updated))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_task(&self, id: Uuid) -> StoreResult<Option<Task>> {
        let row = sqlx::query("SELECT * FROM tasks WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::task).transpose()
    }

    async fn list_tasks(
        &self,
        filter: &TaskFilter,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Task>> {
        let push_filter = |qb: &mut QueryBuilder<'_, Sqlite>| {
            qb.push(" WHERE 1 = 1");
            if let Some(owner) = filter.owner_id {
                qb.push(" AND owner_id = ").push_bind(owner);
            }
            if let Some(state) = filter.state {
                qb.push(" AND state = ").push_bind(state.as_str());
            }
            if let Some(g) = filter.group_id {
                qb.push(" AND group_id = ").push_bind(g.to_string());
            }
            if let Some(t) = filter.trace_id {
                qb.push(" AND trace_id = ").push_bind(t.to_string());
            }
            if let Some(kind) = &filter.kind {
                qb.push(" AND kind = ").push_bind(kind.clone());
            }
        };
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM tasks");
        push_filter(&mut count);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let mut select = QueryBuilder::<Sqlite>::new("SELECT * FROM tasks");
        push_filter(&mut select);
        select.push(" ORDER BY created DESC, id LIMIT ");
        select.push_bind(limit);
        select.push(" OFFSET ");
        select.push_bind(offset);
        let rows = select.build().fetch_all(&self.pool).await.map_err(db_err)?;
        Ok(Page {
            items: rows.iter().map(rows::task).collect::<StoreResult<_>>()?,
            total,
        })
    }

    async fn start_task(&self, id: Uuid) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE tasks SET state = 'running', updated = ? WHERE id = ? AND state = 'pending'",
        )
        .bind(ts(berth_core::model::now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn append_task_log(&self, id: Uuid, text: &str) -> StoreResult<TaskState> {
        let state: Option<String> = sqlx::query_scalar(
            "UPDATE tasks SET log = substr(log || ?, -?), updated = ? WHERE id = ? RETURNING state",
        )
        .bind(text)
        .bind(MAX_TASK_LOG)
        .bind(ts(berth_core::model::now()))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let state =
            state.ok_or_else(|| berth_core::store::StoreError::NotFound(format!("task {id}")))?;
        TaskState::parse(&state).ok_or_else(|| {
            backend(format!(
                "stored tasks.state does not decode: unknown value {state:?}"
            ))
        })
    }

    async fn finish_task(
        &self,
        id: Uuid,
        state: TaskState,
        result: &serde_json::Value,
        log_tail: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE tasks SET state = ?, result = ?, log = substr(log || ?, -?), updated = ? \
             WHERE id = ? AND state IN ('pending', 'running')",
        )
        .bind(state.as_str())
        .bind(json(result))
        .bind(log_tail)
        .bind(MAX_TASK_LOG)
        .bind(ts(berth_core::model::now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn requeue_interrupted_tasks(&self, note: &str) -> StoreResult<Vec<Task>> {
        let rows = sqlx::query(
            "UPDATE tasks SET state = 'pending', log = log || ?, updated = ? \
             WHERE state IN ('pending', 'running') RETURNING *",
        )
        .bind(note)
        .bind(ts(berth_core::model::now()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut tasks = rows
            .iter()
            .map(rows::task)
            .collect::<StoreResult<Vec<_>>>()?;
        tasks.sort_by_key(|t| t.created);
        Ok(tasks)
    }
}

#[cfg(test)]
mod tests {
    use berth_core::catalog::search::{compile_filter, compile_sort, keyword_condition};
    use berth_core::image::ImageRef;
    use berth_core::model::now;
    use berth_core::store::{IdentityStore, StoreError};

    use super::*;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        (dir, SqliteStore::connect(&url).await.unwrap())
    }

    fn repo(name: &str, kind: RepoKind, is_public: bool, owner_id: i64) -> ImageRepo {
        ImageRepo {
            id: 0,
            name: name.into(),
            kind,
            readme: String::new(),
            is_public,
            status: CatalogStatus::Enabled,
            owner_id,
            owner: String::new(),
            labels: vec![Label {
                key: "team".into(),
                value: "a".into(),
            }],
            created: now(),
            updated: now(),
        }
    }

    fn version(name: &str, image_ref: &str) -> ImageVersion {
        ImageVersion {
            id: 0,
            repo_id: 0,
            name: name.into(),
            image_ref: image_ref.into(),
            image: ImageRef::parse(image_ref).unwrap(),
            command: String::new(),
            env_vars: None,
            github_link: String::new(),
            helm_config: None,
            usage: 0,
            status: CatalogStatus::Enabled,
            created: now(),
            updated: now(),
        }
    }

    fn filter(field: &str, operator: &str, value: &str) -> Condition {
        compile_filter(&RawFilter {
            field: field.into(),
            operator: operator.into(),
            value: Some(value.into()),
            values: Vec::new(),
        })
        .unwrap()
        .remove(0)
    }

    async fn names(s: &SqliteStore, q: RepoQuery) -> Vec<String> {
        let q = RepoQuery { limit: 100, ..q };
        s.query_repos(&q)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.name)
            .collect()
    }

    #[tokio::test]
    async fn repos_search_filters_visibility_and_soft_delete() {
        let (_d, s) = store().await;
        let ann = s.create_user("ann", "", "h").await.unwrap();
        let bob = s.create_user("bob", "", "h").await.unwrap();
        let (a, first) = s
            .insert_repo(
                &repo("algo-a", RepoKind::Algorithm, true, ann.id),
                Some(&version("1.0.0", "busybox:latest")),
            )
            .await
            .unwrap();
        assert_eq!(a.labels.len(), 1);
        assert_eq!(first.unwrap().repo_id, a.id);
        s.insert_repo(&repo("bench_b", RepoKind::Benchmark, false, ann.id), None)
            .await
            .unwrap();
        s.insert_repo(&repo("pedestal-c", RepoKind::Pedestal, true, bob.id), None)
            .await
            .unwrap();
        let dup = s
            .insert_repo(&repo("algo-a", RepoKind::Algorithm, true, bob.id), None)
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))));

        let all = RepoQuery::default();
        assert_eq!(
            names(&s, all.clone()).await,
            ["pedestal-c", "bench_b", "algo-a"]
        );
        let bobs = RepoQuery {
            visible_to: Some(bob.id),
            ..all.clone()
        };
        assert_eq!(names(&s, bobs).await, ["pedestal-c", "algo-a"]);
        let benchmarks = RepoQuery {
            conditions: vec![filter("type", "eq", "benchmark")],
            ..all.clone()
        };
        assert_eq!(names(&s, benchmarks).await, ["bench_b"]);
        // `_` is a literal underscore, not LIKE's any-character.
        let underscore = RepoQuery {
            conditions: vec![keyword_condition("_")],
            ..all.clone()
        };
        assert_eq!(names(&s, underscore).await, ["bench_b"]);
        let recent = RepoQuery {
            conditions: vec![filter("created_at", "dafter", "2000-01-01")],
            sort: vec![
                compile_sort(&RawSort {
                    field: "name".into(),
                    direction: "asc".into(),
                })
                .unwrap(),
            ],
            ..all.clone()
        };
        assert_eq!(names(&s, recent).await, ["algo-a", "bench_b", "pedestal-c"]);

        let mut gone = a.clone();
        gone.status = CatalogStatus::Deleted;
        s.update_repo(&gone).await.unwrap();
        assert_eq!(names(&s, all.clone()).await, ["pedestal-c", "bench_b"]);
        // The name is free again.
        s.insert_repo(&repo("algo-a", RepoKind::Algorithm, true, bob.id), None)
            .await
            .unwrap();
        assert!(
            s.versions_by_image_ref("busybox:latest")
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn repos_match_on_one_live_version_s_image_tag_and_command() {
        let (_d, s) = store().await;
        let ann = s.create_user("ann", "", "h").await.unwrap();
        let (hello, _) = s
            .insert_repo(
                &repo("hello", RepoKind::Algorithm, true, ann.id),
                Some(&ImageVersion {
                    command: "/bin/run --fast".into(),
                    ..version("1.0.0", "acme/hello:1.0.0")
                }),
            )
            .await
            .unwrap();
        s.insert_version(&ImageVersion {
            repo_id: hello.id,
            ..version("2.0.0", "acme/hello:2.0.0")
        })
        .await
        .unwrap();
        s.insert_repo(
            &repo("other", RepoKind::Algorithm, true, ann.id),
            Some(&version("1.0.0", "ghcr.io/acme/other:latest")),
        )
        .await
        .unwrap();
        let q = |conditions: Vec<Condition>| RepoQuery {
            conditions,
            ..RepoQuery::default()
        };
        let found = |c| names(&s, q(c));
        assert_eq!(
            found(vec![filter("image", "like", "acme/")]).await,
            ["other", "hello"]
        );
        assert_eq!(
            found(vec![filter("image", "like", "ghcr.io")]).await,
            ["other"]
        );
        // The image is matched without its tag.
        assert!(
            found(vec![filter("image", "like", "1.0.0")])
                .await
                .is_empty()
        );
        assert_eq!(found(vec![filter("tag", "eq", "2.0.0")]).await, ["hello"]);
        assert!(found(vec![filter("tag", "eq", "2.0")]).await.is_empty());
        assert_eq!(
            found(vec![filter("command", "like", "--fast")]).await,
            ["hello"]
        );
        // Every version condition holds for one and the same version.
        assert!(
            found(vec![
                filter("tag", "eq", "2.0.0"),
                filter("command", "like", "fast")
            ])
            .await
            .is_empty()
        );
        assert_eq!(
            found(vec![
                filter("tag", "eq", "1.0.0"),
                filter("command", "like", "fast")
            ])
            .await,
            ["hello"]
        );
        // Deleted versions match nothing.
        let two = s.versions_by_image_ref("acme/hello:2.0.0").await.unwrap();
        let mut gone = two[0].clone();
        gone.status = CatalogStatus::Deleted;
        s.update_version(&gone).await.unwrap();
        assert!(found(vec![filter("tag", "eq", "2.0.0")]).await.is_empty());
    }

    #[tokio::test]
    async fn versions_are_unique_per_repo_and_count_uses() {
        let (_d, s) = store().await;
        let ann = s.create_user("ann", "", "h").await.unwrap();
        let (r, _) = s
            .insert_repo(&repo("r", RepoKind::Algorithm, false, ann.id), None)
            .await
            .unwrap();
        let v = ImageVersion {
            repo_id: r.id,
            ..version("1.0.0", "x/y:1")
        };
        let stored = s.insert_version(&v).await.unwrap();
        assert!(matches!(
            s.insert_version(&v).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(s.bump_version_usage("x/y:1").await.unwrap(), 1);
        let again = s.get_version(r.id, stored.id).await.unwrap().unwrap();
        assert_eq!(again.usage, 1);
        assert_eq!(again.image.namespace, "x");
    }

    #[tokio::test]
    async fn tasks_move_through_their_states_once() {
        let (_d, s) = store().await;
        let ann = s.create_user("ann", "", "h").await.unwrap();
        let t = Task {
            id: Uuid::new_v4(),
            kind: TASK_KIND_BUILD.into(),
            owner_id: ann.id,
            group_id: Uuid::new_v4(),
            trace_id: Uuid::new_v4(),
            state: TaskState::Pending,
            payload: serde_json::json!({}),
            log: String::new(),
            result: None,
            created: now(),
            updated: now(),
        };
        s.insert_task(&t).await.unwrap();
        assert!(s.start_task(t.id).await.unwrap());
        assert!(!s.start_task(t.id).await.unwrap());
        assert_eq!(
            s.append_task_log(t.id, "a\n").await.unwrap(),
            TaskState::Running
        );
        let requeued = s.requeue_interrupted_tasks("restart\n").await.unwrap();
        assert_eq!(requeued.len(), 1);
        assert_eq!(requeued[0].id, t.id);
        assert_eq!(requeued[0].state, TaskState::Pending);
        assert_eq!(requeued[0].log, "a\nrestart\n");
        assert!(s.start_task(t.id).await.unwrap());
        let done = serde_json::json!({});
        assert!(
            s.finish_task(t.id, TaskState::Error, &done, "")
                .await
                .unwrap()
        );
        assert!(s.requeue_interrupted_tasks("x").await.unwrap().is_empty());
        let got = s.get_task(t.id).await.unwrap().unwrap();
        assert_eq!(got.state, TaskState::Error);
        let mine = TaskFilter {
            owner_id: Some(ann.id),
            ..TaskFilter::default()
        };
        assert_eq!(s.list_tasks(&mine, 0, 10).await.unwrap().total, 1);
    }
}
