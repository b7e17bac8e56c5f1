//! Pure catalog rules: semantic versions, image references, search filters
//! and sort keys, paths inside a source tree. No I/O; unit-tested here.

use std::cmp::Ordering;
use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

use super::{CatalogStatus, Label, ParamSpec, RepoKind};
use crate::error::{CoreError, CoreResult};

pub const MAX_REPO_NAME_LEN: usize = 128;
pub const MAX_README_LEN: usize = 256 * 1024;
pub const MAX_COMMAND_LEN: usize = 8 * 1024;
pub const MAX_LABEL_LEN: usize = 256;
pub const MAX_FILTERS: usize = 32;
pub const MAX_FILTER_VALUES: usize = 100;
pub const MAX_SORT_KEYS: usize = 8;
/// Page sizes the listing endpoints accept.
pub const LIST_PAGE_SIZES: [i64; 5] = [5, 10, 20, 50, 100];
pub const MAX_SEARCH_PAGE_SIZE: i64 = 1000;

// ------------------------------------------------------------------ semver

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

// --------------------------------------------------------- image references

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
        let last_slash = name_and_tag.rfind('/');
        let (name, tag) = match name_and_tag.rfind(':') {
            Some(i) if last_slash.is_none_or(|j| i > j) => {
                (&name_and_tag[..i], Some(&name_and_tag[i + 1..]))
            }
            _ => (name_and_tag, None),
        };
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

// ------------------------------------------------------------- validation

pub fn validate_repo_name(name: &str) -> CoreResult<()> {
    let ok = !name.trim().is_empty()
        && name.len() <= MAX_REPO_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            "name",
            format!("must be 1 to {MAX_REPO_NAME_LEN} letters, digits and . _ - / : characters"),
        ))
    }
}

pub fn validate_text(field: &str, text: &str, max: usize) -> CoreResult<()> {
    if text.len() > max {
        return Err(CoreError::invalid_field(
            field,
            format!("must be at most {max} bytes"),
        ));
    }
    if text.contains('\0') {
        return Err(CoreError::invalid_field(field, "must not contain NUL"));
    }
    Ok(())
}

pub fn validate_labels(labels: &[Label]) -> CoreResult<()> {
    for l in labels {
        if l.key.trim().is_empty() {
            return Err(CoreError::invalid_field("labels", "a label key is empty"));
        }
        validate_text("labels", &l.key, MAX_LABEL_LEN)?;
        validate_text("labels", &l.value, MAX_LABEL_LEN)?;
    }
    Ok(())
}

pub fn validate_params(params: &[ParamSpec]) -> CoreResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    for p in params {
        if p.key.trim().is_empty() || p.key.len() > 256 {
            return Err(CoreError::invalid_field(
                "env_vars",
                "every parameter needs a key of at most 256 characters",
            ));
        }
        if !(0..=1).contains(&p.kind) || !(0..=1).contains(&p.category) {
            return Err(CoreError::invalid_field(
                "env_vars",
                format!("{}: type and category are 0 or 1", p.key),
            ));
        }
        if p.category == 0 {
            crate::rules::validate_env_name(&p.key).map_err(|_| {
                CoreError::invalid_field(
                    "env_vars",
                    format!("{:?} is not an environment variable name", p.key),
                )
            })?;
        }
        if !seen.insert((p.category, p.key.as_str())) {
            return Err(CoreError::invalid_field(
                "env_vars",
                format!("{} is given twice", p.key),
            ));
        }
    }
    Ok(())
}

pub fn validate_github_link(link: &str) -> CoreResult<()> {
    validate_text("github_link", link, 2048)?;
    if link.chars().any(char::is_whitespace) {
        return Err(CoreError::invalid_field(
            "github_link",
            "must not contain whitespace",
        ));
    }
    Ok(())
}

