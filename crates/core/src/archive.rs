//! Files going into and out of containers, which the engine moves as tar
//! archives: the one confiner of '/'-separated paths, the one reader of an
//! engine's archive and the one writer of archives to unpack in a
//! container, and [`Download`], what a client gets for a path. Archives
//! that can be large are read as they stream ([`StreamedArchive`]): names
//! and headers only, or one file's bytes passed on, never the whole.
//!
//! Errors here are plain I/O errors or [`LeavesTree`]; each caller says in
//! its own words what went wrong, since the words differ by API.

use std::io::{self, Read};

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

use crate::model::now;
// The kinds are the runtime port's too (a path's stat names one).
use crate::runtime::ArchiveChunks;
pub use crate::runtime::EntryKind;

/// A path that `..` would lead out of the tree it is given in. `..` is
/// refused rather than resolved: no request names anything outside the
/// directory it was given, whatever the links inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeavesTree;

/// The parts of a '/'-separated path, with empty and `.` parts dropped.
pub fn normal_parts(path: &str) -> Result<Vec<&str>, LeavesTree> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(LeavesTree),
            p => parts.push(p),
        }
    }
    Ok(parts)
}

/// An absolute, normalised path: `path` itself when absolute, else taken
/// from `base`.
pub fn absolute_path(base: &str, path: &str) -> Result<String, LeavesTree> {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{base}/{path}")
    };
    Ok(format!("/{}", normal_parts(&joined)?.join("/")))
}

/// What a download yields: one file's bytes, or a directory as the tar
/// archive the engine made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    File { name: String, bytes: Vec<u8> },
    Directory { name: String, tar: Vec<u8> },
}

/// A download as it streams: a file's bytes, or a directory as the tar
/// archive the engine makes of it.
pub struct StreamedDownload {
    /// The last part of the path (empty for `/`).
    pub name: String,
    pub directory: bool,
    pub body: BoxStream<'static, io::Result<Vec<u8>>>,
}

impl EntryKind {
    fn of(header: &tar::Header) -> EntryKind {
        let t = header.entry_type();
        if t.is_file() {
            EntryKind::File
        } else if t.is_dir() {
            EntryKind::Directory
        } else if t.is_symlink() || t.is_hard_link() {
            EntryKind::Link
        } else {
            EntryKind::Other
        }
    }
}

/// One entry of an archive.
#[derive(Debug, Clone)]
pub struct ArchiveEntry {
    /// Its path in the archive, without a trailing `/`.
    pub path: String,
    pub kind: EntryKind,
    pub header: tar::Header,
    /// A regular file's bytes; empty for everything else.
    pub bytes: Vec<u8>,
}

impl ArchiveEntry {
    /// The last part of its path; `fallback` when the path has none.
    pub fn name_or(&self, fallback: &str) -> String {
        match self.path.rsplit('/').next() {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => fallback.to_string(),
        }
    }
}

fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> io::Result<String> {
    Ok(entry
        .path()?
        .to_string_lossy()
        .trim_end_matches('/')
        .to_string())
}

fn read_entry<R: Read>(mut entry: tar::Entry<'_, R>) -> io::Result<ArchiveEntry> {
    let path = entry_path(&entry)?;
    let header = entry.header().clone();
    let kind = EntryKind::of(&header);
    let mut bytes = Vec::new();
    if kind == EntryKind::File {
        entry.read_to_end(&mut bytes)?;
    }
    Ok(ArchiveEntry {
        path,
        kind,
        header,
        bytes,
    })
}

/// Every entry of an archive, in order. The engine archives a path with
/// the path itself first, then what a directory holds.
pub fn entries(tar_bytes: &[u8]) -> io::Result<Vec<ArchiveEntry>> {
    let mut archive = tar::Archive::new(tar_bytes);
    archive.entries()?.map(|e| read_entry(e?)).collect()
}

/// The first entry of an archive (the path the engine archived), reading
/// no further; `None` for an empty archive.
pub fn first_entry(tar_bytes: &[u8]) -> io::Result<Option<ArchiveEntry>> {
    let mut archive = tar::Archive::new(tar_bytes);
    match archive.entries()?.next() {
        Some(entry) => read_entry(entry?).map(Some),
        None => Ok(None),
    }
}

