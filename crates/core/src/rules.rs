//! Pure rules shared by every dialect: naming, limits, config merging.

use std::collections::BTreeMap;

use rand::Rng;
use serde_json::Value;

use crate::error::{CoreError, CoreResult};
use crate::model::ConfigValues;

pub const MAX_ID_LEN: usize = 63;
/// Upper bound on instances of one process type: far beyond one engine's
/// sensible load, low enough that a typo cannot fork-bomb the host.
pub const MAX_SCALE: u32 = 100;
pub const MIN_MEMORY_BYTES: i64 = 6 * 1024 * 1024;
pub const MAX_MEMORY_BYTES: i64 = 1024 * 1024 * 1024 * 1024;
pub const MAX_CPU_SHARES: u32 = 262_144;

/// App ids and process types: `[a-z][a-z0-9-]*`, at most 63 characters.
pub fn validate_app_id(id: &str) -> CoreResult<()> {
    validate_slug("id", id, MAX_ID_LEN)
}

pub fn validate_proc_type(name: &str) -> CoreResult<()> {
    validate_slug("type", name, MAX_ID_LEN)
}

fn validate_slug(field: &str, s: &str, max: usize) -> CoreResult<()> {
    let mut chars = s.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let ok_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok_first || !ok_rest || s.len() > max || s.ends_with('-') {
        return Err(CoreError::invalid_field(
            field,
            format!(
                "'{s}' is not valid: use lowercase letters, digits and hyphens, \
                 starting with a letter, at most {max} characters"
            ),
        ));
    }
    Ok(())
}

const ADJECTIVES: &[&str] = &[
    "amber", "brisk", "calm", "dapper", "eager", "fancy", "gentle", "hollow", "icy", "jolly",
    "keen", "lively", "mellow", "nimble", "opal", "proud", "quiet", "rapid", "sunny", "tidy",
];
const NOUNS: &[&str] = &[
    "anchor", "beacon", "cove", "dock", "eddy", "ferry", "gull", "harbor", "inlet", "jetty",
    "keel", "lagoon", "mast", "oar", "pier", "quay", "reef", "sail", "tide", "wharf",
];

/// A Heroku-style generated app name such as `brisk-harbor`.
pub fn generate_app_id() -> String {
    let mut rng = rand::rng();
    format!(
        "{}-{}",
        ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
        NOUNS[rng.random_range(0..NOUNS.len())]
    )
}

pub fn validate_scale(proc_type: &str, count: i64) -> CoreResult<u32> {
    validate_proc_type(proc_type)?;
    if !(0..=i64::from(MAX_SCALE)).contains(&count) {
        return Err(CoreError::invalid_field(
            proc_type,
            format!("must be between 0 and {MAX_SCALE}"),
        ));
    }
    Ok(count as u32)
}

/// Reads a scale count that may arrive as a number or a numeric string (form bodies).
pub fn scale_count(proc_type: &str, value: &Value) -> CoreResult<u32> {
    let count = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| CoreError::invalid_field(proc_type, "must be an integer"))?;
    validate_scale(proc_type, count)
}

/// A free-form name (a Tutum application name, an image name) as an app id
/// base: lowercase, other characters folded into single hyphens.
pub fn slugify(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base.split(':').next().unwrap_or(base);
    let mut out = String::new();
    for c in base.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_string();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "app-");
    }
    out.truncate(MAX_ID_LEN - 4);
    out.trim_end_matches('-').to_string()
}

/// Splits a command line into argv the way a POSIX shell would for plain
/// words, single and double quotes and backslashes (no expansion). Used
/// where an API takes a command string but Berth runs argv (Tutum).
pub fn split_command_line(line: &str) -> CoreResult<Vec<String>> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => {
                            return Err(CoreError::invalid("unterminated single quote in command"));
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => {
                                return Err(CoreError::invalid(
                                    "unterminated double quote in command",
                                ));
                            }
                        },
                        Some(c) => current.push(c),
                        None => {
                            return Err(CoreError::invalid("unterminated double quote in command"));
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    current.push(c);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        args.push(current);
    }
    Ok(args)
}

