//! Docker image references (`[registry/][namespace/]repository[:tag][@digest]`):
//! the one parser of them, and the one place a written `name:tag` is split.
//! Workloads, script jobs, image builds and the catalog all name images so.

use crate::error::{CoreError, CoreResult};

pub const DEFAULT_REGISTRY: &str = "docker.io";
pub const DEFAULT_NAMESPACE: &str = "library";
pub const DEFAULT_TAG: &str = "latest";

/// A Docker image reference split into its parts, defaults filled in:
/// `busybox` is `docker.io` / `library` / `busybox` : `latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: String,
    pub namespace: String,
    pub repository: String,
    pub tag: String,
    pub digest: Option<String>,
}

/// One path component of a repository name: lowercase alphanumerics joined
/// by `.`, `_`, `__` or runs of `-`.
fn valid_path_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    if bytes.is_empty()
        || !bytes[0].is_ascii_alphanumeric()
        || !bytes[bytes.len() - 1].is_ascii_alphanumeric()
    {
        return false;
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b))
    {
        return false;
    }
    c.split(|ch: char| ch.is_ascii_alphanumeric())
        .filter(|sep| !sep.is_empty())
        .all(|sep| sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-'))
}

fn valid_registry(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    name_ok && port_ok
}

pub fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
}

fn valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    !algorithm.is_empty()
        && algorithm
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        && hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

impl ImageRef {
    pub fn parse(text: &str) -> CoreResult<ImageRef> {
        let invalid = |why: &str| {
            CoreError::invalid_field(
                "image_ref",
                format!("{text:?} is not an image reference like busybox:latest ({why})"),
            )
        };
        if text.is_empty() || text.len() > 255 {
            return Err(invalid("empty or longer than 255 characters"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains whitespace or control characters"));
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((rest, digest)) if valid_digest(digest) => (rest, Some(digest.to_string())),
            Some(_) => return Err(invalid("bad digest")),
            None => (text, None),
        };
        let (name, tag) = split_tag(name_and_tag);
        let mut parts: Vec<&str> = name.split('/').collect();
        let registry = if parts.len() > 1
            && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
        {
            let host = parts.remove(0);
            if !valid_registry(host) {
                return Err(invalid("bad registry host"));
            }
            Some(host)
        } else {
            None
        };
        if !parts.iter().all(|p| valid_path_component(p)) {
            return Err(invalid(
                "repository names are lowercase letters, digits and . _ - separators",
            ));
        }
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(invalid("bad tag"));
        }
        let repository = parts.pop().unwrap_or_default().to_string();
        let registry = registry.unwrap_or(DEFAULT_REGISTRY).to_string();
        let mut namespace = parts.join("/");
        if namespace.is_empty() && registry == DEFAULT_REGISTRY {
            namespace = DEFAULT_NAMESPACE.into();
        }
        Ok(ImageRef {
            registry,
            namespace,
            repository,
            tag: tag.unwrap_or(DEFAULT_TAG).to_string(),
            digest,
        })
    }
}

/// Splits a written `name[:tag]` at its tag's colon; a registry port's
/// colon (one before the last `/`) is not a tag's. Nothing is validated.
pub fn split_tag(reference: &str) -> (&str, Option<&str>) {
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (reference, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(r: &ImageRef) -> (&str, &str, &str, &str) {
        (&r.registry, &r.namespace, &r.repository, &r.tag)
    }

    #[test]
    fn image_refs_split_with_defaults() {
        let cases = [
            ("busybox", ("docker.io", "library", "busybox", "latest")),
            ("busybox:1.36", ("docker.io", "library", "busybox", "1.36")),
            (
                "opspai/detector:v2",
                ("docker.io", "opspai", "detector", "v2"),
            ),
            (
                "ghcr.io/org/team/app:1.0.0",
                ("ghcr.io", "org/team", "app", "1.0.0"),
            ),
            (
                "localhost:5000/app",
                ("localhost:5000", "", "app", "latest"),
            ),
            (
                "registry.local:8443/ns/app:t_1",
                ("registry.local:8443", "ns", "app", "t_1"),
            ),
            (
                "local/busybox:latest",
                ("docker.io", "local", "busybox", "latest"),
            ),
            (
                "my-app__x.y",
                ("docker.io", "library", "my-app__x.y", "latest"),
            ),
        ];
        for (text, want) in cases {
            let r = ImageRef::parse(text).unwrap();
            assert_eq!(parts(&r), want, "{text}");
        }
        let digest = format!("busybox@sha256:{}", "a".repeat(64));
        assert_eq!(ImageRef::parse(&digest).unwrap().digest.unwrap().len(), 71);
    }

    #[test]
    fn bad_image_refs() {
        for bad in [
            "",
            "Busybox",
            "busy box",
            "busybox:",
            "busybox:-x",
            "/busybox",
            "busybox/",
            "a//b",
            "bad_-x",
            "-a",
            "a.",
            "busybox@sha256:zz",
            "host:99999/app",
            &format!("a:{}", "t".repeat(129)),
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_split_at_the_last_colon_after_the_last_slash() {
        assert_eq!(split_tag("busybox:latest"), ("busybox", Some("latest")));
        assert_eq!(
            split_tag("localhost:5000/tools:1"),
            ("localhost:5000/tools", Some("1"))
        );
        assert_eq!(
            split_tag("localhost:5000/tools"),
            ("localhost:5000/tools", None)
        );
        assert_eq!(split_tag("busybox"), ("busybox", None));
        assert_eq!(split_tag("busybox:"), ("busybox", Some("")));
    }
}
