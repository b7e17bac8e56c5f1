//! Reads and writes inside an app's running instance: exec and files.
//! Commands here are argv (never a shell unless the argv calls one), and
//! paths are confined to the container's own filesystem.

use std::io::Read;
use std::time::{Duration, Instant};

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

/// What a download yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    File {
        name: String,
        bytes: Vec<u8>,
    },
    /// A directory, as a tar archive.
    Directory {
        name: String,
        tar: Vec<u8>,
    },
}

/// An absolute, normalised path inside a container. Relative paths are
/// taken from `base`; `..` is refused outright rather than resolved, so no
/// request can name anything outside the directory tree it was given.
pub fn container_path(base: &str, path: &str) -> CoreResult<String> {
    if path.contains('\0') {
        return Err(CoreError::invalid_field("path", "must not contain NUL"));
    }
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(CoreError::Forbidden(format!(
                    "path {path} leaves its directory: '..' is not allowed"
                )));
            }
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

fn mode_text(mode: u32) -> String {
    let bits = ['r', 'w', 'x', 'r', 'w', 'x', 'r', 'w', 'x'];
    bits.iter()
        .enumerate()
        .map(|(i, c)| if mode & (1 << (8 - i)) != 0 { *c } else { '-' })
        .collect()
}

fn runtime_error(path: &str, e: RuntimeError) -> CoreError {
    match e {
        RuntimeError::NotFound(_) => CoreError::not_found(format!("{path} not found")),
        other => CoreError::Unavailable(other.to_string()),
    }
}

/// The entries of a tar as (path inside the archive, header), data read for regular files.
fn tar_entries(tar_bytes: &[u8]) -> CoreResult<Vec<(String, tar::Header, Vec<u8>)>> {
    let bad =
        |e: std::io::Error| CoreError::Internal(format!("unreadable archive from the engine: {e}"));
    let mut archive = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry
            .path()
            .map_err(bad)?
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        let header = entry.header().clone();
        let mut data = Vec::new();
        if header.entry_type().is_file() {
            entry.read_to_end(&mut data).map_err(bad)?;
        }
        out.push((path, header, data));
    }
    Ok(out)
}

fn entry_kind(header: &tar::Header) -> &'static str {
    let t = header.entry_type();
    if t.is_dir() {
        "dir"
    } else if t.is_symlink() || t.is_hard_link() {
        "symlink"
    } else {
        "file"
    }
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
        let app = self.app(actor, id, Level::User).await?;
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
        let app = self.app(actor, id, Level::User).await?;
        let (_, engine_id) = self.running_instance(&app).await?;
        let file_name = file_name.rsplit('/').next().unwrap_or(file_name);
        let mut target = container_path("/", dest)?;
        let is_dir = dest.ends_with('/')
            || match self.runtime.get_archive(&engine_id, &target).await {
                Ok(tar) => tar_entries(&tar)?
                    .first()
                    .is_some_and(|(_, h, _)| h.entry_type().is_dir()),
                Err(_) => false,
            };
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
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(now().unix_timestamp().max(0) as u64);
        let mut builder = tar::Builder::new(Vec::new());
        // Relative to `/` so the engine creates missing parent directories.
        builder
            .append_data(
                &mut header,
                target.trim_start_matches('/'),
                bytes.as_slice(),
            )
            .and_then(|_| builder.finish())
            .map_err(|e| CoreError::Internal(format!("archive: {e}")))?;
        let tar = builder
            .into_inner()
            .map_err(|e| CoreError::Internal(format!("archive: {e}")))?;
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

    /// The entries of a directory (or the one file) at `path`.
    pub async fn list_files(
        &self,
        actor: &User,
        id: &str,
        path: &str,
    ) -> CoreResult<Vec<FileEntry>> {
        let app = self.app(actor, id, Level::Read).await?;
        let (_, engine_id) = self.running_instance(&app).await?;
        let target = container_path("/", path)?;
        let tar = self
            .runtime
            .get_archive(&engine_id, &target)
            .await
            .map_err(|e| runtime_error(&target, e))?;
        let entries = tar_entries(&tar)?;
        let Some((root, root_header, _)) = entries.first() else {
            return Ok(Vec::new());
        };
        let parent = target.rsplit_once('/').map_or("", |(p, _)| p).to_string();
        let to_entry = |archive_path: &str, h: &tar::Header| FileEntry {
            name: archive_path
                .rsplit('/')
                .next()
                .unwrap_or(archive_path)
                .to_string(),
            path: format!("{parent}/{archive_path}"),
            kind: entry_kind(h),
            size: h.size().unwrap_or(0),
            modified: Timestamp::from_unix_timestamp(h.mtime().unwrap_or(0) as i64)
                .unwrap_or_else(|_| now()),
            permissions: mode_text(h.mode().unwrap_or(0)),
        };
        if !root_header.entry_type().is_dir() {
            return Ok(vec![to_entry(root, root_header)]);
        }
        let depth = root.split('/').count() + 1;
        Ok(entries
            .iter()
            .filter(|(p, _, _)| p.split('/').count() == depth)
            .map(|(p, h, _)| to_entry(p, h))
            .collect())
    }

    /// A file's bytes, or a directory as a tar. Links are refused: their
    /// target could lie anywhere.
    pub async fn download(&self, actor: &User, id: &str, path: &str) -> CoreResult<Download> {
        let app = self.app(actor, id, Level::Read).await?;
        let (_, engine_id) = self.running_instance(&app).await?;
        let target = container_path("/", path)?;
        let tar = self
            .runtime
            .get_archive(&engine_id, &target)
            .await
            .map_err(|e| runtime_error(&target, e))?;
        let mut entries = tar_entries(&tar)?;
        if entries.is_empty() {
            return Err(CoreError::not_found(format!("{target} not found")));
        }
        let (root, header, data) = entries.swap_remove(0);
        let name = root.rsplit('/').next().unwrap_or(&root).to_string();
        match entry_kind(&header) {
            "symlink" => Err(CoreError::Forbidden(format!(
                "{target} is a link; links are not followed"
            ))),
            "dir" => Ok(Download::Directory { name, tar }),
            _ => Ok(Download::File { name, bytes: data }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn modes_as_text() {
        assert_eq!(mode_text(0o755), "rwxr-xr-x");
        assert_eq!(mode_text(0o640), "rw-r-----");
    }
}
