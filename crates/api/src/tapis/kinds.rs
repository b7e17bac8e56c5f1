//! Marker types naming a kind of Tapis object, so that one generic handler
//! serves the routes of every kind: [`Shared`] for the permission routes,
//! [`Folder`] for the file routes of volumes and snapshots.

use berth_core::pods::permissions::SharedKind;
use berth_core::volume_files::FolderKind;

/// A kind of shared object, and the noun its answers name it by.
pub trait Shared {
    const KIND: SharedKind;
    const NOUN: &'static str;
}

/// A kind of object that holds a folder of files.
pub trait Folder {
    const FOLDER: FolderKind;
}

pub struct Pods;
pub struct Templates;
pub struct Volumes;
pub struct Snapshots;

impl Shared for Pods {
    const KIND: SharedKind = SharedKind::Pod;
    const NOUN: &'static str = "Pod";
}

impl Shared for Templates {
    const KIND: SharedKind = SharedKind::Template;
    const NOUN: &'static str = "Template";
}

impl Shared for Volumes {
    const KIND: SharedKind = SharedKind::Volume;
    const NOUN: &'static str = "Volume";
}

impl Shared for Snapshots {
    const KIND: SharedKind = SharedKind::Snapshot;
    const NOUN: &'static str = "Snapshot";
}

impl Folder for Volumes {
    const FOLDER: FolderKind = FolderKind::Volume;
}

impl Folder for Snapshots {
    const FOLDER: FolderKind = FolderKind::Snapshot;
}
