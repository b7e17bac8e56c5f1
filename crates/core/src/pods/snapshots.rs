//! Tapis snapshots: an immutable copy of a volume's path, taken when the
//! snapshot is created; pods mount it read-only. `cron` and
//! `retention_policy` are kept and shown, not scheduled.

use crate::error::{CoreError, CoreResult, OnConflict};
use crate::model::volume::{Snapshot, snapshot_object};
use crate::model::*;
use crate::service::Berth;
use crate::volume_files::FolderKind;

use super::volumes::{
    DEFAULT_SIZE_LIMIT, HasFolder, Stored, folder_path, size_limit_bytes, validate_folder_id,
    validate_size_limit,
};

/// What a user gives for a new snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSnapshot {
    pub snapshot_id: String,
    pub source_volume_id: String,
    pub source_volume_path: String,
    pub destination_path: String,
    pub description: String,
    pub size_limit: Option<i64>,
    pub cron: String,
    pub retention_policy: String,
}

/// The fields of a snapshot that may change after it is taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotChange {
    pub description: Option<String>,
    pub size_limit: Option<i64>,
    pub cron: Option<String>,
    pub retention_policy: Option<String>,
}

impl HasFolder for Snapshot {
    const FOLDER: FolderKind = FolderKind::Snapshot;
    fn folder_id(&self) -> &str {
        &self.snapshot_id
    }
}

impl Berth {
    /// A snapshot the actor may act on at `need`; others do not exist for them.
    pub async fn snapshot(&self, actor: &User, id: &str, need: Level) -> CoreResult<Snapshot> {
        let not_found = || CoreError::not_found(format!("snapshot {id} not found"));
        let s = self.store.get_snapshot(id).await?.ok_or_else(not_found)?;
        self.require_shared(actor, s.owner_id, &snapshot_object(id), need, not_found)
            .await?;
        Ok(s)
    }

    pub async fn snapshots(&self, actor: &User) -> CoreResult<Vec<Stored<Snapshot>>> {
        Ok(self
            .all_stored(self.store.list_snapshots(actor).await?)
            .await)
    }

    pub async fn get_snapshot(&self, actor: &User, id: &str) -> CoreResult<Stored<Snapshot>> {
        let s = self.snapshot(actor, id, Level::Read).await?;
        Ok(self.stored(s).await)
    }

    /// Copies the volume's path now; reading the volume (READ) is enough,
    /// and the author owns the copy.
    pub async fn create_snapshot(
        &self,
        actor: &User,
        new: NewSnapshot,
    ) -> CoreResult<Stored<Snapshot>> {
        validate_folder_id("snapshot_id", &new.snapshot_id)?;
        let size_limit = new.size_limit.unwrap_or(DEFAULT_SIZE_LIMIT);
        validate_size_limit(size_limit)?;
        let source: Vec<String> = folder_path("source_volume_path", &new.source_volume_path)?
            .into_iter()
            .map(String::from)
            .collect();
        let destination: Vec<String> = folder_path("destination_path", &new.destination_path)?
            .into_iter()
            .map(String::from)
            .collect();
        self.volume(actor, &new.source_volume_id, Level::Read)
            .await
            .map_err(|e| match e {
                CoreError::NotFound(m) => CoreError::invalid_field("source_volume_id", m),
                other => other,
            })?;
        let t = now();
        let snapshot = Snapshot {
            snapshot_id: new.snapshot_id.clone(),
            owner_id: actor.id,
            owner: actor.username.clone(),
            source_volume_id: new.source_volume_id.clone(),
            source_volume_path: new.source_volume_path.clone(),
            destination_path: new.destination_path.clone(),
            description: new.description,
            size_limit,
            cron: new.cron,
            retention_policy: new.retention_policy,
            created: t,
            updated: t,
        };
        let id = new.snapshot_id.clone();
        self.store
            .create_snapshot(&snapshot)
            .await
            .on_conflict(|| CoreError::Conflict(format!("snapshot {id} already exists")))?;
        let (volume_id, snapshot_id) = (new.source_volume_id, new.snapshot_id);
        let copied = self
            .on_folders(move |f| {
                let source: Vec<&str> = source.iter().map(String::as_str).collect();
                let destination: Vec<&str> = destination.iter().map(String::as_str).collect();
                f.snapshot(
                    &volume_id,
                    &source,
                    &snapshot_id,
                    &destination,
                    size_limit_bytes(size_limit),
                )
            })
            .await;
        if let Err(e) = copied {
            let _ = self.store.delete_snapshot(&id).await;
            return Err(match e {
                CoreError::NotFound(m) => CoreError::invalid_field("source_volume_path", m),
                other => other,
            });
        }
        Ok(self.stored(snapshot).await)
    }

    /// Changes what may change; the copy itself never does.
    pub async fn update_snapshot(
        &self,
        actor: &User,
        id: &str,
        change: SnapshotChange,
    ) -> CoreResult<Stored<Snapshot>> {
        let mut s = self.snapshot(actor, id, Level::User).await?;
        if let Some(limit) = change.size_limit {
            validate_size_limit(limit)?;
            s.size_limit = limit;
        }
        if let Some(d) = change.description {
            s.description = d;
        }
        if let Some(c) = change.cron {
            s.cron = c;
        }
        if let Some(r) = change.retention_policy {
            s.retention_policy = r;
        }
        s.updated = now();
        self.store.update_snapshot(&s).await?;
        Ok(self.stored(s).await)
    }

    pub async fn delete_snapshot(&self, actor: &User, id: &str) -> CoreResult<()> {
        self.snapshot(actor, id, Level::Admin).await?;
        self.store.delete_snapshot(id).await?;
        let folder_id = id.to_string();
        self.on_folders(move |f| f.remove(FolderKind::Snapshot, &folder_id))
            .await
    }
}
