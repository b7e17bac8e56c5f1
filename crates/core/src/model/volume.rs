//! Tapis pod storage data: volumes (folders pods share, read-write),
//! snapshots (immutable copies of a volume's path) and the image
//! allow-list pods are held to. The use cases are in
//! [`crate::pods::volumes`], [`crate::pods::snapshots`] and
//! [`crate::pods::images`].

use crate::model::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub volume_id: String,
    pub owner_id: i64,
    pub owner: String,
    pub description: String,
    /// In MB, as Tapis counts: uploads past it are refused.
    pub size_limit: i64,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub snapshot_id: String,
    pub owner_id: i64,
    pub owner: String,
    pub source_volume_id: String,
    pub source_volume_path: String,
    pub destination_path: String,
    pub description: String,
    pub size_limit: i64,
    /// Kept and shown as given: snapshots are taken once, at creation.
    pub cron: String,
    pub retention_policy: String,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// One entry of the image allow-list: an exact `repo:tag`, or `repo:*`
/// for every tag of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedImage {
    pub image: String,
    /// The tenants it applies to; empty or `*`: every tenant.
    pub tenants: Vec<String>,
    pub description: String,
    pub added_by: String,
    pub created: Timestamp,
}

/// The grant object name of a volume.
pub fn volume_object(id: &str) -> String {
    format!("volume:{id}")
}

/// The grant object name of a snapshot.
pub fn snapshot_object(id: &str) -> String {
    format!("snapshot:{id}")
}
