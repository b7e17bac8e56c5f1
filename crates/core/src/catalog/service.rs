//! Catalog use cases on repositories and their versions. Who may do what:
//! a public repository is readable by everyone, a private one only by its
//! owner and administrators (to anyone else it does not exist); only the
//! owner and administrators change one.

use super::search::{
    self, RawFilter, RawSort, compile_filter, compile_sort, equals, keyword_condition,
};
use super::semver::SemVer;
use super::validate::{self, page_window, validate_page, validate_text};
use super::{
    CatalogStatus, Condition, ImageRepo, ImageVersion, Label, Operand, ParamSpec, RepoKind,
    RepoQuery, SearchField, SortKey,
};
use crate::access;
use crate::error::{CoreError, CoreResult, OnConflict};
use crate::image::ImageRef;
use crate::model::{Level, Timestamp, User, now};
use crate::service::Berth;
use crate::store::Page;

#[derive(Debug, Clone, Default)]
pub struct NewVersion {
    pub name: String,
    pub image_ref: String,
    pub command: String,
    pub env_vars: Option<Vec<ParamSpec>>,
    pub github_link: String,
    pub helm_config: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct NewRepo {
    pub name: String,
    pub kind: RepoKind,
    pub readme: String,
    pub is_public: bool,
    pub labels: Vec<Label>,
    pub first_version: Option<NewVersion>,
}

#[derive(Debug, Clone, Default)]
pub struct RepoPatch {
    pub readme: Option<String>,
    pub is_public: Option<bool>,
    pub status: Option<CatalogStatus>,
}

#[derive(Debug, Clone, Default)]
pub struct VersionPatch {
    pub image_ref: Option<String>,
    pub command: Option<String>,
    /// `Some(None)` clears the parameters.
    pub env_vars: Option<Option<Vec<ParamSpec>>>,
    pub github_link: Option<String>,
    pub status: Option<CatalogStatus>,
}

#[derive(Debug, Clone)]
pub struct RepoListQuery {
    pub page: i64,
    pub size: i64,
    pub kind: Option<RepoKind>,
    pub is_public: Option<bool>,
    pub status: Option<CatalogStatus>,
}

#[derive(Debug, Clone, Default)]
pub struct RepoSearch {
    /// A substring of the name.
    pub keyword: Option<String>,
    /// A substring of the name too, as RCABench's `name` field matches (`like`).
    pub name: Option<String>,
    pub filters: Vec<RawFilter>,
    pub sort: Vec<RawSort>,
    pub page: i64,
    pub size: i64,
}

/// The actor's level on a repository: repositories take no grants, and a
/// deleted one does not exist for anyone.
fn level_on_repo(actor: &User, repo: &ImageRepo) -> Option<Level> {
    if repo.status == CatalogStatus::Deleted {
        return None;
    }
    access::level(actor, repo.owner_id, None, repo.is_public)
}

fn can_change(actor: &User, repo: &ImageRepo) -> bool {
    access::owns(actor, repo.owner_id)
}

pub(super) fn can_see(actor: &User, repo: &ImageRepo) -> bool {
    level_on_repo(actor, repo).is_some()
}

fn forbidden() -> CoreError {
    CoreError::Forbidden("You do not have permission to change this container.".into())
}

fn paged<T>(mut all: Vec<T>, page: i64, size: i64) -> Page<T> {
    let total = all.len() as i64;
    let (offset, limit) = page_window(page, size);
    let start = (offset.max(0) as usize).min(all.len());
    let end = start.saturating_add(limit.max(0) as usize).min(all.len());
    Page {
        items: all.drain(start..end).collect(),
        total,
    }
}

/// A new version's row, validated; the store assigns its id.
fn version_row(repo_id: i64, new: &NewVersion, t: Timestamp) -> CoreResult<ImageVersion> {
    SemVer::parse(&new.name)?;
    let image = ImageRef::parse(&new.image_ref)?;
    validate_text("command", &new.command, validate::MAX_COMMAND_LEN)?;
    validate::validate_github_link(&new.github_link)?;
    if let Some(params) = &new.env_vars {
        validate::validate_params(params)?;
    }
    Ok(ImageVersion {
        id: 0,
        repo_id,
        name: new.name.clone(),
        image_ref: new.image_ref.clone(),
        image,
        command: new.command.clone(),
        env_vars: new.env_vars.clone(),
        github_link: new.github_link.clone(),
        helm_config: new.helm_config.clone(),
        usage: 0,
        status: CatalogStatus::Enabled,
        created: t,
        updated: t,
    })
}

/// Live versions, newest semantic version first.
fn by_precedence(mut versions: Vec<ImageVersion>) -> Vec<ImageVersion> {
    versions.sort_by_cached_key(|v| std::cmp::Reverse(SemVer::parse(&v.name).ok()));
    versions
}

fn repo_conflict(name: &str) -> impl FnOnce() -> CoreError + '_ {
    move || CoreError::Conflict(format!("A container named {name} already exists."))
}