/// 1-based page and its size as an offset and a limit.
pub fn page_window(page: i64, size: i64) -> (i64, i64) {
    ((page.max(1) - 1).saturating_mul(size), size)
}

pub fn validate_page(page: i64) -> CoreResult<i64> {
    if (1..=1_000_000).contains(&page) {
        Ok(page)
    } else {
        Err(CoreError::invalid_field(
            "page",
            "must be a number from 1 to 1000000",
        ))
    }
}

pub fn validate_list_size(size: i64) -> CoreResult<i64> {
    if LIST_PAGE_SIZES.contains(&size) {
        Ok(size)
    } else {
        Err(CoreError::invalid_field(
            "size",
            format!("must be one of {LIST_PAGE_SIZES:?}"),
        ))
    }
}

pub fn validate_search_size(size: i64) -> CoreResult<i64> {
    if (1..=MAX_SEARCH_PAGE_SIZE).contains(&size) {
        Ok(size)
    } else {
        Err(CoreError::invalid_field(
            "size",
            format!("must be from 1 to {MAX_SEARCH_PAGE_SIZE}"),
        ))
    }
}

/// A relative path inside a source tree: no absolute paths, no `..`.
/// Returns it normalised (`.` and empty components dropped; "" is the root).
pub fn tree_path(field: &str, path: &str) -> CoreResult<String> {
    let bad = |why: &str| CoreError::invalid_field(field, format!("{path:?}: {why}"));
    if path.len() > 1024 || path.contains('\0') || path.contains('\\') {
        return Err(bad("not a plain relative path"));
    }
    if path.starts_with('/') {
        return Err(bad("must be relative to the repository"));
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(bad("must stay inside the repository")),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// An image name to build (`repo` or `namespace/repo`, maybe with a
/// registry), checked by the same grammar as references and without tag.
pub fn validate_build_image_name(name: &str) -> CoreResult<ImageRef> {
    if name.contains('@')
        || name
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
    {
        return Err(CoreError::invalid_field(
            "image_name",
            "give the tag in `tag`, not in the image name",
        ));
    }
    ImageRef::parse(name).map_err(|e| match e {
        CoreError::Invalid { message, .. } => CoreError::invalid_field("image_name", message),
        other => other,
    })
}

// ------------------------------------------------------------- git sources

/// Where `git clone` may fetch from: http(s), git and file URLs, absolute
/// local paths, or `owner/name` meaning that repository on GitHub. Other
/// transports (ssh, `ext::`, which runs commands) are refused.
pub fn git_source(raw: &str) -> CoreResult<String> {
    let bad = |why: &str| CoreError::invalid_field("github_repository", format!("{raw:?}: {why}"));
    let text = raw.trim();
    if text.is_empty() || text.len() > 2048 {
        return Err(bad("a repository is required"));
    }
    if text.starts_with('-') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("not a repository URL or path"));
    }
    if text.contains("::") {
        return Err(bad("remote helpers are not allowed"));
    }
    if let Some((scheme, rest)) = text.split_once("://") {
        return match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" | "git" | "file" if !rest.is_empty() => Ok(text.to_string()),
            _ => Err(bad("use an http, https, git or file URL")),
        };
    }
    if text.starts_with('/') {
        return Ok(text.to_string());
    }
    let is_github_name = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    match text.split_once('/') {
        Some((owner, name)) if is_github_name(owner) && is_github_name(name) => {
            let name = name.strip_suffix(".git").unwrap_or(name);
            Ok(format!("https://github.com/{owner}/{name}.git"))
        }
        _ => Err(bad("use a URL, an absolute path or owner/name")),
    }
}

/// A branch or tag name git would accept, and that cannot pass for an option.
pub fn validate_git_ref(field: &str, name: &str) -> CoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with(".lock")
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"~^:?*[\\".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            field,
            format!("{name:?} is not a branch name"),
        ))
    }
}

