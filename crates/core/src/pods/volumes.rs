//! Tapis volumes: folders pods mount (and share) read-write, with a size
//! limit, permissions and file routes; and what volumes and snapshots have
//! in common (a folder and its files), which `snapshots` uses.

use std::sync::Arc;

use crate::archive::{Download, normal_parts};
use crate::datasets::DatasetSpool;
use crate::error::{CoreError, CoreResult, OnConflict};
use crate::instance_io::{FileEntry, entry_kind, mode_text};
use crate::jobs::blocking;
use crate::model::volume::{Volume, volume_object};
use crate::model::*;
use crate::quota::Resource;
use crate::service::Berth;
use crate::volume_files::{FolderKind, VolumeFiles};

/// A volume or snapshot size limit when none is given, in MB (Tapis's default).
pub const DEFAULT_SIZE_LIMIT: i64 = 1024;
/// Tapis counts sizes in MB; Berth's MB is 2^20 bytes.
pub const MB: u64 = 1 << 20;

/// A volume or snapshot with the bytes its files hold now (`None` when
/// its folder cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored<T> {
    pub item: T,
    pub used_bytes: Option<u64>,
}

/// A volume or snapshot: an object with a folder of files.
pub(crate) trait HasFolder {
    const FOLDER: FolderKind;
    fn folder_id(&self) -> &str;
}

impl HasFolder for Volume {
    const FOLDER: FolderKind = FolderKind::Volume;
    fn folder_id(&self) -> &str {
        &self.volume_id
    }
}

/// Volume and snapshot ids follow pod ids: `[a-z][a-z0-9]+`, 3 to 64.
pub(crate) fn validate_folder_id(field: &str, id: &str) -> CoreResult<()> {
    super::validate_pod_id(id).map_err(|_| {
        CoreError::invalid_field(
            field,
            "must be 3 to 64 lowercase letters and digits, starting with a letter",
        )
    })
}

/// The largest `size_limit` (MB) whose bytes a 64-bit count still holds.
pub const MAX_SIZE_LIMIT: i64 = i64::MAX / MB as i64;

pub(crate) fn validate_size_limit(limit: i64) -> CoreResult<()> {
    if limit < 1 {
        return Err(CoreError::invalid_field(
            "size_limit",
            "must be at least 1 (MB)",
        ));
    }
    if limit > MAX_SIZE_LIMIT {
        return Err(CoreError::invalid_field(
            "size_limit",
            format!("must be at most {MAX_SIZE_LIMIT} (MB)"),
        ));
    }
    Ok(())
}

/// A `size_limit` in bytes.
pub(crate) fn size_limit_bytes(limit: i64) -> u64 {
    (limit.max(0) as u64).saturating_mul(MB)
}

/// The parts of a path inside a volume or snapshot; `..` is refused.
pub(crate) fn folder_path<'a>(field: &str, path: &'a str) -> CoreResult<Vec<&'a str>> {
    if path.contains('\0') {
        return Err(CoreError::invalid_field(field, "must not contain NUL"));
    }
    normal_parts(path).map_err(|_| {
        CoreError::invalid_field(
            field,
            format!("{path} leaves its folder: '..' is not allowed"),
        )
    })
}

fn size_limit_passed(volume_id: &str, limit: u64) -> CoreError {
    CoreError::invalid_field(
        "size_limit",
        format!(
            "the upload would take volume {volume_id} past its size_limit of {} MB",
            limit / MB
        ),
    )
}

/// An upload into a volume as it arrives (see [`Berth::begin_volume_upload`]).
#[derive(Debug)]
pub struct VolumeUpload {
    volume_id: String,
    parts: Vec<String>,
    /// Bytes the volume had free when the upload began.
    room: u64,
    limit: u64,
    spool: DatasetSpool,
}

impl VolumeUpload {
    /// Appends `data`; refused as soon as the upload cannot fit.
    pub async fn write(&mut self, data: &[u8]) -> CoreResult<()> {
        if self.spool.len().saturating_add(data.len() as u64) > self.room {
            return Err(size_limit_passed(&self.volume_id, self.limit));
        }
        self.spool.write(data).await
    }
}