/// The inverse of [`split_command_line`], for showing argv as one string.
pub fn join_command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Environment variable names as POSIX shells accept them.
pub fn validate_env_name(name: &str) -> CoreResult<()> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(CoreError::invalid_field(
            "values",
            format!("'{name}' is not a valid environment variable name"),
        ));
    }
    Ok(())
}

/// Parses a Docker-style memory size ("512M", "1g", "1048576") into bytes.
pub fn parse_memory(text: &str) -> CoreResult<i64> {
    let t = text.trim();
    let invalid =
        || CoreError::invalid_field("memory", format!("'{text}' is not a memory size like 512M"));
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let n: i64 = digits.parse().map_err(|_| invalid())?;
    let mult: i64 = match unit.to_ascii_lowercase().trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return Err(invalid()),
    };
    let bytes = n.checked_mul(mult).ok_or_else(invalid)?;
    if !(MIN_MEMORY_BYTES..=MAX_MEMORY_BYTES).contains(&bytes) {
        return Err(CoreError::invalid_field(
            "memory",
            format!("'{text}' is out of range (at least 6M, at most 1024G)"),
        ));
    }
    Ok(bytes)
}

/// A config change as dialects submit it: each section maps keys to a new
/// value or `null` (unset).
#[derive(Debug, Default, Clone)]
pub struct ConfigPatch {
    pub values: BTreeMap<String, Option<String>>,
    pub memory: BTreeMap<String, Option<String>>,
    pub cpu: BTreeMap<String, Option<u32>>,
    pub tags: BTreeMap<String, Option<String>>,
}

impl ConfigPatch {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
            && self.memory.is_empty()
            && self.cpu.is_empty()
            && self.tags.is_empty()
    }
}

fn merge_section<V: Clone>(base: &mut BTreeMap<String, V>, patch: &BTreeMap<String, Option<V>>) {
    for (k, v) in patch {
        match v {
            Some(v) => {
                base.insert(k.clone(), v.clone());
            }
            None => {
                base.remove(k);
            }
        }
    }
}

/// Applies a patch to a config, validating every new entry. Unsetting a key
/// that is not set is an error, as in Deis.
pub fn merge_config(base: &ConfigValues, patch: &ConfigPatch) -> CoreResult<ConfigValues> {
    for (k, v) in &patch.values {
        validate_env_name(k)?;
        if v.is_none() && !base.values.contains_key(k) {
            return Err(CoreError::invalid_field(
                "values",
                format!("{k} does not exist under values"),
            ));
        }
    }
    for (k, v) in &patch.memory {
        validate_proc_type(k)?;
        if let Some(v) = v {
            parse_memory(v)?;
        }
    }
    for (k, v) in &patch.cpu {
        validate_proc_type(k)?;
        if let Some(v) = v
            && (*v < 2 || *v > MAX_CPU_SHARES)
        {
            return Err(CoreError::invalid_field(
                "cpu",
                format!("shares for {k} must be between 2 and {MAX_CPU_SHARES}"),
            ));
        }
    }
    let mut out = base.clone();
    merge_section(&mut out.values, &patch.values);
    merge_section(&mut out.memory, &patch.memory);
    merge_section(&mut out.cpu, &patch.cpu);
    merge_section(&mut out.tags, &patch.tags);
    Ok(out)
}

/// Reads a patch section from JSON: an object, or a string holding a JSON
/// object (the Deis CLI sends `values` JSON-encoded).
pub fn patch_section(
    field: &str,
    value: Option<&Value>,
) -> CoreResult<BTreeMap<String, Option<Value>>> {
    let decoded;
    let obj = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::String(s)) => {
            decoded = serde_json::from_str::<Value>(s)
                .map_err(|e| CoreError::invalid_field(field, format!("not valid JSON: {e}")))?;
            &decoded
        }
        Some(v) => v,
    };
    let map = obj
        .as_object()
        .ok_or_else(|| CoreError::invalid_field(field, "must be an object"))?;
    Ok(map
        .iter()
        .map(|(k, v)| (k.clone(), if v.is_null() { None } else { Some(v.clone()) }))
        .collect())
}

