//! Fetching a build's source: `git clone` into a private work directory and
//! packing the build context as a tar archive. The only catalog code that
//! touches the file system or runs a program, always with an argv (never a
//! shell) and with paths checked to stay inside the checkout.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use tokio::process::Command;

use crate::error::{CoreError, CoreResult};

/// Builds refuse contexts larger than this: the archive is held in memory.
pub const MAX_CONTEXT_BYTES: u64 = 512 * 1024 * 1024;
const MAX_DOCKERFILE_BYTES: u64 = 1024 * 1024;
/// Where a Dockerfile from outside the context goes inside the archive.
const EXTERNAL_DOCKERFILE: &str = ".berth.Dockerfile";

/// A work directory that is removed when dropped, also when the build
/// future is dropped half-way (timeout, cancellation).
pub struct Workdir(PathBuf);

impl Workdir {
    pub fn create(name: &str) -> CoreResult<Workdir> {
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path)
            .map_err(|e| CoreError::internal(&format!("cannot create {}", path.display()), e))?;
        Ok(Workdir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Removes what a process killed mid-build left under `name`.
    pub fn discard(name: &str) {
        let path = std::env::temp_dir().join(name);
        if path.exists()
            && let Err(e) = std::fs::remove_dir_all(&path)
        {
            tracing::warn!(path = %path.display(), error = %e, "could not remove a stale build directory");
        }
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(path = %self.0.display(), error = %e, "could not remove a build directory");
        }
    }
}

/// What to check out; every field was validated by the catalog rules.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub url: String,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub token: Option<String>,
    /// Whether this host's paths, `file://` URLs and redirects may be followed.
    pub allow_local: bool,
    /// `host:port:address` git must connect to for an http(s) URL.
    pub resolve: Option<String>,
}

fn git(allow_local: bool) -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        // Only transports that cannot run commands on this host, and no
        // local files unless the operator allows them.
        .env(
            "GIT_ALLOW_PROTOCOL",
            if allow_local {
                "file:git:http:https"
            } else {
                "git:http:https"
            },
        )
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

async fn run_git(mut cmd: Command, timeout: Duration) -> CoreResult<String> {
    let output = tokio::time::timeout(timeout, cmd.output())
        .await
        .map_err(|_| CoreError::Failed(format!("git timed out after {} s", timeout.as_secs())))?
        .map_err(|e| CoreError::Failed(format!("cannot run git: {e}")))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    if output.status.success() {
        Ok(text)
    } else {
        Err(CoreError::Failed(format!(
            "git failed ({}): {}",
            output.status,
            text.trim()
        )))
    }
}

/// Clones the repository into `dest` (which must not exist yet); returns
/// what git printed.
pub async fn clone(spec: &Checkout, dest: &Path, timeout: Duration) -> CoreResult<String> {
    let mut cmd = git(spec.allow_local);
    if !spec.allow_local {
        // A redirect could lead to an address that was never checked.
        cmd.args(["-c", "http.followRedirects=false"]);
    }
    if let Some(resolve) = &spec.resolve {
        cmd.arg("-c").arg(format!("http.curloptResolve={resolve}"));
    }
    if let Some(token) = &spec.token
        && spec.url.starts_with("https://")
    {
        // Through the environment, so the token never shows in a process list.
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
        cmd.env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "http.extraHeader")
            .env(
                "GIT_CONFIG_VALUE_0",
                format!("Authorization: Basic {basic}"),
            );
    }
    cmd.arg("clone");
    // A shallow clone is enough for a branch tip; a commit needs history,
    // and git ignores depth for plain local paths anyway.
    if spec.commit.is_none() && spec.url.contains("://") {
        cmd.args(["--depth", "1"]);
    }
    if spec.commit.is_none() {
        cmd.arg("--single-branch");
    }
    if let Some(branch) = &spec.branch {
        cmd.args(["--branch", branch]);
    }
    cmd.arg("--").arg(&spec.url).arg(dest);
    let mut out = run_git(cmd, timeout).await?;
    if let Some(commit) = &spec.commit {
        let mut checkout = git(spec.allow_local);
        checkout.arg("-C").arg(dest).args([
            "checkout",
            "--quiet",
            "--detach",
            commit.as_str(),
            "--",
        ]);
        out.push_str(&run_git(checkout, timeout).await?);
    }
    Ok(out)
}

/// `root/relative`, refusing anything that resolves (through symlinks)
/// outside `root`.
fn inside(root: &Path, relative: &str, field: &str) -> CoreResult<PathBuf> {
    let missing = |e: io::Error| CoreError::invalid_field(field, format!("{relative:?}: {e}"));
    let root = root.canonicalize().map_err(missing)?;
    let path = root.join(relative).canonicalize().map_err(missing)?;
    if path.starts_with(&root) {
        Ok(path)
    } else {
        Err(CoreError::invalid_field(
            field,
            format!("{relative:?} leads outside the repository"),
        ))
    }
}