/// A path that names something inside the folder, not the whole of it.
fn inner_path(path: &str) -> CoreResult<Vec<&str>> {
    let parts = folder_path("path", path)?;
    if parts.is_empty() {
        return Err(CoreError::invalid_field("path", "cannot be empty or /"));
    }
    Ok(parts)
}

impl Berth {
    /// Runs a call to the folder port on a thread that may block.
    pub(crate) async fn on_folders<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn VolumeFiles) -> CoreResult<T> + Send + 'static,
    ) -> CoreResult<T> {
        let files: Arc<dyn VolumeFiles> = self.volume_files.clone();
        blocking(move || work(files.as_ref())).await
    }

    /// The bytes a folder holds now, `None` when it cannot be read.
    pub(crate) async fn folder_usage(&self, kind: FolderKind, id: &str) -> Option<u64> {
        let id = id.to_string();
        self.on_folders(move |f| f.used_bytes(kind, &id)).await.ok()
    }

    /// Checks the actor holds `need` on the volume or snapshot `id`.
    async fn reach_folder(
        &self,
        kind: FolderKind,
        actor: &User,
        id: &str,
        need: Level,
    ) -> CoreResult<()> {
        match kind {
            FolderKind::Volume => self.volume(actor, id, need).await.map(drop),
            FolderKind::Snapshot => self.snapshot(actor, id, need).await.map(drop),
        }
    }

    /// Every entry of a volume's or snapshot's folder, for its readers.
    pub async fn folder_entries(
        &self,
        kind: FolderKind,
        actor: &User,
        id: &str,
    ) -> CoreResult<Vec<FileEntry>> {
        self.reach_folder(kind, actor, id, Level::Read).await?;
        let id = id.to_string();
        let entries = self.on_folders(move |f| f.entries(kind, &id)).await?;
        Ok(entries
            .into_iter()
            .map(|e| FileEntry {
                name: e.path.rsplit('/').next().unwrap_or_default().to_string(),
                path: e.path,
                kind: entry_kind(e.kind),
                size: e.size,
                modified: e.modified,
                permissions: mode_text(e.mode),
            })
            .collect())
    }

    /// A file of a volume's or snapshot's folder, or one of its
    /// directories as a tar, for its readers.
    pub async fn folder_contents(
        &self,
        kind: FolderKind,
        actor: &User,
        id: &str,
        path: &str,
    ) -> CoreResult<Download> {
        self.reach_folder(kind, actor, id, Level::Read).await?;
        let parts: Vec<String> = inner_path(path)?.into_iter().map(String::from).collect();
        let id = id.to_string();
        self.on_folders(move |f| {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            f.read(kind, &id, &parts)
        })
        .await
    }

    /// A volume the actor may act on at `need`; others do not exist for them.
    pub async fn volume(&self, actor: &User, id: &str, need: Level) -> CoreResult<Volume> {
        let not_found = || CoreError::not_found(format!("volume {id} not found"));
        let v = self.store.get_volume(id).await?.ok_or_else(not_found)?;
        self.require_shared(actor, v.owner_id, &volume_object(id), need, not_found)
            .await?;
        Ok(v)
    }

    /// The volume or snapshot with the bytes its folder holds now.
    pub(crate) async fn stored<T: HasFolder>(&self, item: T) -> Stored<T> {
        let used_bytes = self.folder_usage(T::FOLDER, item.folder_id()).await;
        Stored { item, used_bytes }
    }

    /// Each volume or snapshot with the bytes its folder holds now.
    pub(crate) async fn all_stored<T: HasFolder>(&self, items: Vec<T>) -> Vec<Stored<T>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.stored(item).await);
        }
        out
    }

    pub async fn volumes(&self, actor: &User) -> CoreResult<Vec<Stored<Volume>>> {
        Ok(self.all_stored(self.store.list_volumes(actor).await?).await)
    }

    pub async fn get_volume(&self, actor: &User, id: &str) -> CoreResult<Stored<Volume>> {
        let v = self.volume(actor, id, Level::Read).await?;
        Ok(self.stored(v).await)
    }

    /// A new, empty volume; its author is its owner (ADMIN).
    pub async fn create_volume(
        &self,
        actor: &User,
        id: &str,
        description: &str,
        size_limit: Option<i64>,
    ) -> CoreResult<Stored<Volume>> {
        validate_folder_id("volume_id", id)?;
        let size_limit = size_limit.unwrap_or(DEFAULT_SIZE_LIMIT);
        validate_size_limit(size_limit)?;
        let t = now();
        let volume = Volume {
            volume_id: id.to_string(),
            owner_id: actor.id,
            owner: actor.username.clone(),
            description: description.to_string(),
            size_limit,
            created: t,
            updated: t,
        };
        self.store
            .create_volume(&volume)
            .await
            .on_conflict(|| CoreError::Conflict(format!("volume {id} already exists")))?;
        let folder_id = id.to_string();
        if let Err(e) = self
            .on_folders(move |f| f.create(FolderKind::Volume, &folder_id))
            .await
        {
            let _ = self.store.delete_volume(id).await;
            return Err(e);
        }
        Ok(self.stored(volume).await)
    }

    /// Changes the description and size limit (the only fields Tapis lets change).
    pub async fn update_volume(
        &self,
        actor: &User,
        id: &str,
        description: Option<&str>,
        size_limit: Option<i64>,
    ) -> CoreResult<Stored<Volume>> {
        let mut v = self.volume(actor, id, Level::User).await?;
        if let Some(d) = description {
            v.description = d.to_string();
        }
        if let Some(limit) = size_limit {
            validate_size_limit(limit)?;
            v.size_limit = limit;
        }
        v.updated = now();
        self.store.update_volume(&v).await?;
        Ok(self.stored(v).await)
    }

    /// Deletes the volume and its files. Snapshots taken of it stay: they
    /// are copies. A pod mounting it fails its next start.
    pub async fn delete_volume(&self, actor: &User, id: &str) -> CoreResult<()> {
        self.volume(actor, id, Level::Admin).await?;
        self.store.delete_volume(id).await?;
        let folder_id = id.to_string();
        self.on_folders(move |f| f.remove(FolderKind::Volume, &folder_id))
            .await
    }

    /// Starts an upload to `path` in the volume: a file on disk it is
    /// written to as it arrives, counted against the actor's concurrent
    /// uploads and held to the room the volume has now.
    pub async fn begin_volume_upload(
        &self,
        actor: &User,
        id: &str,
        path: &str,
    ) -> CoreResult<VolumeUpload> {
        let v = self.volume(actor, id, Level::User).await?;
        let parts: Vec<String> = inner_path(path)?.into_iter().map(String::from).collect();
        let slot = self
            .uploads
            .enter(&self.settings.quotas, Resource::Uploads, actor.id)?;
        let used = self
            .folder_usage(FolderKind::Volume, id)
            .await
            .ok_or_else(|| CoreError::not_found(format!("the files of volume {id}")))?;
        let limit = size_limit_bytes(v.size_limit);
        let spool_path = self.on_folders(|f| f.spool()).await?;
        let spool = blocking(move || DatasetSpool::create(spool_path, slot)).await?;
        Ok(VolumeUpload {
            volume_id: id.to_string(),
            parts,
            room: limit.saturating_sub(used),
            limit,
            spool,
        })
    }

    /// Puts an upload in place, if the volume still has room for it;
    /// returns the path it went to. The file it arrived in is gone
    /// afterwards either way.
    pub async fn finish_volume_upload(&self, mut upload: VolumeUpload) -> CoreResult<String> {
        upload.spool.flush().await?;
        let shown = upload.parts.join("/");
        let VolumeUpload {
            volume_id,
            parts,
            limit,
            spool,
            ..
        } = upload;
        self.on_folders(move |f| {
            let used = f.used_bytes(FolderKind::Volume, &volume_id)?;
            if used.saturating_add(spool.len()) > limit {
                return Err(size_limit_passed(&volume_id, limit));
            }
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            f.place(&volume_id, &parts, spool.path())
        })
        .await?;
        Ok(shown)
    }
}