/// Config values are strings; numbers and booleans are taken as their text.
pub fn value_text(field: &str, key: &str, v: &Value) -> CoreResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(CoreError::invalid_field(
            field,
            format!("{key} must be a string"),
        )),
    }
}

pub fn next_release_version(current: i64) -> i64 {
    current + 1
}

/// The release a bare rollback goes back to: the one before the current.
pub fn rollback_target(current: i64, requested: Option<i64>) -> CoreResult<i64> {
    let target = requested.unwrap_or(current - 1);
    if target < 1 || target > current {
        return Err(CoreError::invalid_field(
            "version",
            format!("version cannot be below 1 or above {current}"),
        ));
    }
    Ok(target)
}

/// Restart backoff after `restarts` crashes: 1 s doubling, capped at 60 s.
pub fn restart_backoff_secs(restarts: u32) -> u64 {
    (1u64 << restarts.min(6)).min(60)
}

/// Hostnames for app domains: dot-separated labels of letters, digits and hyphens.
pub fn validate_hostname(domain: &str) -> CoreResult<()> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let labels: Vec<&str> = domain
        .strip_prefix("*.")
        .unwrap_or(domain)
        .split('.')
        .collect();
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Err(CoreError::invalid_field(
            "domain",
            format!("Hostname does not look valid: {domain}"),
        ));
    }
    Ok(())
}

const SSH_KEY_TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Parses an OpenSSH public key line and returns its SHA-256 fingerprint
/// (`SHA256:…`, as `ssh-keygen -l` prints it).
pub fn ssh_key_fingerprint(public: &str) -> CoreResult<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let invalid = |why: &str| {
        CoreError::invalid_field(
            "public",
            format!("Key contains invalid base64 chars or is not an SSH public key: {why}"),
        )
    };
    let mut parts = public.split_whitespace();
    let kind = parts.next().ok_or_else(|| invalid("empty"))?;
    if !SSH_KEY_TYPES.contains(&kind) {
        return Err(invalid("unknown key type"));
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(parts.next().ok_or_else(|| invalid("no key data"))?)
        .map_err(|_| invalid("bad base64"))?;
    // The blob starts with the key type as an SSH string: u32 length, then bytes.
    let len = blob
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let embedded = len.and_then(|n| blob.get(4..4 + n));
    if embedded != Some(kind.as_bytes()) || blob.len() < 4 + kind.len() + 16 {
        return Err(invalid("key data does not match its type"));
    }
    let digest = Sha256::digest(&blob);
    Ok(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    ))
}