/// Each entry of an archive in order, its file bytes skipped unread.
pub fn for_each_head<R: Read>(reader: R, mut each: impl FnMut(ArchiveEntry)) -> io::Result<()> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let entry = entry?;
        let header = entry.header().clone();
        each(ArchiveEntry {
            path: entry_path(&entry)?,
            kind: EntryKind::of(&header),
            header,
            bytes: Vec::new(),
        });
    }
    Ok(())
}

/// The bytes of an archive's first entry, sent to `out` a piece at a time
/// as they are read. Blocks: run it on a blocking thread.
pub fn send_first_file<R: Read>(
    reader: R,
    out: &mpsc::Sender<io::Result<Vec<u8>>>,
) -> io::Result<()> {
    let mut archive = tar::Archive::new(reader);
    let Some(entry) = archive.entries()?.next() else {
        return Ok(());
    };
    let mut entry = entry?;
    loop {
        let mut piece = vec![0u8; PIECE_BYTES];
        let n = entry.read(&mut piece)?;
        if n == 0 {
            return Ok(());
        }
        piece.truncate(n);
        if out.blocking_send(Ok(piece)).is_err() {
            // The client went away.
            return Ok(());
        }
    }
}

const PIECE_BYTES: usize = 64 << 10;

/// A blocking [`Read`] of an archive that arrives as chunks: a task
/// forwards the chunks over a short channel, so at most a few chunks are
/// held at a time. Read it on a blocking thread.
pub struct StreamedArchive {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl StreamedArchive {
    /// Starts forwarding `chunks`; needs a Tokio runtime. Dropping the
    /// reader stops the forwarding and drops the engine's stream.
    pub fn new(mut chunks: ArchiveChunks) -> StreamedArchive {
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            while let Some(chunk) = chunks.next().await {
                let failed = chunk.is_err();
                if tx.send(chunk.map_err(io::Error::other)).await.is_err() || failed {
                    return;
                }
            }
        });
        StreamedArchive {
            chunks: rx,
            chunk: Vec::new(),
            at: 0,
        }
    }
}

impl Read for StreamedArchive {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.chunks.blocking_recv() {
                Some(chunk) => {
                    self.chunk = chunk?;
                    self.at = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// One entry of an archive to write.
#[derive(Debug, Clone, Copy)]
pub enum NewEntry<'a> {
    Directory {
        path: &'a str,
        mode: u32,
    },
    File {
        path: &'a str,
        mode: u32,
        bytes: &'a [u8],
    },
}

/// An archive of `entries`, each stamped with the current time. Paths are
/// relative to where the engine unpacks it, which creates missing parent
/// directories.
pub fn write_archive(entries: &[NewEntry<'_>]) -> io::Result<Vec<u8>> {
    let mtime = now().unix_timestamp().max(0) as u64;
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(mtime);
        match *entry {
            NewEntry::Directory { path, mode } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(mode);
                header.set_size(0);
                builder.append_data(&mut header, path, io::empty())?;
            }
            NewEntry::File { path, mode, bytes } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(mode);
                header.set_size(bytes.len() as u64);
                builder.append_data(&mut header, path, bytes)?;
            }
        }
    }
    builder.into_inner()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An archive of (path, type, bytes) written raw, so that a test can
    /// send what a hostile client or an odd engine would.
    pub(crate) fn tar_of(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("/etc/passwd").unwrap();
            }
            // set_path refuses '..'; write the raw name to test what a hostile client sends.
            let name = header.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn parts_drop_empty_and_dot_and_refuse_dot_dot() {
        assert_eq!(normal_parts("./a//b/./").unwrap(), ["a", "b"]);
        assert!(normal_parts("").unwrap().is_empty());
        assert_eq!(normal_parts("a/../b"), Err(LeavesTree));
        assert_eq!(absolute_path("/job", "out/x").unwrap(), "/job/out/x");
        assert_eq!(absolute_path("/job", "/etc/").unwrap(), "/etc");
        assert_eq!(absolute_path("/", "").unwrap(), "/");
        assert_eq!(absolute_path("/job", "../etc"), Err(LeavesTree));
    }

