//! [`Datasets`] as folders on the server's disk, which the engine mounts
//! into jobs: shared data sets are the folders directly under the root,
//! each user's own are under `users/<username>/`. Uploads are built aside
//! and renamed into place, so a data set is never half there.

use std::path::{Component, Path, PathBuf};

use berth_core::datasets::{
    DatasetOwner, DatasetScope, DatasetSummary, DatasetUpload, Datasets, RESERVED_DATASET_NAME,
    validate_dataset_name,
};
use berth_core::error::{CoreError, CoreResult};
use uuid::Uuid;

/// Users' own data sets sit under this folder of the root, a name no data
/// set may take.
const USERS_DIR: &str = RESERVED_DATASET_NAME;

pub struct FolderDatasets {
    root: PathBuf,
}

impl FolderDatasets {
    /// Data sets under `root`, which need not exist yet.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderDatasets { root: root.into() }
    }

    fn owner_dir(&self, owner: &DatasetOwner) -> PathBuf {
        self.root.join(USERS_DIR).join(owner.username())
    }

    fn scope_dir(&self, scope: &DatasetScope) -> PathBuf {
        match scope {
            DatasetScope::Shared => self.root.clone(),
            DatasetScope::Own(owner) => self.owner_dir(owner),
        }
    }
}

impl Datasets for FolderDatasets {
    fn names(&self, scope: &DatasetScope) -> CoreResult<Vec<String>> {
        dataset_dirs(&self.scope_dir(scope))
    }

    /// Only a real folder (not a link) that resolves inside the root.
    fn host_dir(&self, scope: &DatasetScope, name: &str) -> CoreResult<Option<PathBuf>> {
        let Ok(root) = self.root.canonicalize() else {
            return Ok(None);
        };
        let candidate = self.scope_dir(scope).join(name);
        let Ok(meta) = std::fs::symlink_metadata(&candidate) else {
            return Ok(None);
        };
        if !meta.is_dir() {
            return Ok(None);
        }
        let resolved = candidate
            .canonicalize()
            .map_err(|e| CoreError::internal(&format!("data set {name}"), e))?;
        Ok(resolved.starts_with(&root).then_some(resolved))
    }

    fn archive(&self, dir: &Path, name: &str) -> CoreResult<Vec<u8>> {
        folder_archive(dir, name).map_err(|e| match e.kind() {
            // Removed while it was being read: it is gone, not broken.
            std::io::ErrorKind::NotFound => {
                CoreError::not_found(format!("data set {name} not found"))
            }
            _ => CoreError::internal(&format!("archiving data set {name}"), e),
        })
    }

    fn add(
        &self,
        owner: &DatasetOwner,
        name: &str,
        upload: &DatasetUpload,
    ) -> CoreResult<DatasetSummary> {
        let own_root = self.owner_dir(owner);
        let io = |e: std::io::Error| CoreError::internal("data set storage", e);
        std::fs::create_dir_all(&own_root).map_err(io)?;
        let target = own_root.join(name);
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(CoreError::Conflict(format!(
                "data set {name} already exists"
            )));
        }
        let staging = own_root.join(format!(".upload-{}", Uuid::new_v4().simple()));
        std::fs::create_dir(&staging).map_err(io)?;
        let filled = if upload.unpack {
            std::fs::File::open(&upload.content)
                .map_err(io)
                .and_then(|tar| unpack_dataset(std::io::BufReader::new(tar), &staging))
        } else {
            place_file(&upload.content, &staging.join(&upload.file_name)).map_err(io)
        };
        let placed = filled.and_then(|(files, bytes)| {
            std::fs::rename(&staging, &target).map_err(|e| {
                if target.exists() {
                    CoreError::Conflict(format!("data set {name} already exists"))
                } else {
                    io(e)
                }
            })?;
            Ok(DatasetSummary {
                name: name.to_string(),
                files,
                bytes,
            })
        });
        if placed.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        placed
    }

    fn spool(&self, owner: &DatasetOwner) -> CoreResult<PathBuf> {
        let own_root = self.owner_dir(owner);
        std::fs::create_dir_all(&own_root)
            .map_err(|e| CoreError::internal("data set storage", e))?;
        Ok(own_root.join(format!(".upload-{}.part", Uuid::new_v4().simple())))
    }

    fn used_bytes(&self, owner: &DatasetOwner) -> CoreResult<u64> {
        let own_root = self.owner_dir(owner);
        let mut total = 0;
        for name in dataset_dirs(&own_root)? {
            total += tree_bytes(&own_root.join(name))
                .map_err(|e| CoreError::internal("measuring data sets", e))?;
        }
        Ok(total)
    }

    fn remove(&self, owner: &DatasetOwner, name: &str) -> CoreResult<bool> {
        let dir = self.owner_dir(owner).join(name);
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => match std::fs::remove_dir_all(&dir) {
                Ok(()) => Ok(true),
                // Another removal of the same data set got there first.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(CoreError::internal(&format!("removing data set {name}"), e)),
            },
            _ => Ok(false),
        }
    }

    fn remove_all(&self, owner: &DatasetOwner) -> std::io::Result<()> {
        let dir = self.owner_dir(owner);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        Ok(())
    }
}