/// A commit id: 4 to 64 hexadecimal digits.
pub fn validate_commit(commit: &str) -> CoreResult<()> {
    if (4..=64).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            "github_commit",
            format!("{commit:?} is not a commit id (hexadecimal)"),
        ))
    }
}

/// A Dockerfile build stage name.
pub fn validate_stage(target: &str) -> CoreResult<()> {
    let ok = !target.is_empty()
        && target.len() <= 128
        && target.starts_with(|c: char| c.is_ascii_alphabetic())
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            "target",
            format!("{target:?} is not a build stage name"),
        ))
    }
}

/// The Dockerfile's path relative to the build context, when it lies inside it.
pub fn path_within(context_dir: &str, path: &str) -> Option<String> {
    if context_dir.is_empty() {
        return Some(path.to_string());
    }
    path.strip_prefix(context_dir)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|rest| !rest.is_empty())
        .map(str::to_string)
}

// ---------------------------------------------------------------- search

/// The repository fields a search may filter and sort on; the store maps
/// each to one column, so no user text ever becomes SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    Id,
    Name,
    Kind,
    Status,
    IsPublic,
    Readme,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Int,
    Text,
    Bool,
    Kind,
    Status,
    Time,
}

impl SearchField {
    pub const ALL: [SearchField; 9] = [
        SearchField::Id,
        SearchField::Name,
        SearchField::Kind,
        SearchField::Status,
        SearchField::IsPublic,
        SearchField::Readme,
        SearchField::OwnerId,
        SearchField::CreatedAt,
        SearchField::UpdatedAt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SearchField::Id => "id",
            SearchField::Name => "name",
            SearchField::Kind => "type",
            SearchField::Status => "status",
            SearchField::IsPublic => "is_public",
            SearchField::Readme => "readme",
            SearchField::OwnerId => "user_id",
            SearchField::CreatedAt => "created_at",
            SearchField::UpdatedAt => "updated_at",
        }
    }

    pub fn parse(name: &str) -> Option<SearchField> {
        SearchField::ALL.into_iter().find(|f| f.name() == name)
    }

    fn kind(self) -> ValueKind {
        match self {
            SearchField::Id | SearchField::OwnerId => ValueKind::Int,
            SearchField::Name | SearchField::Readme => ValueKind::Text,
            SearchField::Kind => ValueKind::Kind,
            SearchField::Status => ValueKind::Status,
            SearchField::IsPublic => ValueKind::Bool,
            SearchField::CreatedAt | SearchField::UpdatedAt => ValueKind::Time,
        }
    }

    /// Time fields compare as instants, not as text.
    pub fn is_time(self) -> bool {
        self.kind() == ValueKind::Time
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Int(i64),
    Text(String),
}

/// What the store may put between a column and its operands. `Like` and
/// `NotLike` operands are patterns with `\` as the escape character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    NotLike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: SearchField,
    pub comparison: Comparison,
    pub operands: Vec<SqlValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: SearchField,
    pub descending: bool,
}

/// A filter as the client wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFilter {
    pub field: String,
    pub operator: String,
    pub value: Option<String>,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSort {
    pub field: String,
    pub direction: String,
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The condition "name contains `keyword`".
pub fn keyword_condition(keyword: &str) -> Condition {
    Condition {
        field: SearchField::Name,
        comparison: Comparison::Like,
        operands: vec![SqlValue::Text(format!("%{}%", escape_like(keyword)))],
    }
}

pub fn equals(field: SearchField, value: SqlValue) -> Condition {
    Condition {
        field,
        comparison: Comparison::Eq,
        operands: vec![value],
    }
}

/// An instant from RFC 3339 or a bare `YYYY-MM-DD` (midnight UTC).
fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .ok()
        .map(|d| d.with_time(Time::MIDNIGHT).assume_utc())
}

