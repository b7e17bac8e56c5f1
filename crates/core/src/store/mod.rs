//! Persistence as the core needs it: [`Store`] is the sum of one small
//! trait per concept, each in its own file here. The SQLite driver lives in
//! `berth-store`; nothing here assumes SQL.

use async_trait::async_trait;
use thiserror::Error;

mod access;
mod apps;
mod catalog;
mod certs;
mod events;
mod identity;
mod instances;
mod jobs;
mod releases;
mod runs;
mod templates;
mod volumes;

pub use access::AccessStore;
pub use apps::AppStore;
pub use catalog::CatalogStore;
pub use certs::CertStore;
pub use events::EventStore;
pub use identity::IdentityStore;
pub use instances::InstanceStore;
pub use jobs::JobStore;
pub use releases::ReleaseStore;
pub use runs::RunStore;
pub use templates::TemplateStore;
pub use volumes::VolumeStore;

/// Every per-concept store trait, for code that calls store methods on a
/// concrete store or a generic one (calls through `dyn Store` need none).
pub mod prelude {
    pub use super::{
        AccessStore, AppStore, CatalogStore, CertStore, EventStore, IdentityStore, InstanceStore,
        JobStore, ReleaseStore, RunStore, Store, TemplateStore, VolumeStore,
    };
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A uniqueness rule was broken; the text names what is taken.
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    /// A compare-and-set write found the app changed since it was read.
    #[error("{0} changed meanwhile")]
    Stale(String),
    #[error("store: {0}")]
    Backend(String),
}

impl From<StoreError> for crate::CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => crate::CoreError::Conflict(m),
            StoreError::NotFound(m) => crate::CoreError::NotFound(format!("{m} not found")),
            StoreError::Stale(m) => crate::CoreError::Conflict(format!(
                "{m} was changed by another request at the same time; try again"
            )),
            StoreError::Backend(m) => crate::CoreError::Internal(m.into()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a listing with the total it was cut from.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Everything the core persists. Implement the per-concept traits and
/// this one; callers holding an `Arc<dyn Store>` reach every method.
#[async_trait]
pub trait Store:
    IdentityStore
    + AppStore
    + ReleaseStore
    + InstanceStore
    + EventStore
    + AccessStore
    + RunStore
    + CatalogStore
    + JobStore
    + TemplateStore
    + CertStore
    + VolumeStore
    + Send
    + Sync
{
    async fn ping(&self) -> StoreResult<()>;
}
