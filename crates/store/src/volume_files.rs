//! [`VolumeFiles`] as folders on the server's disk, which the engine
//! bind-mounts into pods: `volumes/<id>`, `snapshots/<id>` and
//! `configs/<pod_id>/<key>/<file>` under one root. Pods write into
//! volumes, so a volume may hold links: every path is walked part by part
//! and a link on the way is refused, never followed.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use berth_core::archive::{Download, EntryKind};
use berth_core::error::{CoreError, CoreResult};
use berth_core::volume_files::{ConfigFile, FolderKind, StoredEntry, VolumeFiles};

use crate::datasets::{folder_archive, place_file, tree_bytes};

pub struct FolderVolumeFiles {
    root: PathBuf,
}

impl FolderVolumeFiles {
    /// Folders under `root`, which need not exist yet.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderVolumeFiles { root: root.into() }
    }

    /// The folder of `id`, absolute (the engine mounts it by this path).
    fn folder(&self, kind: FolderKind, id: &str) -> io::Result<PathBuf> {
        let family = match kind {
            FolderKind::Volume => "volumes",
            FolderKind::Snapshot => "snapshots",
        };
        let dir = self.root.join(family);
        std::fs::create_dir_all(&dir)?;
        Ok(dir.canonicalize()?.join(id))
    }

    fn existing_folder(&self, kind: FolderKind, id: &str) -> CoreResult<PathBuf> {
        let dir = self.folder(kind, id).map_err(io_err(kind))?;
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => Ok(dir),
            _ => Err(CoreError::not_found(format!(
                "the files of {} {id}",
                kind.noun()
            ))),
        }
    }
}

fn io_err(kind: FolderKind) -> impl Fn(io::Error) -> CoreError {
    move |e| CoreError::internal(&format!("{} storage", kind.noun()), e)
}

/// `path` under `dir`, refusing a link at any part that exists; whether
/// the last part exists is the caller's business.
fn confined(dir: &Path, path: &[&str]) -> CoreResult<PathBuf> {
    let mut at = dir.to_path_buf();
    for part in path {
        at.push(part);
        if let Ok(meta) = std::fs::symlink_metadata(&at)
            && meta.file_type().is_symlink()
        {
            return Err(CoreError::invalid_field(
                "path",
                format!("{} is a link, which is not followed", path.join("/")),
            ));
        }
    }
    Ok(at)
}

fn not_there(path: &[&str]) -> CoreError {
    CoreError::not_found(format!("path {}", path.join("/")))
}

/// Every entry under `dir`, parents first, as paths relative to `base`.
fn walk(dir: &Path, base: &str, out: &mut Vec<StoredEntry>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let meta = entry.metadata()?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if base.is_empty() {
            name
        } else {
            format!("{base}/{name}")
        };
        let kind = if meta.file_type().is_symlink() {
            EntryKind::Link
        } else if meta.is_dir() {
            EntryKind::Directory
        } else if meta.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        };
        let modified = meta
            .modified()
            .ok()
            .map(time::OffsetDateTime::from)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        out.push(StoredEntry {
            path: path.clone(),
            kind,
            size: if kind == EntryKind::File {
                meta.len()
            } else {
                0
            },
            modified,
            mode: meta.permissions().mode() & 0o7777,
        });
        if kind == EntryKind::Directory {
            walk(&entry.path(), &path, out)?;
        }
    }
    Ok(())
}

/// Copies the tree at `from` to `to` (plain files and folders only),
/// failing once more than `budget` bytes would be copied.
fn copy_tree(from: &Path, to: &Path, budget: &mut u64) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.is_file() {
        if meta.len() > *budget {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, "size_limit"));
        }
        *budget -= meta.len();
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to)?;
    } else if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()), budget)?;
        }
    }
    Ok(())
}

impl VolumeFiles for FolderVolumeFiles {
    fn create(&self, kind: FolderKind, id: &str) -> CoreResult<()> {
        let dir = self.folder(kind, id).map_err(io_err(kind))?;
        if std::fs::symlink_metadata(&dir).is_ok() {
            self.remove(kind, id)?;
        }
        std::fs::create_dir(&dir).map_err(io_err(kind))
    }

