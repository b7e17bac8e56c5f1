//! Use cases on data sets (see [`crate::datasets`]): listing, uploading,
//! archiving and removing them, each a call to the [`Datasets`] port made
//! off the async workers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::datasets::*;
use crate::error::{CoreError, CoreResult};
use crate::jobs::validate_file_name;
use crate::model::User;
use crate::quota::Resource;
use crate::service::Berth;

fn unknown_dataset(name: &str) -> CoreError {
    CoreError::invalid_field("data", format!("data set {name} not found"))
}

fn dataset_not_found(name: &str) -> CoreError {
    CoreError::not_found(format!("data set {name} not found"))
}

/// Runs a call to the port on a thread that may block.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> CoreResult<T> + Send + 'static,
) -> CoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CoreError::internal("file task failed", e))?
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

    /// Starts an upload of the actor's: a file on disk it is written to as
    /// it arrives, counted against the actor's concurrent uploads.
    pub async fn begin_dataset_upload(&self, actor: &User) -> CoreResult<DatasetSpool> {
        let slot = self
            .uploads
            .enter(&self.settings.quotas, Resource::Uploads, actor.id)?;
        let owner = DatasetOwner::of(actor)?;
        let datasets = Arc::clone(&self.datasets);
        blocking(move || DatasetSpool::create(datasets.spool(&owner)?, slot)).await
    }

    /// Stores an upload as the actor's data set `name`, if the actor's
    /// data sets stay within their quota with it; an existing one is a
    /// conflict. The file it arrived in is gone afterwards either way.
    pub async fn add_dataset(
        &self,
        actor: &User,
        name: &str,
        file_name: String,
        unpack: bool,
        mut spool: DatasetSpool,
    ) -> CoreResult<DatasetSummary> {
        validate_dataset_name(name)?;
        if !unpack {
            validate_file_name("file", &file_name)?;
        }
        spool.flush().await?;
        let owner = DatasetOwner::of(actor)?;
        // Held until the data set is in place: it is what the next check counts.
        let _quota = self.quota_locks.lock(actor.id).await;
        let datasets = Arc::clone(&self.datasets);
        let measured = owner.clone();
        let used = blocking(move || datasets.used_bytes(&measured)).await?;
        // An archive unpacks to no more than its own size.
        self.settings
            .quotas
            .check(Resource::DatasetBytes, used, spool.len())?;
        let upload = DatasetUpload {
            file_name,
            content: spool.path().to_path_buf(),
            unpack,
        };
        let datasets = Arc::clone(&self.datasets);
        let name = name.to_string();
        let summary = blocking(move || datasets.add(&owner, &name, &upload)).await?;
        drop(spool);
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