fn version_conflict(name: &str) -> impl FnOnce() -> CoreError + '_ {
    move || CoreError::Conflict(format!("Version {name} already exists in this container."))
}

impl Berth {
    // ------------------------------------------------------------ repositories

    /// A repository the actor may see; to anyone else it does not exist.
    pub async fn image_repo(&self, actor: &User, id: i64) -> CoreResult<ImageRepo> {
        match self.store.get_repo(id).await? {
            Some(repo) if can_see(actor, &repo) => Ok(repo),
            _ => Err(CoreError::not_found(format!("container {id} not found"))),
        }
    }

    async fn changeable_repo(&self, actor: &User, id: i64) -> CoreResult<ImageRepo> {
        let repo = self.image_repo(actor, id).await?;
        if can_change(actor, &repo) {
            Ok(repo)
        } else {
            Err(forbidden())
        }
    }

    pub async fn create_image_repo(
        &self,
        actor: &User,
        new: NewRepo,
    ) -> CoreResult<(ImageRepo, Option<ImageVersion>)> {
        let name = new.name.trim().to_string();
        validate::validate_repo_name(&name)?;
        validate_text("readme", &new.readme, validate::MAX_README_LEN)?;
        validate::validate_labels(&new.labels)?;
        let t = now();
        let first = new
            .first_version
            .as_ref()
            .map(|v| version_row(0, v, t))
            .transpose()?;
        let mut labels = new.labels.clone();
        labels.sort();
        labels.dedup();
        let repo = ImageRepo {
            id: 0,
            name: name.clone(),
            kind: new.kind,
            readme: new.readme,
            is_public: new.is_public,
            status: CatalogStatus::Enabled,
            owner_id: actor.id,
            owner: actor.username.clone(),
            labels,
            created: t,
            updated: t,
        };
        self.store
            .insert_repo(&repo, first.as_ref())
            .await
            .on_conflict(repo_conflict(&name))
    }

    /// The repository with its live versions, newest first.
    pub async fn image_repo_detail(
        &self,
        actor: &User,
        id: i64,
    ) -> CoreResult<(ImageRepo, Vec<ImageVersion>)> {
        let repo = self.image_repo(actor, id).await?;
        let versions = self
            .store
            .repo_versions(repo.id)
            .await?
            .into_iter()
            .filter(|v| v.status != CatalogStatus::Deleted)
            .collect();
        Ok((repo, by_precedence(versions)))
    }

    pub async fn list_image_repos(
        &self,
        actor: &User,
        q: &RepoListQuery,
    ) -> CoreResult<Page<ImageRepo>> {
        let page = validate_page(q.page)?;
        let size = validate::validate_list_size(q.size)?;
        let mut conditions = Vec::new();
        if let Some(kind) = q.kind {
            conditions.push(equals(SearchField::Kind, Operand::Int(kind.code())));
        }
        if let Some(public) = q.is_public {
            conditions.push(equals(SearchField::IsPublic, Operand::Int(public.into())));
        }
        if let Some(status) = q.status {
            conditions.push(equals(SearchField::Status, Operand::Int(status.code())));
        }
        let (offset, limit) = page_window(page, size);
        self.query_visible_repos(actor, conditions, Vec::new(), offset, limit)
            .await
    }

