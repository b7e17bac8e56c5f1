//! Data sets: named folders of files that a script job mounts read-only at
//! [`crate::jobs::DATA_MOUNT`]. Shared ones are placed by an administrator
//! for everyone; each user may upload their own, which shadow a shared one
//! of the same name. They are kept behind the [`Datasets`] port, as apps
//! are behind [`crate::store::Store`]; this module holds the port and the
//! rules on names, [`crate::jobs`] the use cases.

use std::path::{Path, PathBuf};

use crate::error::{CoreError, CoreResult};
use crate::model::User;
use crate::quota::InFlightGuard;

/// Not a data set name: a store may keep users' own data sets under it,
/// beside the shared ones.
pub const RESERVED_DATASET_NAME: &str = "users";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    /// Placed by an administrator for everyone, rather than uploaded by the caller.
    pub shared: bool,
}

/// An uploaded data set: one file, or a tar to unpack.
#[derive(Debug, Clone)]
pub struct DatasetUpload {
    pub file_name: String,
    /// The file the upload arrived in, at a path [`Datasets::spool`] gave;
    /// [`Datasets::add`] may move it.
    pub content: PathBuf,
    pub unpack: bool,
}

/// An upload arriving, written to disk as it comes (at a path the port's
/// [`Datasets::spool`] gave) instead of being held in memory, and holding
/// one of its user's upload slots. Whatever is left of the file when it
/// is dropped is removed, so an upload cut off leaves nothing behind.
#[derive(Debug)]
pub struct DatasetSpool {
    path: PathBuf,
    file: Option<std::fs::File>,
    pending: Vec<u8>,
    written: u64,
    _slot: InFlightGuard,
}

/// How much of an upload is gathered in memory before it is written out.
const SPOOL_CHUNK: usize = 1 << 20;

impl DatasetSpool {
    pub(crate) fn create(path: PathBuf, slot: InFlightGuard) -> CoreResult<DatasetSpool> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| CoreError::internal("data set upload", e))?;
        Ok(DatasetSpool {
            path,
            file: Some(file),
            pending: Vec::new(),
            written: 0,
            _slot: slot,
        })
    }

    /// Appends `data`; written out off the async workers once a chunk gathered.
    pub async fn write(&mut self, data: &[u8]) -> CoreResult<()> {
        self.pending.extend_from_slice(data);
        if self.pending.len() >= SPOOL_CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes out what is gathered.
    pub(crate) async fn flush(&mut self) -> CoreResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut file = self
            .file
            .take()
            .ok_or_else(|| CoreError::Internal("an upload written after it failed".into()))?;
        let chunk = std::mem::take(&mut self.pending);
        let (file, chunk) = tokio::task::spawn_blocking(move || {
            std::io::Write::write_all(&mut file, &chunk).map(|()| (file, chunk))
        })
        .await
        .map_err(|e| CoreError::internal("data set upload", e))?
        .map_err(|e| CoreError::internal("data set upload", e))?;
        self.written += chunk.len() as u64;
        self.pending = chunk;
        self.pending.clear();
        self.file = Some(file);
        Ok(())
    }

    /// Bytes received so far.
    pub fn len(&self) -> u64 {
        self.written + self.pending.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DatasetSpool {
    fn drop(&mut self) {
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSummary {
    pub name: String,
    pub files: u64,
    pub bytes: u64,
}

/// A user who may own data sets: one whose name can name a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetOwner(String);

impl DatasetOwner {
    pub fn new(username: &str) -> CoreResult<DatasetOwner> {
        // Usernames may be "." or "..", which must not name a directory.
        if username.chars().all(|c| c == '.') {
            return Err(CoreError::invalid("this user name cannot own data sets"));
        }
        Ok(DatasetOwner(username.to_string()))
    }

    pub fn of(user: &User) -> CoreResult<DatasetOwner> {
        DatasetOwner::new(&user.username)
    }

    pub fn username(&self) -> &str {
        &self.0
    }
}

/// Whose data sets: everyone's shared ones, or one user's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetScope {
    Shared,
    Own(DatasetOwner),
}

/// Where data sets are kept. Its calls block on I/O: the use cases make
/// them off the async workers. Names given to it are valid data set names.
pub trait Datasets: Send + Sync {
    /// The names of the data sets in `scope`, in no order.
    fn names(&self, scope: &DatasetScope) -> CoreResult<Vec<String>>;
    /// The folder of data set `name` in `scope` on the engine's host, to
    /// mount into a job; `None` when there is no such data set.
    fn host_dir(&self, scope: &DatasetScope, name: &str) -> CoreResult<Option<PathBuf>>;
    /// The data set in `dir` (as [`Datasets::host_dir`] gave it) as a tar
    /// archive holding one folder, `name`.
    fn archive(&self, dir: &Path, name: &str) -> CoreResult<Vec<u8>>;
    /// Keeps an upload as `owner`'s data set `name`, whole or not at all;
    /// an existing one is a conflict.
    fn add(
        &self,
        owner: &DatasetOwner,
        name: &str,
        upload: &DatasetUpload,
    ) -> CoreResult<DatasetSummary>;
    /// A path, not taken yet, to write an upload of `owner`'s to while it
    /// arrives: beside the data sets (so it moves into place without a
    /// copy) and never listed as one.
    fn spool(&self, owner: &DatasetOwner) -> CoreResult<PathBuf>;
    /// The bytes of the files in `owner`'s data sets together.
    fn used_bytes(&self, owner: &DatasetOwner) -> CoreResult<u64>;
    /// Deletes one of `owner`'s data sets; false when there was none.
    fn remove(&self, owner: &DatasetOwner, name: &str) -> CoreResult<bool>;
    /// Deletes every data set of `owner`'s.
    fn remove_all(&self, owner: &DatasetOwner) -> std::io::Result<()>;
}

/// Data set names are folder names: a letter or digit, then letters,
/// digits, `.`, `_` and `-`.
pub fn validate_dataset_name(name: &str) -> CoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && name != RESERVED_DATASET_NAME;
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            "name",
            format!(
                "{name:?} is not a data set name: a letter or digit, then letters, digits, '.', '_' or '-'"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_users_whose_name_can_name_a_folder() {
        assert_eq!(DatasetOwner::new("ann").unwrap().username(), "ann");
        for bad in ["", ".", ".."] {
            assert_eq!(
                DatasetOwner::new(bad),
                Err(CoreError::invalid("this user name cannot own data sets"))
            );
        }
    }

    #[test]
    fn names() {
        assert!(validate_dataset_name("genomes-2024.v1").is_ok());
        for bad in ["", ".hidden", "-x", "a/b", "..", "users", "a b"] {
            assert!(validate_dataset_name(bad).is_err(), "{bad:?}");
        }
    }
}
