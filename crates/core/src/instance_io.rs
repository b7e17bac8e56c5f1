//! Reads and writes inside an app's running instance: exec and files.
//! Commands here are argv (never a shell unless the argv calls one), and
//! paths are confined to the container's own filesystem.

use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::archive::{self, ArchiveEntry, EntryKind, LeavesTree, NewEntry, StreamedDownload};
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::runtime::RuntimeError;
use crate::service::Berth;

/// One command's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    pub argv: Vec<String>,
    pub stdout: String,
    pub stderr: String,
    /// `None` when the command timed out or was not run.
    pub exit_code: Option<i64>,
    pub duration_ms: u128,
    pub timed_out: bool,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub path: String,
    /// `file`, `dir` or `symlink`.
    pub kind: &'static str,
    pub size: u64,
    pub modified: Timestamp,
    /// `rwxr-xr-x` style.
    pub permissions: String,
}

/// An absolute, normalised path inside a container. Relative paths are
/// taken from `base`; `..` is refused outright rather than resolved, so no
/// request can name anything outside the directory tree it was given.
pub fn container_path(base: &str, path: &str) -> CoreResult<String> {
    if path.contains('\0') {
        return Err(CoreError::invalid_field("path", "must not contain NUL"));
    }
    // What no Linux file system takes (or a terminal shows safely) is refused
    // here, not sent to the engine to fail there.
    if path.chars().any(char::is_control) {
        return Err(CoreError::invalid_field(
            "path",
            "must not contain control characters",
        ));
    }
    if path.len() > PATH_MAX {
        return Err(CoreError::invalid_field(
            "path",
            format!("may have at most {PATH_MAX} bytes"),
        ));
    }
    if path.split('/').any(|part| part.len() > NAME_MAX) {
        return Err(CoreError::invalid_field(
            "path",
            format!("each name in it may have at most {NAME_MAX} bytes"),
        ));
    }
    archive::absolute_path(base, path).map_err(|LeavesTree| {
        CoreError::Forbidden(format!(
            "path {path} leaves its directory: '..' is not allowed"
        ))
    })
}

/// Linux's limits on a path and on one name in it, in bytes.
const PATH_MAX: usize = 4096;
const NAME_MAX: usize = 255;

pub(crate) fn mode_text(mode: u32) -> String {
    let bits = ['r', 'w', 'x', 'r', 'w', 'x', 'r', 'w', 'x'];
    bits.iter()
        .enumerate()
        .map(|(i, c)| if mode & (1 << (8 - i)) != 0 { *c } else { '-' })
        .collect()
}

fn runtime_error(path: &str, e: RuntimeError) -> CoreError {
    match e {
        RuntimeError::NotFound(_) => CoreError::not_found(format!("{path} not found")),
        other => CoreError::unavailable(other),
    }
}

fn unreadable(e: std::io::Error) -> CoreError {
    CoreError::internal("unreadable archive from the engine", e)
}

pub(crate) fn entry_kind(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Directory => "dir",
        EntryKind::Link => "symlink",
        EntryKind::File | EntryKind::Other => "file",
    }
}

/// Builds the listing of what the engine archives for `target`, one
/// archived entry at a time: the entries of a directory, or the one file.
#[derive(Default)]
struct Listing {
    /// The path the archive's first entry stands for, and its depth.
    root: Option<(EntryKind, usize)>,
    entries: Vec<FileEntry>,
}

impl Listing {
    fn add(&mut self, target: &str, e: &ArchiveEntry) {
        let depth = e.path.split('/').count();
        match self.root {
            None => {
                self.root = Some((e.kind, depth));
                if e.kind != EntryKind::Directory {
                    self.entries.push(file_entry(target, e));
                }
            }
            Some((EntryKind::Directory, root_depth)) if depth == root_depth + 1 => {
                self.entries.push(file_entry(target, e));
            }
            Some(_) => {}
        }
    }
}

