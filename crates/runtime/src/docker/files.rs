//! A container's filesystem: tar archives in and out, and what changed
//! against its image.

use berth_core::runtime::{FsChange, FsChangeKind, RuntimeError};
use bollard::query_parameters::{DownloadFromContainerOptions, UploadToContainerOptions};
use futures::TryStreamExt;

use super::{DockerRuntime, classify, has_status};

pub(super) async fn put_archive(
    runtime: &DockerRuntime,
    id: &str,
    dir: &str,
    tar: Vec<u8>,
) -> Result<(), RuntimeError> {
    let options = UploadToContainerOptions {
        path: dir.to_string(),
        ..Default::default()
    };
    runtime
        .docker
        .upload_to_container(id, Some(options), bollard::body_full(tar.into()))
        .await
        .map_err(|e| classify(e, dir))
}

pub(super) async fn get_archive(
    runtime: &DockerRuntime,
    id: &str,
    path: &str,
) -> Result<Vec<u8>, RuntimeError> {
    let options = DownloadFromContainerOptions {
        path: path.to_string(),
    };
    let chunks: Vec<bytes::Bytes> = runtime
        .docker
        .download_from_container(id, Some(options))
        .try_collect()
        .await
        .map_err(|e| {
            if has_status(&e, 404) {
                RuntimeError::NotFound(path.to_string())
            } else {
                classify(e, path)
            }
        })?;
    Ok(chunks.concat())
}

pub(super) async fn diff(runtime: &DockerRuntime, id: &str) -> Result<Vec<FsChange>, RuntimeError> {
    let changes = runtime
        .docker
        .container_changes(id)
        .await
        .map_err(|e| classify(e, id))?;
    Ok(changes
        .unwrap_or_default()
        .into_iter()
        .map(|c| FsChange {
            path: c.path,
            kind: match c.kind as i32 {
                1 => FsChangeKind::Added,
                2 => FsChangeKind::Deleted,
                _ => FsChangeKind::Changed,
            },
        })
        .collect())
}
