//! Checks on what clients write into the catalog: repository names,
//! free text, labels, run-time parameters, links, and page numbers and sizes.

use super::{Label, ParamSpec};
use crate::error::{CoreError, CoreResult};

pub const MAX_REPO_NAME_LEN: usize = 128;
pub const MAX_README_LEN: usize = 256 * 1024;
pub const MAX_COMMAND_LEN: usize = 8 * 1024;
pub const MAX_LABEL_LEN: usize = 256;
/// Page sizes the listing endpoints accept.
pub const LIST_PAGE_SIZES: [i64; 5] = [5, 10, 20, 50, 100];
pub const MAX_SEARCH_PAGE_SIZE: i64 = 1000;

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

#[cfg(test)]
mod tests {
    use super::*;

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
