//! [`VolumeStore`]: Tapis pod volumes, snapshots and the image allow-list.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::User;
use crate::model::volume::{AllowedImage, Snapshot, Volume};

#[async_trait]
pub trait VolumeStore: Send + Sync {
    /// A new volume starts with no grants, even if one of that name once
    /// existed and left some behind.
    async fn create_volume(&self, volume: &Volume) -> StoreResult<()>;
    async fn get_volume(&self, id: &str) -> StoreResult<Option<Volume>>;
    /// Volumes the user owns or was granted, or all for administrators.
    async fn list_volumes(&self, user: &User) -> StoreResult<Vec<Volume>>;
    async fn update_volume(&self, volume: &Volume) -> StoreResult<()>;
    /// Deletes the volume and its grants.
    async fn delete_volume(&self, id: &str) -> StoreResult<()>;

    /// As [`VolumeStore::create_volume`], for snapshots.
    async fn create_snapshot(&self, snapshot: &Snapshot) -> StoreResult<()>;
    async fn get_snapshot(&self, id: &str) -> StoreResult<Option<Snapshot>>;
    async fn list_snapshots(&self, user: &User) -> StoreResult<Vec<Snapshot>>;
    async fn update_snapshot(&self, snapshot: &Snapshot) -> StoreResult<()>;
    async fn delete_snapshot(&self, id: &str) -> StoreResult<()>;

    /// Adds allow-list entries, all or none; an image already listed is a conflict.
    async fn add_allowed_images(&self, images: &[AllowedImage]) -> StoreResult<()>;
    async fn allowed_images(&self) -> StoreResult<Vec<AllowedImage>>;
    /// Removes one entry; false when there was none.
    async fn remove_allowed_image(&self, image: &str) -> StoreResult<bool>;
}
