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
