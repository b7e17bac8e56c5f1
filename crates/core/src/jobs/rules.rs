//! The pure rules of script jobs: which state the engine's view means,
//! which names, images and download paths a request may give, and the
//! archives that go into and come out of a job's container.

use super::{DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_TAG, JOB_DIR};
use crate::archive::{self, Download, EntryKind, LeavesTree, NewEntry};
use crate::error::{CoreError, CoreResult};
use crate::image::{ImageRef, valid_tag};
use crate::model::JobState;
use crate::runtime::EngineState;

const MAX_PATH_LEN: usize = 4096;

pub(super) fn is_final(state: JobState) -> bool {
    matches!(
        state,
        JobState::Completed | JobState::Failed | JobState::Cancelled
    )
}

/// A job's state given what was recorded and what the engine shows of its
/// container (`None`: the container is gone).
pub fn observed_state(recorded: JobState, engine: Option<(EngineState, Option<i64>)>) -> JobState {
    // A stop the user asked for stays a stop, whatever the exit code.
    if recorded == JobState::Cancelled {
        return recorded;
    }
    match engine {
        None if is_final(recorded) => recorded,
        None => JobState::Failed,
        // Created but not started: submission is under way, or was cut off
        // (then the record already says so).
        Some((EngineState::Created | EngineState::Removing, _)) => recorded,
        Some((EngineState::Running | EngineState::Paused | EngineState::Restarting, _)) => {
            JobState::Running
        }
        Some((EngineState::Exited | EngineState::Dead, Some(0))) => JobState::Completed,
        Some((EngineState::Exited | EngineState::Dead, _)) => JobState::Failed,
    }
}

/// A plain file name: no directories, no `.`/`..`, nothing a shell would
/// read as an option, no control characters.
pub fn validate_file_name(field: &str, name: &str) -> CoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with('-')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            field,
            format!("{name:?} is not a plain file name"),
        ))
    }
}

/// `name:tag` from the two request fields, each defaulted and validated.
pub fn image_reference(name: Option<&str>, tag: Option<&str>) -> CoreResult<String> {
    let name = name.filter(|n| !n.is_empty()).unwrap_or(DEFAULT_IMAGE_NAME);
    let tag = tag.filter(|t| !t.is_empty()).unwrap_or(DEFAULT_IMAGE_TAG);
    if !valid_tag(tag) {
        return Err(CoreError::invalid_field(
            "image_tag",
            format!("{tag:?} is not an image tag"),
        ));
    }
    let reference = format!("{name}:{tag}");
    ImageRef::parse(&reference).map_err(|_| {
        CoreError::invalid_field(
            "image_name",
            format!("{name:?} is not an image name (give the tag in image_tag)"),
        )
    })?;
    Ok(reference)
}

/// The absolute path in a job's container that a download asks for:
/// relative paths are under `/job`, `.` and empty parts drop out, and `..`
/// is refused rather than resolved.
pub(super) fn download_path(raw: Option<&str>) -> CoreResult<String> {
    let raw = raw
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(JOB_DIR);
    if raw.len() > MAX_PATH_LEN || raw.contains('\0') {
        return Err(CoreError::invalid_field("path", "not a usable path"));
    }
    archive::absolute_path(JOB_DIR, raw).map_err(|LeavesTree| {
        CoreError::invalid_field("path", "'..' is not allowed in a download path")
    })
}

/// A tar holding the job directory and the script in it, to unpack at `/`.
pub(super) fn script_archive(script_name: &str, script: &[u8]) -> CoreResult<Vec<u8>> {
    archive::write_archive(&[
        NewEntry::Directory {
            path: "job/",
            mode: 0o755,
        },
        NewEntry::File {
            path: &format!("job/{script_name}"),
            mode: 0o755,
            bytes: script,
        },
    ])
    .map_err(|e| CoreError::internal("script archive", e))
}

