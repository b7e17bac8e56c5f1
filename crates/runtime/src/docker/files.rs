//! A container's filesystem: tar archives in and out (streamed, or held
//! whole up to a cap), a path's kind, and what changed against its image.

use std::pin::Pin;

use berth_core::archive::EntryKind;
use berth_core::runtime::{
    ArchiveChunks, FsChange, FsChangeKind, HELD_ARCHIVE_BYTES, PathStat, RuntimeError,
};
use bollard::query_parameters::{
    ContainerArchiveInfoOptions, DownloadFromContainerOptions, UploadToContainerOptions,
};
use futures::StreamExt;

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
    let mut chunks = archive_stream(runtime, id, path).await?;
    let mut tar = Vec::new();
    while let Some(chunk) = chunks.next().await {
        tar.extend_from_slice(&chunk?);
        if tar.len() > HELD_ARCHIVE_BYTES {
            return Err(RuntimeError::TooLarge(format!(
                "the archive of {path} is over {HELD_ARCHIVE_BYTES} bytes"
            )));
        }
    }
    Ok(tar)
}

pub(super) async fn archive_stream(
    runtime: &DockerRuntime,
    id: &str,
    path: &str,
) -> Result<ArchiveChunks, RuntimeError> {
    let options = DownloadFromContainerOptions {
        path: path.to_string(),
    };
    let owned_path = path.to_string();
    let mut chunks = runtime
        .docker
        .download_from_container(id, Some(options))
        .map(move |chunk| {
            chunk
                .map(|bytes| bytes.to_vec())
                .map_err(|e| missing_or(e, &owned_path))
        })
        .peekable();
    // The engine's answer to a missing path comes as the first item.
    if let Some(Err(_)) = Pin::new(&mut chunks).peek().await
        && let Some(Err(e)) = chunks.next().await
    {
        return Err(e);
    }
    Ok(chunks.boxed())
}

pub(super) async fn stat_path(
    runtime: &DockerRuntime,
    id: &str,
    path: &str,
) -> Result<PathStat, RuntimeError> {
    let options = ContainerArchiveInfoOptions {
        path: path.to_string(),
    };
    let stat = runtime
        .docker
        .get_container_archive_info(id, Some(options))
        .await
        .map_err(|e| missing_or(e, path))?;
    Ok(PathStat {
        kind: kind_of_mode(stat.file_mode),
        size: stat.size.max(0) as u64,
    })
}

/// The kind of a file from its mode as the engine reports it (Go's
/// `os.FileMode`, whose type bits are the high ones).
fn kind_of_mode(mode: u32) -> EntryKind {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const NOT_REGULAR: u32 =
        DIR | SYMLINK | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19);
    if mode & DIR != 0 {
        EntryKind::Directory
    } else if mode & SYMLINK != 0 {
        EntryKind::Link
    } else if mode & NOT_REGULAR != 0 {
        EntryKind::Other
    } else {
        EntryKind::File
    }
}

fn missing_or(e: bollard::errors::Error, path: &str) -> RuntimeError {
    if has_status(&e, 404) {
        RuntimeError::NotFound(path.to_string())
    } else {
        classify(e, path)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_tell_the_kind() {
        assert_eq!(kind_of_mode(0o644), EntryKind::File);
        assert_eq!(kind_of_mode((1 << 31) | 0o755), EntryKind::Directory);
        assert_eq!(kind_of_mode((1 << 27) | 0o777), EntryKind::Link);
        assert_eq!(
            kind_of_mode((1 << 26) | (1 << 21) | 0o666),
            EntryKind::Other
        );
    }
}