fn instant_text(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn operand(field: SearchField, raw: &str) -> CoreResult<SqlValue> {
    let bad = |what: &str| {
        CoreError::invalid_field(
            "filters",
            format!("{}: {raw:?} is not {what}", field.name()),
        )
    };
    let raw = raw.trim();
    Ok(match field.kind() {
        ValueKind::Int => SqlValue::Int(raw.parse().map_err(|_| bad("an integer"))?),
        ValueKind::Text => SqlValue::Text(raw.to_string()),
        ValueKind::Bool => SqlValue::Int(match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => 1,
            "false" | "0" => 0,
            _ => return Err(bad("true or false")),
        }),
        ValueKind::Kind => SqlValue::Int(
            RepoKind::parse(raw)
                .ok_or_else(|| bad("a container type (algorithm, benchmark, pedestal or 0-2)"))?
                .code(),
        ),
        ValueKind::Status => SqlValue::Int(
            CatalogStatus::parse(raw)
                .ok_or_else(|| bad("a status (enabled, disabled, deleted or 1, 0, -1)"))?
                .code(),
        ),
        ValueKind::Time => SqlValue::Text(instant_text(
            parse_instant(raw).ok_or_else(|| bad("a date (YYYY-MM-DD or RFC 3339)"))?,
        )),
    })
}

/// The operands of a multi-value operator: `values`, else `value` split on commas.
fn list_operands(filter: &RawFilter) -> Vec<String> {
    if !filter.values.is_empty() {
        return filter.values.clone();
    }
    filter
        .value
        .as_deref()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default()
}