/// An archived entry as listed: the archive's paths start at `target`'s
/// last part, so its parent comes first.
fn file_entry(target: &str, e: &ArchiveEntry) -> FileEntry {
    let parent = target.rsplit_once('/').map_or("", |(p, _)| p);
    let joined = format!("{parent}/{}", e.path);
    FileEntry {
        name: e.name_or(""),
        path: archive::absolute_path("/", &joined).unwrap_or(joined),
        kind: entry_kind(e.kind),
        size: e.header.size().unwrap_or(0),
        modified: Timestamp::from_unix_timestamp(e.header.mtime().unwrap_or(0) as i64)
            .unwrap_or_else(|_| now()),
        permissions: mode_text(e.header.mode().unwrap_or(0)),
    }
}

/// The listing of an archive of `target` read as it streams, no file's
/// bytes kept.
fn listing<R: std::io::Read>(target: &str, tar: R) -> std::io::Result<Vec<FileEntry>> {
    let mut listing = Listing::default();
    archive::for_each_head(tar, |e| listing.add(target, &e))?;
    Ok(listing.entries)
}

/// The last part of a confined path; empty for `/`.
fn last_part(target: &str) -> String {
    target.rsplit('/').next().unwrap_or("").to_string()
}

impl Berth {
    /// The running instance of an app that runs one (a pod).
    pub async fn running_instance(&self, app: &App) -> CoreResult<(Instance, String)> {
        let instances = self.store.list_instances(Some(&app.id)).await?;
        instances
            .into_iter()
            .filter(|i| i.release == app.release && i.state == InstanceState::Up)
            .find_map(|i| i.engine_id.clone().map(|e| (i, e)))
            .ok_or_else(|| CoreError::invalid(format!("{} is not running", app.id)))
    }

    /// Runs each argv in turn in the running instance. Stops at the first
    /// failure when `fail_on_non_success`, and when `total` runs out.
    pub async fn exec(
        &self,
        actor: &User,
        id: &str,
        commands: &[Vec<String>],
        per_command: Duration,
        total: Duration,
        fail_on_non_success: bool,
    ) -> CoreResult<Vec<CommandOutcome>> {
        let app = self.app(actor, id, Level::Admin).await?;
        if commands.is_empty() || commands.iter().any(|c| c.is_empty() || c[0].is_empty()) {
            return Err(CoreError::invalid_field(
                "commands",
                "give one argv or a list of argvs, none empty",
            ));
        }
        let (_, engine_id) = self.running_instance(&app).await?;
        let started = Instant::now();
        let mut outcomes = Vec::new();
        for argv in commands {
            let left = total.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            let t0 = Instant::now();
            let result = self
                .runtime
                .exec(&engine_id, argv, per_command.min(left))
                .await;
            let mut outcome = CommandOutcome {
                argv: argv.clone(),
                stdout: String::new(),
                stderr: String::new(),
                exit_code: None,
                duration_ms: 0,
                timed_out: false,
            };
            match result {
                Ok(out) => {
                    outcome.stdout = out.stdout;
                    outcome.stderr = out.stderr;
                    outcome.exit_code = Some(out.exit_code);
                }
                Err(RuntimeError::Timeout(_)) => outcome.timed_out = true,
                Err(e) => outcome.stderr = e.to_string(),
            }
            outcome.duration_ms = t0.elapsed().as_millis();
            let failed = outcome.exit_code != Some(0);
            outcomes.push(outcome);
            if failed && fail_on_non_success {
                break;
            }
        }
        self.event(
            &app,
            &actor.username,
            &format!(
                "{} ran {} command(s) in the pod",
                actor.username,
                outcomes.len()
            ),
        )
        .await;
        Ok(outcomes)
    }