    fn host_path(&self, kind: FolderKind, id: &str, sub_path: &[&str]) -> CoreResult<PathBuf> {
        let dir = self.existing_folder(kind, id)?;
        let at = confined(&dir, sub_path)?;
        match std::fs::symlink_metadata(&at) {
            Ok(_) => Ok(at),
            Err(_) if kind == FolderKind::Volume => {
                std::fs::create_dir_all(&at).map_err(io_err(kind))?;
                Ok(at)
            }
            Err(_) => Err(not_there(sub_path)),
        }
    }

    fn remove(&self, kind: FolderKind, id: &str) -> CoreResult<()> {
        let dir = self.folder(kind, id).map_err(io_err(kind))?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(kind)(e)),
            _ => Ok(()),
        }
    }

    fn entries(&self, kind: FolderKind, id: &str) -> CoreResult<Vec<StoredEntry>> {
        let dir = self.existing_folder(kind, id)?;
        let mut out = Vec::new();
        walk(&dir, "", &mut out).map_err(io_err(kind))?;
        Ok(out)
    }

    fn read(&self, kind: FolderKind, id: &str, path: &[&str]) -> CoreResult<Download> {
        let dir = self.existing_folder(kind, id)?;
        let at = confined(&dir, path)?;
        let name = path.last().copied().unwrap_or(id).to_string();
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_file() => Ok(Download::File {
                bytes: std::fs::read(&at).map_err(io_err(kind))?,
                name,
            }),
            Ok(meta) if meta.is_dir() => Ok(Download::Directory {
                tar: folder_archive(&at, &name).map_err(io_err(kind))?,
                name,
            }),
            _ => Err(not_there(path)),
        }
    }

    fn spool(&self) -> CoreResult<PathBuf> {
        let dir = self.root.join("spool");
        std::fs::create_dir_all(&dir).map_err(io_err(FolderKind::Volume))?;
        Ok(dir.join(format!("{}.part", uuid::Uuid::new_v4().simple())))
    }

    fn place(&self, volume_id: &str, path: &[&str], from: &Path) -> CoreResult<u64> {
        let kind = FolderKind::Volume;
        let dir = self.existing_folder(kind, volume_id)?;
        let at = confined(&dir, path)?;
        if at.is_dir() {
            return Err(CoreError::invalid_field(
                "path",
                format!("{} is a directory", path.join("/")),
            ));
        }
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                CoreError::invalid_field("path", format!("{}: {e}", path.join("/")))
            })?;
        }
        let (_, bytes) = place_file(from, &at).map_err(io_err(kind))?;
        Ok(bytes)
    }

    fn used_bytes(&self, kind: FolderKind, id: &str) -> CoreResult<u64> {
        let dir = self.existing_folder(kind, id)?;
        tree_bytes(&dir).map_err(io_err(kind))
    }

    fn snapshot(
        &self,
        volume_id: &str,
        source: &[&str],
        snapshot_id: &str,
        destination: &[&str],
        limit: u64,
    ) -> CoreResult<u64> {
        let volume = self.existing_folder(FolderKind::Volume, volume_id)?;
        let from = confined(&volume, source)?;
        let meta = std::fs::symlink_metadata(&from).map_err(|_| not_there(source))?;
        if meta.is_file() && destination.is_empty() {
            return Err(CoreError::invalid_field(
                "destination_path",
                "a snapshot of a single file needs a destination_path",
            ));
        }
        self.create(FolderKind::Snapshot, snapshot_id)?;
        let snapshot = self.existing_folder(FolderKind::Snapshot, snapshot_id)?;
        let to = destination.iter().fold(snapshot, |p, part| p.join(part));
        let mut budget = limit;
        let copied = if meta.is_dir() {
            std::fs::create_dir_all(&to).and_then(|()| {
                std::fs::read_dir(&from)?.try_for_each(|entry| {
                    let entry = entry?;
                    copy_tree(&entry.path(), &to.join(entry.file_name()), &mut budget)
                })
            })
        } else {
            copy_tree(&from, &to, &mut budget)
        };
        match copied {
            Ok(()) => Ok(limit - budget),
            Err(e) => {
                let _ = self.remove(FolderKind::Snapshot, snapshot_id);
                Err(if e.kind() == io::ErrorKind::FileTooLarge {
                    CoreError::invalid_field(
                        "size_limit",
                        "the volume path is larger than the snapshot's size_limit",
                    )
                } else {
                    io_err(FolderKind::Snapshot)(e)
                })
            }
        }
    }

    fn config_file(&self, file: &ConfigFile<'_>) -> CoreResult<PathBuf> {
        let io = |e: io::Error| CoreError::internal("pod config files", e);
        let dir = self.root.join("configs").join(file.pod_id).join(file.key);
        std::fs::create_dir_all(&dir).map_err(io)?;
        let path = dir.canonicalize().map_err(io)?.join(file.file_name);
        if std::fs::symlink_metadata(&path).is_err() {
            let part = dir.join(format!(".{}.part", file.file_name));
            std::fs::write(&part, file.content)
                .and_then(|()| {
                    std::fs::set_permissions(&part, std::fs::Permissions::from_mode(file.mode))
                })
                .and_then(|()| std::fs::rename(&part, &path))
                .map_err(io)?;
        }
        Ok(path)
    }

    fn remove_configs(&self, pod_id: &str) -> CoreResult<()> {
        match std::fs::remove_dir_all(self.root.join("configs").join(pod_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(CoreError::internal("pod config files", e))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_go_in_and_out_and_links_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let files = FolderVolumeFiles::new(dir.path().join("v"));
        files.create(FolderKind::Volume, "vol").unwrap();
        let write = |path: &[&str], bytes: &[u8]| {
            let spool = files.spool().unwrap();
            std::fs::write(&spool, bytes).unwrap();
            files.place("vol", path, &spool)
        };
        assert_eq!(write(&["a", "b.txt"], b"hello").unwrap(), 5);
        assert_eq!(files.used_bytes(FolderKind::Volume, "vol").unwrap(), 5);
        let paths: Vec<String> = files
            .entries(FolderKind::Volume, "vol")
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["a", "a/b.txt"]);
        assert_eq!(
            files
                .read(FolderKind::Volume, "vol", &["a", "b.txt"])
                .unwrap(),
            Download::File {
                name: "b.txt".into(),
                bytes: b"hello".to_vec()
            }
        );
        let host = files.host_path(FolderKind::Volume, "vol", &[]).unwrap();
        assert!(host.is_absolute());
        std::os::unix::fs::symlink("/etc", host.join("out")).unwrap();
        assert!(
            files
                .read(FolderKind::Volume, "vol", &["out", "passwd"])
                .is_err()
        );
        assert!(write(&["out", "x"], b"x").is_err());

        assert_eq!(files.snapshot("vol", &["a"], "snap", &[], 100).unwrap(), 5);
        assert!(files.read(FolderKind::Snapshot, "snap", &["b.txt"]).is_ok());
        assert!(files.snapshot("vol", &["a"], "big", &[], 4).is_err());
        assert!(files.host_path(FolderKind::Snapshot, "big", &[]).is_err());
        assert!(
            files
                .host_path(FolderKind::Volume, "vol", &["out"])
                .is_err()
        );
        assert!(
            files
                .snapshot("vol", &["a", "b.txt"], "one", &[], 100)
                .is_err()
        );
        files.remove(FolderKind::Volume, "vol").unwrap();
        assert!(files.read(FolderKind::Snapshot, "snap", &["b.txt"]).is_ok());

        let config = ConfigFile {
            pod_id: "pod",
            key: "k1",
            file_name: "app.conf",
            content: "x=1",
            mode: 0o600,
        };
        let path = files.config_file(&config).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        files.remove_configs("pod").unwrap();
        assert!(!path.exists());
    }
}