/// Reads what the engine archived for a path: its first entry says what
/// the path is. Links are refused, since their target is not what was asked.
pub(super) fn read_download(tar: Vec<u8>) -> CoreResult<Download> {
    let root = archive::first_entry(&tar)
        .map_err(|e| CoreError::internal("unreadable archive", e))?
        .ok_or_else(|| CoreError::not_found("the path is empty"))?;
    let name = root.name_or("root");
    match root.kind {
        EntryKind::File => Ok(Download::File {
            name,
            bytes: root.bytes,
        }),
        EntryKind::Directory => Ok(Download::Directory { name, tar }),
        EntryKind::Link => Err(CoreError::Forbidden(format!(
            "{name} is a link; download what it points to by its own path"
        ))),
        EntryKind::Other => Err(CoreError::Forbidden(format!(
            "{name} is not a regular file or a directory"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tests::tar_of;

    #[test]
    fn engine_states_map_to_job_states() {
        use EngineState::*;
        assert_eq!(
            observed_state(JobState::Running, Some((Running, None))),
            JobState::Running
        );
        assert_eq!(
            observed_state(JobState::Running, Some((Exited, Some(0)))),
            JobState::Completed
        );
        assert_eq!(
            observed_state(JobState::Running, Some((Exited, Some(3)))),
            JobState::Failed
        );
        // Marked failed by a restart, but the container kept running.
        assert_eq!(
            observed_state(JobState::Failed, Some((Running, None))),
            JobState::Running
        );
        assert_eq!(
            observed_state(JobState::Cancelled, Some((Exited, Some(0)))),
            JobState::Cancelled
        );
        assert_eq!(
            observed_state(JobState::Pending, Some((Created, None))),
            JobState::Pending
        );
        assert_eq!(observed_state(JobState::Running, None), JobState::Failed);
        assert_eq!(
            observed_state(JobState::Completed, None),
            JobState::Completed
        );
    }

    #[test]
    fn download_paths_are_confined() {
        assert_eq!(download_path(None).unwrap(), "/job");
        assert_eq!(download_path(Some("")).unwrap(), "/job");
        assert_eq!(download_path(Some("out/r.txt")).unwrap(), "/job/out/r.txt");
        assert_eq!(
            download_path(Some("./out//r.txt/")).unwrap(),
            "/job/out/r.txt"
        );
        assert_eq!(
            download_path(Some("/etc/hostname")).unwrap(),
            "/etc/hostname"
        );
        assert_eq!(download_path(Some("/")).unwrap(), "/");
        assert!(download_path(Some("../etc/passwd")).is_err());
        assert!(download_path(Some("/job/../../etc")).is_err());
        assert!(download_path(Some("out/..")).is_err());
        assert!(download_path(Some("a\0b")).is_err());
        assert!(download_path(Some(&"a/".repeat(3000))).is_err());
    }

    #[test]
    fn image_references() {
        assert_eq!(image_reference(None, None).unwrap(), "busybox:latest");
        assert_eq!(
            image_reference(Some("local/busybox"), Some("1.36")).unwrap(),
            "local/busybox:1.36"
        );
        assert_eq!(
            image_reference(Some("localhost:5000/tools"), None).unwrap(),
            "localhost:5000/tools:latest"
        );
        assert!(image_reference(Some("busybox:latest"), None).is_err());
        assert!(image_reference(Some("Busybox"), None).is_err());
        assert!(image_reference(Some("a b"), None).is_err());
        assert!(image_reference(Some("/abs"), None).is_err());
        assert!(image_reference(None, Some("-x")).is_err());
        assert!(image_reference(None, Some("a/b")).is_err());
    }

    #[test]
    fn file_names() {
        assert!(validate_file_name("f", "run.sh").is_ok());
        for bad in ["", ".", "..", "a/b", "../x", "a\nb", "a\\b", "-c"] {
            assert!(validate_file_name("f", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn download_path_errors_say_why() {
        let unusable = CoreError::invalid_field("path", "not a usable path");
        let dot_dot = CoreError::invalid_field("path", "'..' is not allowed in a download path");
        assert_eq!(download_path(Some("  ")).unwrap(), "/job");
        assert_eq!(download_path(Some(" out ")).unwrap(), "/job/out");
        assert_eq!(download_path(Some("a\0b")), Err(unusable.clone()));
        assert_eq!(download_path(Some(&"a".repeat(4097))), Err(unusable));
        assert_eq!(
            download_path(Some(&"a".repeat(4096))).unwrap().len(),
            4096 + 5
        );
        assert_eq!(download_path(Some("../x")), Err(dot_dot.clone()));
        assert_eq!(download_path(Some("/a/../b")), Err(dot_dot));
        assert_eq!(download_path(Some("a\\b")).unwrap(), "/job/a\\b");
        assert_eq!(download_path(Some("...")).unwrap(), "/job/...");
    }

    #[test]
    fn download_refusals_name_the_entry() {
        let root = tar_of(&[("/", tar::EntryType::Directory, b"")]);
        assert!(
            matches!(read_download(root), Ok(Download::Directory { name, .. }) if name == "root")
        );
        let dev = tar_of(&[("null", tar::EntryType::Char, b"")]);
        assert_eq!(
            read_download(dev),
            Err(CoreError::Forbidden(
                "null is not a regular file or a directory".into()
            ))
        );
        let hard = tar_of(&[("hard", tar::EntryType::Link, b"")]);
        assert_eq!(
            read_download(hard),
            Err(CoreError::Forbidden(
                "hard is a link; download what it points to by its own path".into()
            ))
        );
        let sym = tar_of(&[("d/sh/", tar::EntryType::Symlink, b"")]);
        assert_eq!(
            read_download(sym),
            Err(CoreError::Forbidden(
                "sh is a link; download what it points to by its own path".into()
            ))
        );
        assert_eq!(
            read_download(vec![0u8; 1024]),
            Err(CoreError::not_found("the path is empty"))
        );
        assert!(matches!(
            read_download(b"not a tar, not at all, no".repeat(30)),
            Err(CoreError::Internal(m)) if m.to_string().starts_with("unreadable archive: ")
        ));
    }

    #[test]
    fn script_archives_hold_the_job_dir_and_script() {
        let tar = script_archive("run.sh", b"echo hi\n").unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["job/", "job/run.sh"]);
    }

    #[test]
    fn downloads_read_the_first_entry() {
        let file = tar_of(&[("r.txt", tar::EntryType::Regular, b"result\n")]);
        assert_eq!(
            read_download(file).unwrap(),
            Download::File {
                name: "r.txt".into(),
                bytes: b"result\n".to_vec()
            }
        );
        let dir = tar_of(&[
            ("out/", tar::EntryType::Directory, b""),
            ("out/r.txt", tar::EntryType::Regular, b"x"),
        ]);
        assert!(
            matches!(read_download(dir), Ok(Download::Directory { name, .. }) if name == "out")
        );
        let link = tar_of(&[("link", tar::EntryType::Symlink, b"")]);
        assert!(matches!(read_download(link), Err(CoreError::Forbidden(_))));
    }
}
