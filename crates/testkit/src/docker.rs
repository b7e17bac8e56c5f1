//! The docker CLI on the caller's `DOCKER_HOST`.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the docker CLI and returns its stdout; the error carries stderr.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output();
    stdout_of(args, out)
}

/// [`docker`] without blocking the async runtime, for CLI calls made in parallel.
pub async fn docker_async(args: &[&str]) -> Result<String, String> {
    let out = tokio::process::Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await;
    stdout_of(args, out)
}

fn stdout_of(args: &[&str], out: std::io::Result<Output>) -> Result<String, String> {
    let out = out.map_err(|e| format!("cannot run docker: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`docker {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Ok when an engine answers and has `image`; otherwise which of the two is wrong.
pub fn check_engine(image: &str) -> Result<(), String> {
    docker(&["version", "--format", "{{.Server.Version}}"])
        .map_err(|e| format!("no engine answers: {e}"))?;
    docker(&["image", "inspect", "--format", "{{.Id}}", image])
        .map_err(|e| format!("the engine has no {image}: {e}"))?;
    Ok(())
}

/// Removes every container carrying `label` (`key=value`), then the unused
/// networks carrying it, and returns how many containers went. A create a dead server sent just before it died may land a
/// while later (seconds, on a busy engine), so it stops only after 1.5 s
/// without any, or after 10 s.
pub fn remove_labelled(label: &str) -> usize {
    let filter = format!("label={label}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut removed = 0;
    let mut quiet = 0;
    while quiet < 3 && Instant::now() < deadline {
        let ids = docker(&["ps", "-a", "-q", "--filter", &filter]).unwrap_or_default();
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            quiet += 1;
        } else {
            quiet = 0;
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(&ids);
            match docker(&args) {
                Ok(_) => removed += ids.len(),
                Err(e) => eprintln!("cleanup: {e}"),
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // The owners' networks of those containers go with them.
    if let Err(e) = docker(&["network", "prune", "-f", "--filter", &filter]) {
        eprintln!("cleanup: {e}");
    }
    removed
}

/// The image of the demo HTTP app (`berth-demo-app`, built beside `berth`):
/// the binary and the shared libraries it loads, on top of `busybox:latest`.
/// Made once per process; returns its tag.
pub fn demo_image(binary: &std::path::Path) -> Result<String, String> {
    static IMAGE: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    IMAGE.get_or_init(|| build_demo_image(binary)).clone()
}

const DEMO_IMAGE: &str = "local/berth-demo:latest";

fn build_demo_image(binary: &std::path::Path) -> Result<String, String> {
    let context = std::env::temp_dir().join(format!("berth-demo-{}", uuid::Uuid::new_v4()));
    let rootfs = context.join("rootfs");
    let copy = |from: &std::path::Path, to: &std::path::Path| -> Result<(), String> {
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::copy(from, to)
            .map(|_| ())
            .map_err(|e| format!("cannot copy {}: {e}", from.display()))
    };
    copy(binary, &rootfs.join("usr/local/bin/berth-demo-app"))?;
    let ldd = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| format!("cannot run ldd: {e}"))?;
    // Lines are `name => /path (addr)` or `/path (addr)` for the loader.
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let path = line
            .split("=>")
            .last()
            .and_then(|rest| rest.split_whitespace().next())
            .filter(|p| p.starts_with('/'));
        if let Some(path) = path {
            let from = std::path::Path::new(path);
            copy(from, &rootfs.join(path.trim_start_matches('/')))?;
        }
    }
    std::fs::write(
        context.join("Dockerfile"),
        "FROM busybox:latest\nCOPY rootfs/ /\nEXPOSE 5000\nCMD [\"/usr/local/bin/berth-demo-app\"]\n",
    )
    .map_err(|e| format!("cannot write the Dockerfile: {e}"))?;
    let built = docker(&["build", "-q", "-t", DEMO_IMAGE, &context.to_string_lossy()]);
    let _ = std::fs::remove_dir_all(&context);
    built.map(|_| DEMO_IMAGE.to_string())
}
