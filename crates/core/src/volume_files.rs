//! Where the files of Tapis volumes and snapshots, and the config files
//! pods mount, are kept: the [`VolumeFiles`] port, as data sets are behind
//! [`crate::datasets::Datasets`]. A volume or a snapshot is one folder on
//! the engine's host that pods bind-mount; a config file is one file.
//! Paths given to the port are already confined
//! ([`crate::archive::normal_parts`]): no part is empty, `.` or `..`.

use std::path::PathBuf;

use crate::archive::{Download, EntryKind};
use crate::error::CoreResult;
use crate::model::Timestamp;

/// Which folder family an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    Volume,
    Snapshot,
}

impl FolderKind {
    pub fn noun(self) -> &'static str {
        match self {
            FolderKind::Volume => "volume",
            FolderKind::Snapshot => "snapshot",
        }
    }
}

/// One entry under a volume or snapshot folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Relative to the folder, '/'-separated.
    pub path: String,
    pub kind: EntryKind,
    pub size: u64,
    pub modified: Timestamp,
    /// The permission bits.
    pub mode: u32,
}

/// A config file a pod mounts: its content and permission bits, kept
/// under a name that changes when either does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile<'a> {
    pub pod_id: &'a str,
    /// Names this content and mode (a digest), so that a release's file
    /// never changes under it.
    pub key: &'a str,
    pub file_name: &'a str,
    pub content: &'a str,
    pub mode: u32,
}

/// Folders of volumes and snapshots. Its calls block on I/O: the use cases
/// make them off the async workers. Links inside a folder (a pod may make
/// them) are never followed out of it.
pub trait VolumeFiles: Send + Sync {
    /// Makes the (empty) folder; one already there is emptied.
    fn create(&self, kind: FolderKind, id: &str) -> CoreResult<()>;
    /// The absolute path on the engine's host of `sub_path` in the folder,
    /// to mount; a missing directory is made in a volume, and is not found
    /// in a snapshot.
    fn host_path(&self, kind: FolderKind, id: &str, sub_path: &[&str]) -> CoreResult<PathBuf>;
    /// Deletes the folder and everything in it; none is not an error.
    fn remove(&self, kind: FolderKind, id: &str) -> CoreResult<()>;
    /// Every entry under the folder, parents before children.
    fn entries(&self, kind: FolderKind, id: &str) -> CoreResult<Vec<StoredEntry>>;
    /// A file's bytes, or a directory as a tar archive of it.
    fn read(&self, kind: FolderKind, id: &str, path: &[&str]) -> CoreResult<Download>;
    /// A path, not taken yet, to write an upload to while it arrives:
    /// beside the folders, so that it moves into a volume without a copy.
    fn spool(&self) -> CoreResult<PathBuf>;
    /// Moves the file `from` (an upload, at a path [`VolumeFiles::spool`]
    /// gave) to `path` in a volume (parents made as needed), replacing one
    /// there; returns its bytes.
    fn place(&self, volume_id: &str, path: &[&str], from: &std::path::Path) -> CoreResult<u64>;
    /// The bytes of the files in the folder.
    fn used_bytes(&self, kind: FolderKind, id: &str) -> CoreResult<u64>;
    /// Copies `source` of a volume (a file or a directory's contents) to
    /// `destination` in a new snapshot folder, refusing past `limit`
    /// bytes; returns the bytes copied. Links are not copied.
    fn snapshot(
        &self,
        volume_id: &str,
        source: &[&str],
        snapshot_id: &str,
        destination: &[&str],
        limit: u64,
    ) -> CoreResult<u64>;
    /// Writes a pod's config file (once per key) and returns its absolute
    /// host path, to mount.
    fn config_file(&self, file: &ConfigFile<'_>) -> CoreResult<PathBuf>;
    /// Deletes every config file of a pod.
    fn remove_configs(&self, pod_id: &str) -> CoreResult<()>;
}
