//! Data sets: named folders of files that a script job mounts read-only at
//! [`crate::jobs::DATA_MOUNT`]. Shared ones are placed by an administrator
//! for everyone; each user may upload their own, which shadow a shared one
//! of the same name. They are kept behind the [`Datasets`] port, as apps
//! are behind [`crate::store::Store`]; this module holds the port, the
//! rules on names and the use cases on [`Berth`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{CoreError, CoreResult};
use crate::jobs::validate_file_name;
use crate::model::User;
use crate::service::Berth;

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
    pub content: Vec<u8>,
    pub unpack: bool,
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

fn unknown_dataset(name: &str) -> CoreError {
    CoreError::invalid_field("data", format!("data set {name} not found"))
}

fn dataset_not_found(name: &str) -> CoreError {
    CoreError::not_found(format!("data set {name} not found"))
}

/// Runs a call to the port on a thread that may block.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> CoreResult<T> + Send + 'static,
) -> CoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CoreError::Internal(format!("file task failed: {e}")))?
}

impl Berth {
    /// Removes a departed user's own data sets, so that nobody who later
    /// registers the same name finds them.
    pub(crate) fn discard_user_datasets(&self, user: &User) {
        let Ok(owner) = DatasetOwner::of(user) else {
            return;
        };
        if let Err(e) = self.datasets.remove_all(&owner) {
            tracing::warn!(user = %user.username, error = %e, "could not remove the user's data sets");
        }
    }

    /// The data sets the actor can use: their own, and the shared ones
    /// their own do not shadow, by name.
    pub async fn datasets(&self, actor: &User) -> CoreResult<Vec<Dataset>> {
        let own = DatasetScope::Own(DatasetOwner::of(actor)?);
        let datasets = Arc::clone(&self.datasets);
        blocking(move || {
            let mut found: BTreeMap<String, bool> = BTreeMap::new();
            for name in datasets.names(&DatasetScope::Shared)? {
                found.insert(name, true);
            }
            for name in datasets.names(&own)? {
                found.insert(name, false);
            }
            Ok(found
                .into_iter()
                .map(|(name, shared)| Dataset { name, shared })
                .collect())
        })
        .await
    }

    /// The host directory of a data set the actor can use (their own
    /// before a shared one of the same name).
    pub async fn dataset_dir(&self, actor: &User, name: &str) -> CoreResult<PathBuf> {
        validate_dataset_name(name).map_err(|_| {
            CoreError::invalid_field("data", format!("{name:?} is not a data set name"))
        })?;
        let scopes = [
            DatasetScope::Own(DatasetOwner::of(actor)?),
            DatasetScope::Shared,
        ];
        let datasets = Arc::clone(&self.datasets);
        let name = name.to_string();
        blocking(move || {
            for scope in &scopes {
                if let Some(dir) = datasets.host_dir(scope, &name)? {
                    return Ok(dir);
                }
            }
            Err(unknown_dataset(&name))
        })
        .await
    }

    /// Stores an upload as the actor's data set `name`; an existing one is a conflict.
    pub async fn add_dataset(
        &self,
        actor: &User,
        name: &str,
        upload: DatasetUpload,
    ) -> CoreResult<DatasetSummary> {
        validate_dataset_name(name)?;
        if !upload.unpack {
            validate_file_name("file", &upload.file_name)?;
        }
        let owner = DatasetOwner::of(actor)?;
        let datasets = Arc::clone(&self.datasets);
        let name = name.to_string();
        let summary = blocking(move || datasets.add(&owner, &name, &upload)).await?;
        tracing::info!(dataset = %summary.name, by = %actor.username, files = summary.files, "data set uploaded");
        Ok(summary)
    }

    /// A tar of a data set the actor can use; links in it stay links.
    pub async fn dataset_archive(&self, actor: &User, name: &str) -> CoreResult<Vec<u8>> {
        let dir = self
            .dataset_dir(actor, name)
            .await
            .map_err(|_| dataset_not_found(name))?;
        let datasets = Arc::clone(&self.datasets);
        let name = name.to_string();
        blocking(move || datasets.archive(&dir, &name)).await
    }

    /// Deletes one of the actor's own data sets.
    pub async fn remove_dataset(&self, actor: &User, name: &str) -> CoreResult<()> {
        validate_dataset_name(name).map_err(|_| dataset_not_found(name))?;
        let owner = DatasetOwner::of(actor)?;
        let datasets = Arc::clone(&self.datasets);
        let name = name.to_string();
        blocking(move || match datasets.remove(&owner, &name)? {
            true => Ok(()),
            false => Err(dataset_not_found(&name)),
        })
        .await
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