/// Turns a client's filter into store conditions, or a 400 naming what is
/// wrong: an unknown field or operator, a value of the wrong type.
pub fn compile_filter(filter: &RawFilter) -> CoreResult<Vec<Condition>> {
    let field = SearchField::parse(filter.field.trim()).ok_or_else(|| {
        CoreError::invalid_field(
            "filters",
            format!(
                "unknown field {:?}; fields are {}",
                filter.field,
                SearchField::ALL.map(SearchField::name).join(", ")
            ),
        )
    })?;
    let operator = filter.operator.trim().to_ascii_lowercase();
    let kind = field.kind();
    let refuse = || {
        CoreError::invalid_field(
            "filters",
            format!(
                "operator {:?} does not apply to {}",
                filter.operator,
                field.name()
            ),
        )
    };
    let single = || -> CoreResult<String> {
        filter.value.clone().ok_or_else(|| {
            CoreError::invalid_field(
                "filters",
                format!("{} {operator}: a value is required", field.name()),
            )
        })
    };
    let one = |comparison: Comparison, value: SqlValue| Condition {
        field,
        comparison,
        operands: vec![value],
    };
    let conditions = match operator.as_str() {
        "eq" | "ne" => {
            let cmp = if operator == "eq" {
                Comparison::Eq
            } else {
                Comparison::Ne
            };
            vec![one(cmp, operand(field, &single()?)?)]
        }
        "gt" | "gte" | "lt" | "lte" => {
            if kind == ValueKind::Bool || kind == ValueKind::Kind {
                return Err(refuse());
            }
            let cmp = match operator.as_str() {
                "gt" => Comparison::Gt,
                "gte" => Comparison::Gte,
                "lt" => Comparison::Lt,
                _ => Comparison::Lte,
            };
            vec![one(cmp, operand(field, &single()?)?)]
        }
        "like" | "starts" | "ends" | "nlike" => {
            if kind != ValueKind::Text {
                return Err(refuse());
            }
            let text = escape_like(&single()?);
            let pattern = match operator.as_str() {
                "starts" => format!("{text}%"),
                "ends" => format!("%{text}"),
                _ => format!("%{text}%"),
            };
            let cmp = if operator == "nlike" {
                Comparison::NotLike
            } else {
                Comparison::Like
            };
            vec![one(cmp, SqlValue::Text(pattern))]
        }
        "in" | "nin" => {
            let raw = list_operands(filter);
            if raw.is_empty() || raw.len() > MAX_FILTER_VALUES {
                return Err(CoreError::invalid_field(
                    "filters",
                    format!(
                        "{} {operator}: give 1 to {MAX_FILTER_VALUES} values",
                        field.name()
                    ),
                ));
            }
            let operands = raw
                .iter()
                .map(|v| operand(field, v))
                .collect::<CoreResult<Vec<_>>>()?;
            vec![Condition {
                field,
                comparison: if operator == "in" {
                    Comparison::In
                } else {
                    Comparison::NotIn
                },
                operands,
            }]
        }
        "null" | "nnull" => vec![Condition {
            field,
            comparison: if operator == "null" {
                Comparison::IsNull
            } else {
                Comparison::IsNotNull
            },
            operands: Vec::new(),
        }],
        "deq" | "dafter" | "dbefore" | "dbetween" => {
            if kind != ValueKind::Time {
                return Err(refuse());
            }
            let instant = |raw: &str| {
                parse_instant(raw.trim()).ok_or_else(|| {
                    CoreError::invalid_field(
                        "filters",
                        format!("{}: {raw:?} is not a date", field.name()),
                    )
                })
            };
            let at = |cmp, t| one(cmp, SqlValue::Text(instant_text(t)));
            match operator.as_str() {
                "deq" => {
                    let day = instant(&single()?)?.date();
                    let start = day.with_time(Time::MIDNIGHT).assume_utc();
                    vec![
                        at(Comparison::Gte, start),
                        at(Comparison::Lt, start + time::Duration::DAY),
                    ]
                }
                "dafter" => vec![at(Comparison::Gt, instant(&single()?)?)],
                "dbefore" => vec![at(Comparison::Lt, instant(&single()?)?)],
                _ => {
                    let bounds = list_operands(filter);
                    let [from, to] = &bounds[..] else {
                        return Err(CoreError::invalid_field(
                            "filters",
                            format!("{} dbetween: give two dates", field.name()),
                        ));
                    };
                    vec![
                        at(Comparison::Gte, instant(from)?),
                        at(Comparison::Lte, instant(to)?),
                    ]
                }
            }
        }
        _ => {
            return Err(CoreError::invalid_field(
                "filters",
                format!(
                    "unknown operator {:?}; operators are eq ne gt gte lt lte like starts ends nlike in nin null nnull deq dafter dbefore dbetween",
                    filter.operator
                ),
            ));
        }
    };
    Ok(conditions)
}

pub fn compile_sort(sort: &RawSort) -> CoreResult<SortKey> {
    let field = SearchField::parse(sort.field.trim())
        .filter(|f| *f != SearchField::Readme)
        .ok_or_else(|| {
            CoreError::invalid_field("sort", format!("cannot sort by {:?}", sort.field))
        })?;
    let descending = match sort.direction.trim().to_ascii_lowercase().as_str() {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(CoreError::invalid_field(
                "sort",
                format!("direction {:?} is neither asc nor desc", sort.direction),
            ));
        }
    };
    Ok(SortKey { field, descending })
}