    #[test]
    fn entries_come_in_order_with_file_bytes() {
        let tar = tar_of(&[
            ("out/", tar::EntryType::Directory, b""),
            ("out/r.txt", tar::EntryType::Regular, b"x"),
            ("out/link", tar::EntryType::Symlink, b""),
            ("out/hard", tar::EntryType::Link, b""),
            ("out/dev", tar::EntryType::Char, b""),
        ]);
        let all = entries(&tar).unwrap();
        let seen: Vec<(&str, EntryKind, &[u8])> = all
            .iter()
            .map(|e| (e.path.as_str(), e.kind, e.bytes.as_slice()))
            .collect();
        assert_eq!(
            seen,
            [
                ("out", EntryKind::Directory, &b""[..]),
                ("out/r.txt", EntryKind::File, b"x"),
                ("out/link", EntryKind::Link, b""),
                ("out/hard", EntryKind::Link, b""),
                ("out/dev", EntryKind::Other, b""),
            ]
        );
        let first = first_entry(&tar).unwrap().unwrap();
        assert_eq!(
            (first.path.as_str(), first.kind),
            ("out", EntryKind::Directory)
        );
        assert!(first_entry(&[0u8; 1024]).unwrap().is_none());
        assert!(entries(b"definitely not a tar archive at all").is_err());
    }

    #[test]
    fn names_are_the_last_part_of_the_path() {
        let named = |path: &str| {
            let tar = tar_of(&[(path, tar::EntryType::Directory, b"")]);
            first_entry(&tar).unwrap().unwrap().name_or("root")
        };
        assert_eq!(named("hostname"), "hostname");
        assert_eq!(named("job/"), "job");
        // The engine archives `/` as an entry named `/`.
        assert_eq!(named("/"), "root");
    }

    fn chunked(tar: &[u8], size: usize) -> ArchiveChunks {
        let chunks: Vec<Result<Vec<u8>, crate::runtime::RuntimeError>> =
            tar.chunks(size).map(|c| Ok(c.to_vec())).collect();
        futures::stream::iter(chunks).boxed()
    }

    #[tokio::test]
    async fn streamed_archives_are_read_a_chunk_at_a_time() {
        let tar = tar_of(&[
            ("out/", tar::EntryType::Directory, b""),
            ("out/r.txt", tar::EntryType::Regular, &[7u8; 3000]),
            ("out/s.txt", tar::EntryType::Regular, b"x"),
        ]);
        let reader = StreamedArchive::new(chunked(&tar, 100));
        let heads = tokio::task::spawn_blocking(move || {
            let mut heads = Vec::new();
            for_each_head(reader, |e| heads.push((e.path, e.kind, e.bytes.len()))).map(|()| heads)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            heads,
            [
                ("out".to_string(), EntryKind::Directory, 0),
                ("out/r.txt".to_string(), EntryKind::File, 0),
                ("out/s.txt".to_string(), EntryKind::File, 0),
            ]
        );

        let file = tar_of(&[("r.txt", tar::EntryType::Regular, &[7u8; 200_000])]);
        let reader = StreamedArchive::new(chunked(&file, 4096));
        let (tx, mut rx) = mpsc::channel(2);
        let sender = tokio::task::spawn_blocking(move || send_first_file(reader, &tx));
        let mut bytes = Vec::new();
        let mut pieces = 0;
        while let Some(piece) = rx.recv().await {
            let piece = piece.unwrap();
            assert!(piece.len() <= PIECE_BYTES);
            bytes.extend(piece);
            pieces += 1;
        }
        sender.await.unwrap().unwrap();
        assert_eq!(bytes, vec![7u8; 200_000]);
        assert!(pieces >= 4);
    }

    #[tokio::test]
    async fn an_engine_failure_mid_stream_is_a_read_error() {
        let tar = tar_of(&[("r.txt", tar::EntryType::Regular, &[7u8; 3000])]);
        let broken = futures::stream::iter(vec![
            Ok(tar[..1024].to_vec()),
            Err(crate::runtime::RuntimeError::Engine("gone".into())),
        ])
        .boxed();
        let reader = StreamedArchive::new(broken);
        let read = tokio::task::spawn_blocking(move || for_each_head(reader, |_| {}))
            .await
            .unwrap();
        assert!(read.unwrap_err().to_string().contains("gone"));
    }

    #[test]
    fn written_archives_hold_what_was_given() {
        let tar = write_archive(&[
            NewEntry::Directory {
                path: "job/",
                mode: 0o755,
            },
            NewEntry::File {
                path: "job/run.sh",
                mode: 0o755,
                bytes: b"echo hi\n",
            },
        ])
        .unwrap();
        let all = entries(&tar).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].path.as_str(), all[0].kind),
            ("job", EntryKind::Directory)
        );
        assert_eq!(all[1].bytes, b"echo hi\n");
        assert_eq!(all[1].header.mode().unwrap(), 0o755);
        assert!(all[1].header.mtime().unwrap() > 0);
    }
}
