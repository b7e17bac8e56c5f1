//! [`CertStore`]: TLS certificates users added, and their private keys.

use async_trait::async_trait;

use super::{Page, StoreResult};
use crate::model::{Certificate, ServingCert};

#[async_trait]
pub trait CertStore: Send + Sync {
    /// Stores a certificate with its chain and key; a taken common name is
    /// a [`super::StoreError::Conflict`].
    async fn add_cert(
        &self,
        owner_id: i64,
        cert: &Certificate,
        chain_pem: &str,
        key_pem: &str,
    ) -> StoreResult<()>;
    /// One page by common name: every certificate, or only `owner`'s.
    async fn list_certs(
        &self,
        owner: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Certificate>>;
    async fn cert(&self, common_name: &str) -> StoreResult<Option<Certificate>>;
    async fn remove_cert(&self, common_name: &str) -> StoreResult<bool>;
    /// Every certificate with its chain and key, by common name.
    async fn serving_certs(&self) -> StoreResult<Vec<ServingCert>>;
}