    /// Writes `bytes` at `dest` in the running instance. A `dest` that ends
    /// in `/` or names a directory receives the file under `file_name`.
    pub async fn upload_file(
        &self,
        actor: &User,
        id: &str,
        dest: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> CoreResult<String> {
        let app = self.app(actor, id, Level::Admin).await?;
        let (_, engine_id) = self.running_instance(&app).await?;
        let file_name = file_name.rsplit('/').next().unwrap_or(file_name);
        let mut target = container_path("/", dest)?;
        let is_dir = dest.ends_with('/')
            || matches!(
                self.runtime.stat_path(&engine_id, &target).await,
                Ok(stat) if stat.kind == EntryKind::Directory
            );
        if is_dir {
            if file_name.is_empty() || file_name == "." || file_name == ".." {
                return Err(CoreError::invalid_field(
                    "file",
                    "the upload has no usable file name",
                ));
            }
            target = container_path(&target, file_name)?;
        }
        if target == "/" {
            return Err(CoreError::invalid_field("dest_path", "must name a file"));
        }
        // Relative to `/` so the engine creates missing parent directories.
        let tar = archive::write_archive(&[NewEntry::File {
            path: target.trim_start_matches('/'),
            mode: 0o644,
            bytes: &bytes,
        }])
        .map_err(|e| CoreError::internal("archive", e))?;
        self.runtime
            .put_archive(&engine_id, "/", tar)
            .await
            .map_err(|e| runtime_error(&target, e))?;
        self.event(
            &app,
            &actor.username,
            &format!("{} uploaded {target}", actor.username),
        )
        .await;
        Ok(target)
    }

    /// The running instance of an app the actor may read, and the confined
    /// path `path` names in it; a relative path starts in the container's
    /// working directory, as a shell in it would.
    async fn path_in_pod(
        &self,
        actor: &User,
        id: &str,
        path: &str,
    ) -> CoreResult<(String, String)> {
        let app = self.app(actor, id, Level::Admin).await?;
        let (_, engine_id) = self.running_instance(&app).await?;
        let base = if path.starts_with('/') {
            None
        } else {
            self.runtime
                .working_dir(&engine_id)
                .await
                .map_err(|e| runtime_error(path, e))?
        };
        let target = container_path(base.as_deref().unwrap_or("/"), path)?;
        Ok((engine_id, target))
    }

    /// The engine's archive of `target` as it streams.
    async fn archive_reader(
        &self,
        engine_id: &str,
        target: &str,
    ) -> CoreResult<archive::StreamedArchive> {
        let chunks = self
            .runtime
            .archive_stream(engine_id, target)
            .await
            .map_err(|e| runtime_error(target, e))?;
        Ok(archive::StreamedArchive::new(chunks))
    }

    /// The entries of a directory (or the one file) at `path`. The archive
    /// is read as it streams and no file's bytes are kept.
    pub async fn list_files(
        &self,
        actor: &User,
        id: &str,
        path: &str,
    ) -> CoreResult<Vec<FileEntry>> {
        let (engine_id, target) = self.path_in_pod(actor, id, path).await?;
        let tar = self.archive_reader(&engine_id, &target).await?;
        tokio::task::spawn_blocking(move || listing(&target, tar))
            .await
            .map_err(|e| CoreError::internal("listing files", e))?
            .map_err(unreadable)
    }

    /// A file's bytes, or a directory as a tar, streamed as the engine
    /// sends them. Links are refused: their target could lie anywhere.
    pub async fn download(
        &self,
        actor: &User,
        id: &str,
        path: &str,
    ) -> CoreResult<StreamedDownload> {
        let (engine_id, target) = self.path_in_pod(actor, id, path).await?;
        let stat = self
            .runtime
            .stat_path(&engine_id, &target)
            .await
            .map_err(|e| runtime_error(&target, e))?;
        let name = last_part(&target);
        if stat.kind == EntryKind::Link {
            return Err(CoreError::Forbidden(format!(
                "{target} is a link; links are not followed"
            )));
        }
        if stat.kind == EntryKind::Directory {
            let chunks = self
                .runtime
                .archive_stream(&engine_id, &target)
                .await
                .map_err(|e| runtime_error(&target, e))?;
            return Ok(StreamedDownload {
                name,
                directory: true,
                body: chunks.map(|c| c.map_err(std::io::Error::other)).boxed(),
            });
        }
        // A device or a pipe holds no bytes to hand out, but is not refused.
        let tar = self.archive_reader(&engine_id, &target).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = archive::send_first_file(tar, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        Ok(StreamedDownload {
            name,
            directory: false,
            body: futures::stream::unfold(rx, |mut rx| async {
                rx.recv().await.map(|piece| (piece, rx))
            })
            .boxed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tests::tar_of;

    #[test]
    fn paths_are_confined() {
        assert_eq!(container_path("/", "tmp/x").unwrap(), "/tmp/x");
        assert_eq!(
            container_path("/job", "out/./a.txt").unwrap(),
            "/job/out/a.txt"
        );
        assert_eq!(
            container_path("/job", "/etc//hosts/").unwrap(),
            "/etc/hosts"
        );
        assert_eq!(container_path("/", "").unwrap(), "/");
        assert!(container_path("/job", "../etc/passwd").is_err());
        assert!(container_path("/", "/tmp/../../etc").is_err());
        assert!(container_path("/", "a\0b").is_err());
    }

    #[test]
    fn confinement_errors_say_why() {
        assert_eq!(
            container_path("/", "a\0b"),
            Err(CoreError::invalid_field("path", "must not contain NUL"))
        );
        assert_eq!(
            container_path("/job", "../x"),
            Err(CoreError::Forbidden(
                "path ../x leaves its directory: '..' is not allowed".into()
            ))
        );
        assert_eq!(container_path("/", " a ").unwrap(), "/ a ");
        assert_eq!(container_path("/", "a\\b").unwrap(), "/a\\b");
        assert_eq!(container_path("/", &"a".repeat(255)).unwrap().len(), 256);
        assert_eq!(
            container_path("/", &"a".repeat(256)),
            Err(CoreError::invalid_field(
                "path",
                "each name in it may have at most 255 bytes"
            ))
        );
        assert_eq!(
            container_path("/", &"a/".repeat(2100)),
            Err(CoreError::invalid_field(
                "path",
                "may have at most 4096 bytes"
            ))
        );
        assert_eq!(
            container_path("/", "{\"\u{f}@\": []}"),
            Err(CoreError::invalid_field(
                "path",
                "must not contain control characters"
            ))
        );
    }

    #[test]
    fn listings_show_a_directory_one_level_deep() {
        let dir = tar_of(&[
            ("etc/", tar::EntryType::Directory, b""),
            ("etc/group", tar::EntryType::Regular, b"x"),
            ("etc/ssl/", tar::EntryType::Directory, b""),
            ("etc/ssl/certs", tar::EntryType::Regular, b"y"),
            ("etc/mtab", tar::EntryType::Symlink, b""),
        ]);
        let listed = listing("/etc", dir.as_slice()).unwrap();
        let seen: Vec<(&str, &str, &str)> = listed
            .iter()
            .map(|e| (e.name.as_str(), e.path.as_str(), e.kind))
            .collect();
        assert_eq!(
            seen,
            [
                ("group", "/etc/group", "file"),
                ("ssl", "/etc/ssl", "dir"),
                ("mtab", "/etc/mtab", "symlink"),
            ]
        );
        let file = tar_of(&[("hostname", tar::EntryType::Regular, b"box")]);
        let listed = listing("/etc/hostname", file.as_slice()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (
                listed[0].path.as_str(),
                listed[0].size,
                listed[0].permissions.as_str()
            ),
            ("/etc/hostname", 3, "rw-r--r--")
        );
        assert!(listing("/x", &[0u8; 1024][..]).unwrap().is_empty());
        assert!(listing("/x", &b"not a tar, not at all, no".repeat(30)[..]).is_err());
    }

    #[test]
    fn entries_under_the_root_have_one_leading_slash() {
        // The engine archives `/` as `/`, then `/big`, `/etc`, `/etc/hosts`.
        let root = tar_of(&[
            ("/", tar::EntryType::Directory, b""),
            ("/big", tar::EntryType::Regular, b"0000"),
            ("/etc/", tar::EntryType::Directory, b""),
            ("/etc/hosts", tar::EntryType::Regular, b"x"),
        ]);
        let listed = listing("/", root.as_slice()).unwrap();
        let seen: Vec<(&str, &str)> = listed
            .iter()
            .map(|e| (e.name.as_str(), e.path.as_str()))
            .collect();
        assert_eq!(seen, [("big", "/big"), ("etc", "/etc")]);
        assert_eq!(listed[0].size, 4);
    }

    #[test]
    fn modes_as_text() {
        assert_eq!(mode_text(0o755), "rwxr-xr-x");
        assert_eq!(mode_text(0o640), "rw-r-----");
    }
}