/// Whether any condition restricts the status, in which case the caller
/// chose which statuses to see (deleted ones included).
pub fn mentions_status(conditions: &[Condition]) -> bool {
    conditions.iter().any(|c| c.field == SearchField::Status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_sources() {
        assert_eq!(git_source("/tmp/repo").unwrap(), "/tmp/repo");
        assert_eq!(git_source("file:///tmp/repo").unwrap(), "file:///tmp/repo");
        assert_eq!(
            git_source("https://example.com/a/b.git").unwrap(),
            "https://example.com/a/b.git"
        );
        assert_eq!(
            git_source("owner/name").unwrap(),
            "https://github.com/owner/name.git"
        );
        assert_eq!(
            git_source("owner/name.git").unwrap(),
            "https://github.com/owner/name.git"
        );
        for bad in [
            "",
            "-uhelp",
            "ext::sh -c touch% /tmp/x",
            "ssh://host/repo",
            "git@github.com:a/b",
            "relative/dir/x",
            "../up",
            "a b/c",
            "ftp://x/y",
            "https://",
        ] {
            assert!(git_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn git_refs_commits_and_stages() {
        assert!(validate_git_ref("b", "main").is_ok());
        assert!(validate_git_ref("b", "release/1.2").is_ok());
        for bad in ["", "-f", "a..b", "a b", "x.lock", "a:b", "/x", "x/"] {
            assert!(validate_git_ref("b", bad).is_err(), "{bad}");
        }
        assert!(validate_commit("abc1234").is_ok());
        assert!(validate_commit("xyz").is_err());
        assert!(validate_commit("--help").is_err());
        assert!(validate_stage("builder").is_ok());
        assert!(validate_stage("-x").is_err());
    }

    #[test]
    fn dockerfile_within_context() {
        assert_eq!(path_within("", "Dockerfile").as_deref(), Some("Dockerfile"));
        assert_eq!(
            path_within("app", "app/Dockerfile").as_deref(),
            Some("Dockerfile")
        );
        assert_eq!(path_within("app", "Dockerfile"), None);
        assert_eq!(path_within("app", "apple/Dockerfile"), None);
    }

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
    fn build_image_names_have_no_tag() {
        assert!(validate_build_image_name("berth/hello").is_ok());
        assert!(validate_build_image_name("localhost:5000/hello").is_ok());
        assert!(validate_build_image_name("hello:1.0").is_err());
        assert!(validate_build_image_name("Hello").is_err());
    }

    #[test]
    fn tree_paths_stay_inside() {
        assert_eq!(tree_path("p", ".").unwrap(), "");
        assert_eq!(tree_path("p", "").unwrap(), "");
        assert_eq!(tree_path("p", "./a//b/./").unwrap(), "a/b");
        assert!(tree_path("p", "../x").is_err());
        assert!(tree_path("p", "a/../../x").is_err());
        assert!(tree_path("p", "/etc").is_err());
        assert!(tree_path("p", "a\\b").is_err());
    }

    fn filter(field: &str, operator: &str, value: Option<&str>, values: &[&str]) -> RawFilter {
        RawFilter {
            field: field.into(),
            operator: operator.into(),
            value: value.map(str::to_string),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn filters_compile_to_typed_conditions() {
        let c = compile_filter(&filter("type", "eq", Some("benchmark"), &[])).unwrap();
        assert_eq!(c, vec![equals(SearchField::Kind, SqlValue::Int(1))]);
        let c = compile_filter(&filter("type", "in", Some("0, 2"), &[])).unwrap();
        assert_eq!(c[0].operands, vec![SqlValue::Int(0), SqlValue::Int(2)]);
        let c = compile_filter(&filter("status", "nin", None, &["deleted", "0"])).unwrap();
        assert_eq!(c[0].comparison, Comparison::NotIn);
        assert_eq!(c[0].operands, vec![SqlValue::Int(-1), SqlValue::Int(0)]);
        let c = compile_filter(&filter("is_public", "eq", Some("true"), &[])).unwrap();
        assert_eq!(c[0].operands, vec![SqlValue::Int(1)]);
        let c = compile_filter(&filter("name", "like", Some("50%_x"), &[])).unwrap();
        assert_eq!(c[0].operands, vec![SqlValue::Text("%50\\%\\_x%".into())]);
        let c = compile_filter(&filter("name", "starts", Some("ab"), &[])).unwrap();
        assert_eq!(c[0].operands, vec![SqlValue::Text("ab%".into())]);
        let c = compile_filter(&filter("id", "gte", Some("3"), &[])).unwrap();
        assert_eq!(
            (c[0].comparison, &c[0].operands[..]),
            (Comparison::Gte, &[SqlValue::Int(3)][..])
        );
        let c = compile_filter(&filter("created_at", "deq", Some("2024-05-01"), &[])).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].operands,
            vec![SqlValue::Text("2024-05-01T00:00:00Z".into())]
        );
        assert_eq!(
            c[1].operands,
            vec![SqlValue::Text("2024-05-02T00:00:00Z".into())]
        );
        let c = compile_filter(&filter(
            "updated_at",
            "dbetween",
            None,
            &["2024-01-01", "2024-02-01T10:00:00+02:00"],
        ))
        .unwrap();
        assert_eq!(
            c[1].operands,
            vec![SqlValue::Text("2024-02-01T08:00:00Z".into())]
        );
        assert_eq!(
            compile_filter(&filter("readme", "null", None, &[])).unwrap()[0].comparison,
            Comparison::IsNull
        );
    }

    #[test]
    fn bad_filters_are_refused() {
        let bad = [
            filter("password", "eq", Some("x"), &[]),
            filter("name; DROP TABLE users", "eq", Some("x"), &[]),
            filter("name", "regex", Some("x"), &[]),
            filter("name", "eq", None, &[]),
            filter("id", "eq", Some("one"), &[]),
            filter("type", "eq", Some("database"), &[]),
            filter("type", "gt", Some("1"), &[]),
            filter("is_public", "eq", Some("maybe"), &[]),
            filter("id", "like", Some("1"), &[]),
            filter("name", "deq", Some("2024-01-01"), &[]),
            filter("created_at", "gt", Some("yesterday"), &[]),
            filter("created_at", "dbetween", Some("2024-01-01"), &[]),
            filter("id", "in", None, &[]),
        ];
        for f in bad {
            assert!(
                matches!(compile_filter(&f), Err(CoreError::Invalid { .. })),
                "{f:?}"
            );
        }
    }

    #[test]
    fn sort_keys() {
        let s = compile_sort(&RawSort {
            field: "name".into(),
            direction: "DESC".into(),
        })
        .unwrap();
        assert_eq!(
            s,
            SortKey {
                field: SearchField::Name,
                descending: true
            }
        );
        assert!(
            compile_sort(&RawSort {
                field: "name".into(),
                direction: "up".into()
            })
            .is_err()
        );
        assert!(
            compile_sort(&RawSort {
                field: "secret".into(),
                direction: "asc".into()
            })
            .is_err()
        );
        assert!(
            compile_sort(&RawSort {
                field: "readme".into(),
                direction: "asc".into()
            })
            .is_err()
        );
    }

    #[test]
    fn pages() {
        assert_eq!(page_window(1, 20), (0, 20));
        assert_eq!(page_window(3, 10), (20, 10));
        assert!(validate_list_size(20).is_ok());
        assert!(validate_list_size(7).is_err());
        assert!(validate_search_size(1000).is_ok());
        assert!(validate_search_size(0).is_err());
        assert!(validate_page(0).is_err());
    }

    #[test]
    fn params_and_labels() {
        let p = |key: &str, category| ParamSpec {
            key: key.into(),
            kind: 0,
            category,
            default_value: None,
            description: None,
            required: false,
            template_string: None,
        };
        assert!(validate_params(&[p("FOO", 0), p("a.b", 1)]).is_ok());
        assert!(validate_params(&[p("FOO", 0), p("FOO", 0)]).is_err());
        assert!(validate_params(&[p("not valid", 0)]).is_err());
        assert!(validate_params(&[p("X", 5)]).is_err());
        assert!(
            validate_labels(&[Label {
                key: "".into(),
                value: "v".into()
            }])
            .is_err()
        );
        assert!(
            validate_labels(&[Label {
                key: "k".into(),
                value: "v".into()
            }])
            .is_ok()
        );
        assert!(validate_repo_name("my-algo").is_ok());
        assert!(validate_repo_name("bad name").is_err());
    }
}