/// Moves the uploaded file `from` to `to` (copies it when they are on
/// different disks); returns (files, bytes).
pub(crate) fn place_file(from: &Path, to: &Path) -> std::io::Result<(u64, u64)> {
    let bytes = std::fs::metadata(from)?.len();
    if std::fs::rename(from, to).is_err() {
        std::fs::copy(from, to)?;
    }
    Ok((1, bytes))
}

/// The folder `dir` as a tar archive holding one folder, `name`; links
/// are archived as links, never followed.
pub(crate) fn folder_archive(dir: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.append_dir_all(name, dir)?;
    builder.into_inner()
}

/// The bytes of the files under `dir`, links not followed.
pub(crate) fn tree_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += tree_bytes(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Names of the data set folders directly in `dir` (real folders only, not links).
fn dataset_dirs(dir: &Path) -> CoreResult<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CoreError::internal("reading data sets", e)),
    };
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if let Some(name) = entry.file_name().to_str()
            && is_dir
            && validate_dataset_name(name).is_ok()
        {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Unpacks an uploaded tar into `dest`, which must exist and be empty.
/// Only plain files and directories with relative, `..`-free paths are
/// accepted; anything else refuses the whole archive. Returns (files, bytes).
fn unpack_dataset(tar: impl std::io::Read, dest: &Path) -> CoreResult<(u64, u64)> {
    let invalid = |m: String| CoreError::invalid_field("file", m);
    let io = |e: std::io::Error| CoreError::internal("unpacking the data set", e);
    let mut archive = tar::Archive::new(tar);
    let entries = archive
        .entries()
        .map_err(|e| invalid(format!("not a tar archive: {e}")))?;
    let (mut files, mut bytes) = (0u64, 0u64);
    for entry in entries {
        let mut entry = entry.map_err(|e| invalid(format!("not a tar archive: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| invalid(format!("bad entry name: {e}")))?
            .into_owned();
        let mut relative = PathBuf::new();
        for component in path.components() {
            match component {
                Component::Normal(part) => relative.push(part),
                Component::CurDir => {}
                _ => {
                    return Err(invalid(format!(
                        "{} leaves the data set (absolute or '..' paths are refused)",
                        path.display()
                    )));
                }
            }
        }
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => continue,
            tar::EntryType::Directory => {
                std::fs::create_dir_all(dest.join(&relative)).map_err(io)?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if relative.as_os_str().is_empty() {
                    return Err(invalid("a file entry has no name".into()));
                }
                let target = dest.join(&relative);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                    .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
                bytes += std::io::copy(&mut entry, &mut out).map_err(io)?;
                files += 1;
            }
            _ => {
                return Err(invalid(format!(
                    "{} is not a plain file or directory (links and devices are refused)",
                    path.display()
                )));
            }
        }
    }
    Ok((files, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive written raw, so that a test can send what a hostile client would.
    fn tar_of(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("/etc/passwd").unwrap();
            }
            // set_path refuses '..'; write the raw name.
            let name = header.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn a_data_set_removed_while_being_read_is_not_found() {
        let root = tempfile::tempdir().unwrap();
        let datasets = FolderDatasets::new(root.path());
        let gone = root.path().join("users").join("alice").join("gone");
        assert!(matches!(
            datasets.archive(&gone, "gone"),
            Err(CoreError::NotFound(_))
        ));
    }

    #[test]
    fn data_set_archives_unpack_safely() {
        let dir = tempfile::tempdir().unwrap();
        let good = tar_of(&[
            ("a/", tar::EntryType::Directory, b""),
            ("a/b.txt", tar::EntryType::Regular, b"hello"),
            ("./c.txt", tar::EntryType::Regular, b"!"),
        ]);
        assert_eq!(unpack_dataset(good.as_slice(), dir.path()).unwrap(), (2, 6));
        assert_eq!(std::fs::read(dir.path().join("a/b.txt")).unwrap(), b"hello");
        for hostile in [
            tar_of(&[("../evil", tar::EntryType::Regular, b"x")]),
            tar_of(&[("/etc/evil", tar::EntryType::Regular, b"x")]),
            tar_of(&[("a/../../evil", tar::EntryType::Regular, b"x")]),
            tar_of(&[("link", tar::EntryType::Symlink, b"")]),
            tar_of(&[("dev", tar::EntryType::Char, b"")]),
        ] {
            let dest = tempfile::tempdir().unwrap();
            assert!(unpack_dataset(hostile.as_slice(), dest.path()).is_err());
        }
        assert!(!dir.path().parent().unwrap().join("evil").exists());
        let dest = tempfile::tempdir().unwrap();
        assert!(unpack_dataset(&b"definitely not a tar archive at all"[..], dest.path()).is_err());
    }

    fn owner(name: &str) -> DatasetOwner {
        DatasetOwner::new(name).unwrap()
    }

    /// An upload of `content`, spooled where `sets` spools `owner`'s.
    fn upload(
        sets: &FolderDatasets,
        owner: &DatasetOwner,
        file_name: &str,
        content: &[u8],
    ) -> DatasetUpload {
        let spool = sets.spool(owner).unwrap();
        std::fs::write(&spool, content).unwrap();
        DatasetUpload {
            file_name: file_name.into(),
            content: spool,
            unpack: false,
        }
    }

    #[test]
    fn own_data_sets_are_kept_apart_from_shared_ones() {
        let root = tempfile::tempdir().unwrap();
        let sets = FolderDatasets::new(root.path().join("datasets"));
        let ann = DatasetScope::Own(owner("ann"));
        assert!(sets.names(&DatasetScope::Shared).unwrap().is_empty());
        assert_eq!(sets.host_dir(&ann, "x").unwrap(), None);

        let summary = sets
            .add(
                &owner("ann"),
                "x",
                &upload(&sets, &owner("ann"), "a.txt", b"hi"),
            )
            .unwrap();
        assert_eq!((summary.files, summary.bytes), (1, 2));
        assert!(matches!(
            sets.add(&owner("ann"), "x", &upload(&sets, &owner("ann"), "b.txt", b"")),
            Err(CoreError::Conflict(m)) if m == "data set x already exists"
        ));
        // The users folder is not a shared data set.
        assert!(sets.names(&DatasetScope::Shared).unwrap().is_empty());
        assert_eq!(sets.names(&ann).unwrap(), ["x"]);
        let dir = sets.host_dir(&ann, "x").unwrap().unwrap();
        assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"hi");
        assert_eq!(sets.host_dir(&DatasetScope::Shared, "x").unwrap(), None);

        let tar = sets.archive(&dir, "x").unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(names.contains(&"x/a.txt".to_string()), "{names:?}");

        assert!(!sets.remove(&owner("bob"), "x").unwrap());
        assert!(sets.remove(&owner("ann"), "x").unwrap());
        assert!(!sets.remove(&owner("ann"), "x").unwrap());
        assert_eq!(sets.used_bytes(&owner("ann")).unwrap(), 0);
        let y = upload(&sets, &owner("ann"), "a.txt", b"abc");
        sets.add(&owner("ann"), "y", &y).unwrap();
        assert_eq!(sets.used_bytes(&owner("ann")).unwrap(), 3);
        assert!(!y.content.exists(), "the upload moved into place");
        sets.remove_all(&owner("ann")).unwrap();
        assert!(sets.names(&ann).unwrap().is_empty());
        sets.remove_all(&owner("nobody")).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn links_are_not_data_sets() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let datasets = root.path().join("datasets");
        std::fs::create_dir_all(datasets.join("real")).unwrap();
        std::os::unix::fs::symlink(outside.path(), datasets.join("link")).unwrap();
        let sets = FolderDatasets::new(&datasets);
        assert_eq!(sets.names(&DatasetScope::Shared).unwrap(), ["real"]);
        assert!(
            sets.host_dir(&DatasetScope::Shared, "real")
                .unwrap()
                .is_some()
        );
        assert_eq!(sets.host_dir(&DatasetScope::Shared, "link").unwrap(), None);
    }
}