/// The build context as a tar archive, the Dockerfile's path in it and its
/// text (lossily decoded, for the checks made before building).
/// `sub_path`, `context_dir` and `dockerfile` are normalised relative paths;
/// the latter two are relative to `sub_path`.
pub fn pack_context(
    checkout: &Path,
    sub_path: &str,
    context_dir: &str,
    dockerfile: &str,
) -> CoreResult<(Vec<u8>, String, String)> {
    let base_rel = sub_path.to_string();
    let join = |a: &str, b: &str| match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (false, true) => a.to_string(),
        (false, false) => format!("{a}/{b}"),
    };
    let base = inside(checkout, &base_rel, "sub_path")?;
    let context = inside(checkout, &join(&base_rel, context_dir), "context_dir")?;
    if !context.is_dir() {
        return Err(CoreError::invalid_field(
            "context_dir",
            format!("{context_dir:?} is not a directory"),
        ));
    }
    let dockerfile_path = inside(&base, dockerfile, "dockerfile_path")?;
    let meta = std::fs::metadata(&dockerfile_path)
        .map_err(|e| CoreError::invalid_field("dockerfile_path", e.to_string()))?;
    if !meta.is_file() || meta.len() > MAX_DOCKERFILE_BYTES {
        return Err(CoreError::invalid_field(
            "dockerfile_path",
            format!("{dockerfile:?} is not a Dockerfile"),
        ));
    }

    let mut archive = tar::Builder::new(Vec::new());
    // Symlinks go in as links: following them could pack host files.
    archive.follow_symlinks(false);
    archive.mode(tar::HeaderMode::Deterministic);
    let mut budget = MAX_CONTEXT_BYTES;
    add_tree(&mut archive, &context, Path::new(""), &mut budget)
        .map_err(|e| CoreError::Failed(format!("cannot pack the build context: {e}")))?;

    let bytes = std::fs::read(&dockerfile_path)
        .map_err(|e| CoreError::invalid_field("dockerfile_path", e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let in_context = super::build::path_within(context_dir, dockerfile)
        .filter(|rel| std::fs::symlink_metadata(context.join(rel)).is_ok_and(|m| m.is_file()));
    let dockerfile_in_archive = match in_context {
        Some(rel) => rel,
        None => {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            archive
                .append_data(&mut header, EXTERNAL_DOCKERFILE, bytes.as_slice())
                .map_err(|e| CoreError::Failed(format!("cannot pack the Dockerfile: {e}")))?;
            EXTERNAL_DOCKERFILE.to_string()
        }
    };
    let tar = archive
        .into_inner()
        .map_err(|e| CoreError::Failed(format!("cannot pack the build context: {e}")))?;
    Ok((tar, dockerfile_in_archive, text))
}

/// Adds `dir` recursively under `prefix`, skipping `.git` and anything
/// that is not a file, directory or symlink.
fn add_tree(
    archive: &mut tar::Builder<Vec<u8>>,
    dir: &Path,
    prefix: &Path,
    budget: &mut u64,
) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if prefix.as_os_str().is_empty() && name == ".git" {
            continue;
        }
        let path = entry.path();
        let in_archive = prefix.join(&name);
        let meta = std::fs::symlink_metadata(&path)?;
        let kind = meta.file_type();
        if kind.is_dir() {
            archive.append_dir(&in_archive, &path)?;
            add_tree(archive, &path, &in_archive, budget)?;
        } else if kind.is_file() || kind.is_symlink() {
            *budget = budget.checked_sub(meta.len()).ok_or_else(|| {
                io::Error::other(format!(
                    "the build context is larger than {} MiB",
                    MAX_CONTEXT_BYTES >> 20
                ))
            })?;
            archive.append_path_with_name(&path, &in_archive)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Workdir {
        let w = Workdir::create(&format!("berth-source-test-{}", uuid::Uuid::new_v4())).unwrap();
        let root = w.path();
        std::fs::create_dir_all(root.join("app/sub")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "x").unwrap();
        std::fs::write(root.join("Dockerfile"), "FROM busybox:latest\n").unwrap();
        std::fs::write(root.join("app/hello.txt"), "hi").unwrap();
        std::fs::write(root.join("app/sub/Dockerfile"), "FROM busybox:latest\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/passwd", root.join("app/passwd")).unwrap();
        w
    }

    fn names(tar: &[u8]) -> Vec<String> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn packs_the_context_without_git_or_followed_links() {
        let w = tree();
        let (tar, dockerfile, _) = pack_context(w.path(), "", "", "Dockerfile").unwrap();
        assert_eq!(dockerfile, "Dockerfile");
        let n = names(&tar);
        assert!(n.contains(&"app/hello.txt".to_string()), "{n:?}");
        assert!(!n.iter().any(|p| p.starts_with(".git")), "{n:?}");
        let mut a = tar::Archive::new(tar.as_slice());
        let link = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap())
            .find(|e| e.path().unwrap().ends_with("passwd"))
            .unwrap();
        assert!(link.header().entry_type().is_symlink());
    }

    #[test]
    fn dockerfile_outside_the_context_is_added() {
        let w = tree();
        let (tar, dockerfile, _) = pack_context(w.path(), "", "app", "Dockerfile").unwrap();
        assert_eq!(dockerfile, EXTERNAL_DOCKERFILE);
        assert!(names(&tar).contains(&EXTERNAL_DOCKERFILE.to_string()));
        let (_, dockerfile, _) = pack_context(w.path(), "app", "", "sub/Dockerfile").unwrap();
        assert_eq!(dockerfile, "sub/Dockerfile");
    }

    #[test]
    fn paths_must_stay_inside_and_exist() {
        let w = tree();
        assert!(pack_context(w.path(), "app/passwd", "", "Dockerfile").is_err());
        assert!(pack_context(w.path(), "", "missing", "Dockerfile").is_err());
        assert!(pack_context(w.path(), "", "", "Nope").is_err());
        assert!(pack_context(w.path(), "", "", "app").is_err());
    }
}
