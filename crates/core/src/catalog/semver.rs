//! Semantic versions (semver.org 2.0.0): catalog versions are named by
//! them, and an image tag like `v1.2.3` names one.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{CoreError, CoreResult};

/// A semantic version (semver.org 2.0.0), ordered by precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemVer {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Vec<String>,
    pub build: Vec<String>,
}

fn numeric_identifier(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

fn identifiers(s: &str, numeric_without_leading_zero: bool) -> Option<Vec<String>> {
    s.split('.')
        .map(|id| {
            let ok = !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !(numeric_without_leading_zero
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && id.len() > 1
                    && id.starts_with('0'));
            ok.then(|| id.to_string())
        })
        .collect()
}

impl SemVer {
    pub fn parse(text: &str) -> CoreResult<SemVer> {
        let invalid = || {
            CoreError::invalid_field(
                "name",
                format!("{text:?} is not a semantic version (like 1.2.3 or 1.2.3-rc.1)"),
            )
        };
        if text.len() > 128 {
            return Err(invalid());
        }
        let (rest, build) = match text.split_once('+') {
            Some((r, b)) => (r, identifiers(b, false).ok_or_else(invalid)?),
            None => (text, Vec::new()),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, identifiers(p, true).ok_or_else(invalid)?),
            None => (rest, Vec::new()),
        };
        let numbers: Vec<u64> = core
            .split('.')
            .map(numeric_identifier)
            .collect::<Option<_>>()
            .ok_or_else(invalid)?;
        let [major, minor, patch] = numbers[..] else {
            return Err(invalid());
        };
        Ok(SemVer {
            major,
            minor,
            patch,
            pre,
            build,
        })
    }

    /// The version an image tag names, if any: `1.2.3` or `v1.2.3`.
    pub fn from_tag(tag: &str) -> Option<SemVer> {
        SemVer::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
    }

    /// The next patch release after this one (a pre-release's own release).
    pub fn next_patch(&self) -> SemVer {
        SemVer {
            major: self.major,
            minor: self.minor,
            patch: if self.pre.is_empty() {
                self.patch + 1
            } else {
                self.patch
            },
            pre: Vec::new(),
            build: Vec::new(),
        }
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre.join("."))?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build.join("."))?;
        }
        Ok(())
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Precedence per semver.org §11; build metadata only breaks ties so that
/// the order is total.
impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_pre(&self.pre, &other.pre),
            })
            .then_with(|| self.build.cmp(&other.build))
    }
}

fn compare_pre(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_parses_strictly_and_round_trips() {
        for ok in [
            "0.0.0",
            "1.2.3",
            "10.20.30",
            "1.0.0-rc.1",
            "1.0.0-alpha+001",
            "1.0.0+build.7",
        ] {
            assert_eq!(SemVer::parse(ok).unwrap().to_string(), ok, "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "v1.2.3",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3+",
            "a.b.c",
            "1.2.3-a..b",
            " 1.2.3",
        ] {
            assert!(SemVer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn semver_precedence() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
        ];
        let parsed: Vec<SemVer> = order.iter().map(|s| SemVer::parse(s).unwrap()).collect();
        for pair in parsed.windows(2) {
            assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn versions_from_tags_and_next_patch() {
        assert_eq!(SemVer::from_tag("v1.2.3").unwrap().to_string(), "1.2.3");
        assert_eq!(SemVer::from_tag("1.2.3").unwrap().to_string(), "1.2.3");
        assert!(SemVer::from_tag("latest").is_none());
        assert_eq!(
            SemVer::parse("1.2.3").unwrap().next_patch().to_string(),
            "1.2.4"
        );
        assert_eq!(
            SemVer::parse("1.2.3-rc.1")
                .unwrap()
                .next_patch()
                .to_string(),
            "1.2.3"
        );
    }
}
