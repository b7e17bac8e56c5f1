//! Per-user quotas: how much of the server one account may hold at once
//! (desired containers, unfinished jobs, data-set bytes, concurrent builds
//! and uploads), the refusal a request past one gets, the per-owner locks
//! that make a check and the write it guards one step, and the counters of
//! work that lives only in memory while it runs (uploads).
//!
//! A quota binds the account that owns what is counted (an app's owner,
//! whoever scales it), administrators included: they are users of the same
//! engine, and an operator who wants none sets the limit to 0.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{CoreError, CoreResult};

/// The limits per user; 0 means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Instances the user's apps, pods and Tutum applications that are on
    /// may ask for together (the sum of their process counts).
    pub containers: u64,
    /// NDS jobs not finished yet.
    pub jobs: u64,
    /// Bytes of the user's own data sets together.
    pub dataset_bytes: u64,
    /// Image builds pending or running.
    pub builds: u64,
    /// Data-set uploads arriving at once.
    pub uploads: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            containers: 100,
            jobs: 50,
            dataset_bytes: 10 << 30,
            builds: 2,
            uploads: 4,
        }
    }
}

/// What a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Containers,
    Jobs,
    DatasetBytes,
    Builds,
    Uploads,
}

impl Resource {
    fn describe(self, limit: u64) -> String {
        match self {
            Resource::Containers => format!("{limit} containers"),
            Resource::Jobs => format!("{limit} unfinished jobs"),
            Resource::DatasetBytes => format!("{limit} bytes of data sets"),
            Resource::Builds => format!("{limit} image builds at once"),
            Resource::Uploads => format!("{limit} uploads at once"),
        }
    }
}

impl Quotas {
    pub fn limit(&self, resource: Resource) -> u64 {
        match resource {
            Resource::Containers => self.containers,
            Resource::Jobs => self.jobs,
            Resource::DatasetBytes => self.dataset_bytes,
            Resource::Builds => self.builds,
            Resource::Uploads => self.uploads,
        }
    }

    /// Whether a user who holds `used` may take `more`: refused (403, as
    /// a quota refusal is in Kubernetes) when that passes the limit.
    pub fn check(&self, resource: Resource, used: u64, more: u64) -> CoreResult<()> {
        let limit = self.limit(resource);
        if limit == 0 || used.saturating_add(more) <= limit {
            return Ok(());
        }
        Err(CoreError::Forbidden(format!(
            "quota exceeded: a user may hold at most {} (in use: {used}, asked for {more} more)",
            resource.describe(limit)
        )))
    }
}

/// One async lock per owner: a quota check and the write it allows happen
/// under it, so two requests of one owner cannot both pass the check.
#[derive(Debug, Default)]
pub struct OwnerLocks(Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>);

impl OwnerLocks {
    pub async fn lock(&self, owner_id: i64) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(owner_id).or_default().clone()
        };
        lock.lock_owned().await
    }
}

/// How many of something each user has under way now, in memory only.
#[derive(Debug, Default, Clone)]
pub struct InFlight(Arc<Mutex<HashMap<i64, u64>>>);

impl InFlight {
    /// Counts one more for `owner_id` if the quota allows; the count goes
    /// down when the returned guard is dropped.
    pub fn enter(
        &self,
        quotas: &Quotas,
        resource: Resource,
        owner_id: i64,
    ) -> CoreResult<InFlightGuard> {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let used = counts.get(&owner_id).copied().unwrap_or(0);
        quotas.check(resource, used, 1)?;
        counts.insert(owner_id, used + 1);
        Ok(InFlightGuard {
            counts: self.0.clone(),
            owner_id,
        })
    }
}

/// One unit of [`InFlight`] work, given back on drop.
#[derive(Debug)]
pub struct InFlightGuard {
    counts: Arc<Mutex<HashMap<i64, u64>>>,
    owner_id: i64,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.owner_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.owner_id);
            }
        }
    }
}

/// The instances an app asks for: the sum of its process counts while it
/// is on, none while it is off.
pub fn desired_instances(on: bool, structure: &crate::model::Structure) -> u64 {
    if on {
        structure.values().map(|n| u64::from(*n)).sum()
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_of_zero_is_none() {
        let quotas = Quotas {
            jobs: 0,
            ..Quotas::default()
        };
        assert!(quotas.check(Resource::Jobs, u64::MAX - 1, 5).is_ok());
    }

    #[test]
    fn refusals_name_the_limit() {
        let quotas = Quotas {
            containers: 3,
            ..Quotas::default()
        };
        assert!(quotas.check(Resource::Containers, 2, 1).is_ok());
        assert_eq!(
            quotas.check(Resource::Containers, 2, 2),
            Err(CoreError::Forbidden(
                "quota exceeded: a user may hold at most 3 containers (in use: 2, asked for 2 more)"
                    .into()
            ))
        );
    }

    #[test]
    fn in_flight_work_is_given_back() {
        let quotas = Quotas {
            uploads: 1,
            ..Quotas::default()
        };
        let uploads = InFlight::default();
        let first = uploads.enter(&quotas, Resource::Uploads, 7).unwrap();
        assert!(uploads.enter(&quotas, Resource::Uploads, 7).is_err());
        assert!(uploads.enter(&quotas, Resource::Uploads, 8).is_ok());
        drop(first);
        assert!(uploads.enter(&quotas, Resource::Uploads, 7).is_ok());
    }
}