    /// Searches repositories; unknown fields, operators or directions are a 400.
    pub async fn search_image_repos(
        &self,
        actor: &User,
        search: &RepoSearch,
    ) -> CoreResult<Page<ImageRepo>> {
        let page = validate_page(search.page)?;
        let size = validate::validate_search_size(search.size)?;
        if search.filters.len() > search::MAX_FILTERS {
            return Err(CoreError::invalid_field(
                "filters",
                format!("at most {} filters", search::MAX_FILTERS),
            ));
        }
        if search.sort.len() > search::MAX_SORT_KEYS {
            return Err(CoreError::invalid_field(
                "sort",
                format!("at most {} sort keys", search::MAX_SORT_KEYS),
            ));
        }
        let mut conditions = Vec::new();
        if let Some(keyword) = search.keyword.as_deref().filter(|k| !k.is_empty()) {
            conditions.push(keyword_condition(keyword));
        }
        if let Some(name) = search.name.as_deref().filter(|n| !n.is_empty()) {
            conditions.push(keyword_condition(name));
        }
        for f in &search.filters {
            conditions.extend(compile_filter(f)?);
        }
        let sort = search
            .sort
            .iter()
            .map(compile_sort)
            .collect::<CoreResult<Vec<_>>>()?;
        let (offset, limit) = page_window(page, size);
        self.query_visible_repos(actor, conditions, sort, offset, limit)
            .await
    }

    async fn query_visible_repos(
        &self,
        actor: &User,
        conditions: Vec<Condition>,
        sort: Vec<SortKey>,
        offset: i64,
        limit: i64,
    ) -> CoreResult<Page<ImageRepo>> {
        let query = RepoQuery {
            include_deleted: search::mentions_status(&conditions),
            conditions,
            sort,
            visible_to: (!actor.is_admin).then_some(actor.id),
            offset,
            limit,
        };
        Ok(self.store.query_repos(&query).await?)
    }

    pub async fn update_image_repo(
        &self,
        actor: &User,
        id: i64,
        patch: RepoPatch,
    ) -> CoreResult<ImageRepo> {
        let mut repo = self.changeable_repo(actor, id).await?;
        if let Some(readme) = patch.readme {
            validate_text("readme", &readme, validate::MAX_README_LEN)?;
            repo.readme = readme;
        }
        if let Some(public) = patch.is_public {
            repo.is_public = public;
        }
        if let Some(status) = patch.status {
            repo.status = status;
        }
        repo.updated = now();
        let name = repo.name.clone();
        self.store
            .update_repo(&repo)
            .await
            .on_conflict(repo_conflict(&name))?;
        Ok(repo)
    }

    /// Soft-deletes the repository: it disappears and its name is free again.
    pub async fn delete_image_repo(&self, actor: &User, id: i64) -> CoreResult<()> {
        self.update_image_repo(
            actor,
            id,
            RepoPatch {
                status: Some(CatalogStatus::Deleted),
                ..RepoPatch::default()
            },
        )
        .await
        .map(|_| ())
    }

    pub async fn change_image_repo_labels(
        &self,
        actor: &User,
        id: i64,
        add: Vec<Label>,
        remove: Vec<Label>,
    ) -> CoreResult<ImageRepo> {
        let repo = self.changeable_repo(actor, id).await?;
        validate::validate_labels(&add)?;
        self.store
            .change_repo_labels(repo.id, &add, &remove, now())
            .await?;
        self.image_repo(actor, id).await
    }

    // ---------------------------------------------------------------- versions

    pub async fn create_image_version(
        &self,
        actor: &User,
        repo_id: i64,
        new: NewVersion,
    ) -> CoreResult<ImageVersion> {
        let repo = self.changeable_repo(actor, repo_id).await?;
        let row = version_row(repo.id, &new, now())?;
        self.store
            .insert_version(&row)
            .await
            .on_conflict(version_conflict(&new.name))
    }

    pub async fn list_image_versions(
        &self,
        actor: &User,
        repo_id: i64,
        page: i64,
        size: i64,
        status: Option<CatalogStatus>,
    ) -> CoreResult<Page<ImageVersion>> {
        let page = validate_page(page)?;
        let size = validate::validate_list_size(size)?;
        let repo = self.image_repo(actor, repo_id).await?;
        let versions = self
            .store
            .repo_versions(repo.id)
            .await?
            .into_iter()
            .filter(|v| match status {
                Some(s) => v.status == s,
                None => v.status != CatalogStatus::Deleted,
            })
            .collect();
        Ok(paged(by_precedence(versions), page, size))
    }

    pub async fn image_version(
        &self,
        actor: &User,
        repo_id: i64,
        id: i64,
    ) -> CoreResult<ImageVersion> {
        let repo = self.image_repo(actor, repo_id).await?;
        match self.store.get_version(repo.id, id).await? {
            Some(v) if v.status != CatalogStatus::Deleted => Ok(v),
            _ => Err(CoreError::not_found(format!(
                "version {id} of container {repo_id} not found"
            ))),
        }
    }

