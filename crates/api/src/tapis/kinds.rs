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

/// Declares each marker type and its kind; the noun is the kind's name.
macro_rules! shared_kinds {
    ($($marker:ident => $kind:ident),* $(,)?) => {$(
        pub struct $marker;

        impl Shared for $marker {
            const KIND: SharedKind = SharedKind::$kind;
            const NOUN: &'static str = stringify!($kind);
        }
    )*};
}

shared_kinds!(
    Pods => Pod,
    Templates => Template,
    Volumes => Volume,
    Snapshots => Snapshot,
);

impl Folder for Volumes {
    const FOLDER: FolderKind = FolderKind::Volume;
}

impl Folder for Snapshots {
    const FOLDER: FolderKind = FolderKind::Snapshot;
}