/// The Deis default process type for a Docker-image build without a Procfile.
pub const DEFAULT_PROC_TYPE: &str = "cmd";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn app_ids() {
        for ok in ["a", "example-go", "x1", &"a".repeat(63)] {
            assert!(validate_app_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "Abc",
            "a_b",
            "a.b",
            "abc-",
            &"a".repeat(64),
            "ünï",
        ] {
            assert!(validate_app_id(bad).is_err(), "{bad}");
        }
        for _ in 0..50 {
            assert!(validate_app_id(&generate_app_id()).is_ok());
        }
    }

    #[test]
    fn scale_bounds() {
        assert_eq!(scale_count("web", &json!(3)).unwrap(), 3);
        assert_eq!(scale_count("web", &json!("2")).unwrap(), 2);
        assert!(scale_count("web", &json!(-1)).is_err());
        assert!(scale_count("web", &json!(1_000_000_000_000i64)).is_err());
        assert!(scale_count("web", &json!("lots")).is_err());
        assert!(scale_count("Web", &json!(1)).is_err());
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("512M").unwrap(), 512 << 20);
        assert_eq!(parse_memory("1g").unwrap(), 1 << 30);
        assert_eq!(parse_memory("64mb").unwrap(), 64 << 20);
        assert!(parse_memory("1k").is_err());
        assert!(parse_memory("12x").is_err());
        assert!(parse_memory("99999999999999999999G").is_err());
    }

    #[test]
    fn config_merge_sets_and_unsets() {
        let base = ConfigValues::default();
        let mut patch = ConfigPatch::default();
        patch.values.insert("FOO".into(), Some("bar".into()));
        patch.values.insert("N".into(), Some("1".into()));
        let one = merge_config(&base, &patch).unwrap();
        assert_eq!(one.values.len(), 2);

        let mut unset = ConfigPatch::default();
        unset.values.insert("FOO".into(), None);
        let two = merge_config(&one, &unset).unwrap();
        assert_eq!(two.values.keys().collect::<Vec<_>>(), vec!["N"]);
        assert!(
            merge_config(&two, &unset).is_err(),
            "unsetting a missing key"
        );

        let mut bad = ConfigPatch::default();
        bad.values.insert("1BAD".into(), Some("x".into()));
        assert!(merge_config(&base, &bad).is_err());
    }

    #[test]
    fn patch_sections_accept_encoded_strings() {
        let s = json!("{\"FOO\": \"bar\", \"GONE\": null}");
        let p = patch_section("values", Some(&s)).unwrap();
        assert_eq!(p["FOO"], Some(json!("bar")));
        assert_eq!(p["GONE"], None);
        assert!(patch_section("values", Some(&json!("{nope"))).is_err());
        assert!(patch_section("values", Some(&json!([1]))).is_err());
    }

    #[test]
    fn releases_and_rollback() {
        assert_eq!(next_release_version(3), 4);
        assert_eq!(rollback_target(4, None).unwrap(), 3);
        assert_eq!(rollback_target(4, Some(1)).unwrap(), 1);
        assert!(rollback_target(1, None).is_err());
        assert!(rollback_target(4, Some(9)).is_err());
        assert!(rollback_target(4, Some(0)).is_err());
    }

    #[test]
    fn command_lines() {
        let args =
            split_command_line(r#"sh -c "echo 'hi there'; sleep 1" plain\ word ''"#).unwrap();
        assert_eq!(
            args,
            vec!["sh", "-c", "echo 'hi there'; sleep 1", "plain word", ""]
        );
        assert_eq!(split_command_line(&join_command_line(&args)).unwrap(), args);
        assert!(split_command_line("echo 'open").is_err());
        assert!(split_command_line("   ").unwrap().is_empty());
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("tutum/hello-world:latest"), "hello-world");
        assert_eq!(slugify("My App!"), "my-app");
        assert_eq!(slugify("1st"), "app-1st");
        assert_eq!(slugify(""), "app");
        assert!(validate_app_id(&slugify(&"x".repeat(100))).is_ok());
    }

    #[test]
    fn hostnames() {
        assert!(validate_hostname("example.com").is_ok());
        assert!(validate_hostname("*.apps.example.com").is_ok());
        for bad in ["localhost", "-a.com", "a..com", "a b.com", "a_b.com"] {
            assert!(validate_hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ssh_keys() {
        use base64::Engine;
        let mut blob = Vec::new();
        blob.extend_from_slice(&11u32.to_be_bytes());
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(&[7u8; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
        let fp = ssh_key_fingerprint(&format!("ssh-ed25519 {b64} me@host")).unwrap();
        assert!(fp.starts_with("SHA256:"));
        assert!(
            ssh_key_fingerprint(&format!("ssh-rsa {b64}")).is_err(),
            "type mismatch"
        );
        assert!(ssh_key_fingerprint("ssh-rsa AAAA!!").is_err());
        assert!(ssh_key_fingerprint("hello").is_err());
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(restart_backoff_secs(0), 1);
        assert_eq!(restart_backoff_secs(3), 8);
        assert_eq!(restart_backoff_secs(50), 60);
    }
}