    pub async fn update_image_version(
        &self,
        actor: &User,
        repo_id: i64,
        id: i64,
        patch: VersionPatch,
    ) -> CoreResult<ImageVersion> {
        self.changeable_repo(actor, repo_id).await?;
        let mut v = self.image_version(actor, repo_id, id).await?;
        if let Some(image_ref) = patch.image_ref {
            v.image = ImageRef::parse(&image_ref)?;
            v.image_ref = image_ref;
        }
        if let Some(command) = patch.command {
            validate_text("command", &command, validate::MAX_COMMAND_LEN)?;
            v.command = command;
        }
        if let Some(params) = patch.env_vars {
            if let Some(p) = &params {
                validate::validate_params(p)?;
            }
            v.env_vars = params;
        }
        if let Some(link) = patch.github_link {
            validate::validate_github_link(&link)?;
            v.github_link = link;
        }
        if let Some(status) = patch.status {
            v.status = status;
        }
        v.updated = now();
        let name = v.name.clone();
        self.store
            .update_version(&v)
            .await
            .on_conflict(version_conflict(&name))?;
        Ok(v)
    }

    pub async fn delete_image_version(
        &self,
        actor: &User,
        repo_id: i64,
        id: i64,
    ) -> CoreResult<()> {
        self.update_image_version(
            actor,
            repo_id,
            id,
            VersionPatch {
                status: Some(CatalogStatus::Deleted),
                ..VersionPatch::default()
            },
        )
        .await
        .map(|_| ())
    }

    /// Counts a workload made from `image` as a use of every catalog version
    /// with that reference. Never fails the caller: usage is bookkeeping.
    pub async fn note_image_used(&self, image: &str) {
        if let Err(e) = self.store.bump_version_usage(image).await {
            tracing::warn!(error = %e, image, "could not count an image use");
        }
    }

    /// After a build of `image` (`name:tag`): the owner's version with that
    /// reference is touched, or a new version is added to the owner's
    /// repository named after the image (created if there is none). The
    /// image is tied to that repository.
    pub(super) async fn record_built_image(
        &self,
        owner: &User,
        image: &str,
        parsed: &ImageRef,
        github_link: &str,
    ) -> CoreResult<ImageVersion> {
        let t = now();
        if let Some((_, mut v)) = self.own_version_of(owner, image).await? {
            v.updated = t;
            if !github_link.is_empty() {
                v.github_link = github_link.to_string();
            }
            self.store.update_version(&v).await?;
            self.note_built_image_repo(image, v.repo_id).await?;
            return Ok(v);
        }
        let repo_name = parsed.repository.clone();
        let repo = match self.store.live_repo_by_name(&repo_name).await? {
            Some(repo) if repo.owner_id == owner.id => repo,
            Some(_) => {
                return Err(CoreError::Forbidden(format!(
                    "container {repo_name} belongs to another user"
                )));
            }
            None => {
                let new = NewRepo {
                    name: repo_name.clone(),
                    kind: RepoKind::Algorithm,
                    readme: String::new(),
                    is_public: false,
                    labels: Vec::new(),
                    first_version: None,
                };
                match self.create_image_repo(owner, new).await {
                    Ok((repo, _)) => repo,
                    // Another build made it meanwhile.
                    Err(CoreError::Conflict(_)) => self
                        .store
                        .live_repo_by_name(&repo_name)
                        .await?
                        .ok_or_else(|| CoreError::Conflict(repo_name.clone()))?,
                    Err(e) => return Err(e),
                }
            }
        };
        let live: Vec<SemVer> = self
            .store
            .repo_versions(repo.id)
            .await?
            .iter()
            .filter(|v| v.status != CatalogStatus::Deleted)
            .filter_map(|v| SemVer::parse(&v.name).ok())
            .collect();
        let name = SemVer::from_tag(&parsed.tag)
            .filter(|wanted| !live.iter().any(|v| v.to_string() == wanted.to_string()))
            .unwrap_or_else(|| {
                live.iter()
                    .max()
                    .map(SemVer::next_patch)
                    .unwrap_or_else(|| SemVer::parse("1.0.0").expect("a valid version"))
            });
        let row = version_row(
            repo.id,
            &NewVersion {
                name: name.to_string(),
                image_ref: image.to_string(),
                github_link: github_link.to_string(),
                ..NewVersion::default()
            },
            t,
        )?;
        let version = self
            .store
            .insert_version(&row)
            .await
            .on_conflict(version_conflict(&row.name))?;
        self.note_built_image_repo(image, version.repo_id).await?;
        Ok(version)
    }
}
