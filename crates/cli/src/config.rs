//! The saved login: which server the CLI talks to, and as whom.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedLogin {
    pub url: String,
    pub username: String,
    pub token: String,
}

/// `$BERTH_CONFIG` if set, else `~/.config/berth/config.json`.
pub fn config_path() -> Result<PathBuf> {
    resolve_config_path(std::env::var_os("BERTH_CONFIG"), std::env::var_os("HOME"))
        .context("cannot locate the config file: set BERTH_CONFIG or HOME")
}

fn resolve_config_path(berth_config: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    // An empty variable is what `BERTH_CONFIG= berth ...` gives; treat it as unset, not as "./".
    let non_empty = |value: Option<OsString>| value.filter(|value| !value.is_empty());
    match non_empty(berth_config) {
        Some(explicit) => Some(PathBuf::from(explicit)),
        None => non_empty(home).map(|home| PathBuf::from(home).join(".config/berth/config.json")),
    }
}

/// `None` when nobody has logged in yet.
pub fn load(path: &Path) -> Result<Option<SavedLogin>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    serde_json::from_str(&text)
        .map(Some)
        .with_context(|| format!("{} is not a valid Berth config", path.display()))
}

pub fn save(path: &Path, login: &SavedLogin) -> Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let contents = serde_json::to_vec_pretty(login)?;
    write_private(path, &contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Returns whether there was a saved login to forget.
pub fn remove(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// The file holds a bearer token, so it is created owner-only and an existing file is
/// tightened before the token is written into it.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(value: &str) -> Option<OsString> {
        Some(OsString::from(value))
    }

    #[test]
    fn explicit_config_path_wins_over_home() {
        assert_eq!(
            resolve_config_path(os("/tmp/berth.json"), os("/home/me")),
            Some(PathBuf::from("/tmp/berth.json"))
        );
    }

    #[test]
    fn config_path_defaults_under_home() {
        assert_eq!(
            resolve_config_path(None, os("/home/me")),
            Some(PathBuf::from("/home/me/.config/berth/config.json"))
        );
        assert_eq!(
            resolve_config_path(os(""), os("/home/me")),
            Some(PathBuf::from("/home/me/.config/berth/config.json"))
        );
    }

    #[test]
    fn config_path_needs_somewhere_to_live() {
        assert_eq!(resolve_config_path(None, None), None);
        assert_eq!(resolve_config_path(os(""), os("")), None);
    }

    #[test]
    fn save_load_remove_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dirs/config.json");
        let login = SavedLogin {
            url: "http://localhost:8000".into(),
            username: "alice".into(),
            token: "secret".into(),
        };

        assert_eq!(load(&path).unwrap(), None);
        save(&path, &login).unwrap();
        assert_eq!(load(&path).unwrap(), Some(login));
        assert!(remove(&path).unwrap());
        assert!(!remove(&path).unwrap());
        assert_eq!(load(&path).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn saved_login_is_owner_only_even_if_the_file_existed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, "{}").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

        let login = SavedLogin {
            url: "http://h".into(),
            username: "u".into(),
            token: "t".into(),
        };
        save(&path, &login).unwrap();

        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
