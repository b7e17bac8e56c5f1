//! Tutum's list queries: filters on the listed objects' fields, and
//! `offset`/`limit` paging into the `{meta, objects}` envelope.

use std::collections::HashMap;

use serde_json::Value;

use super::views;

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

/// A list filter: the query parameter, the object field it tests, and
/// whether it matches a prefix of that field rather than all of it.
pub type Filter<'a> = (&'a str, &'a str, bool);

/// The objects that pass `filters`, one page of them as `q` asks, in the
/// list envelope whose links point at `path`.
pub fn filtered_page(
    mut objects: Vec<Value>,
    filters: &[Filter],
    q: &HashMap<String, String>,
    path: &str,
) -> Value {
    objects.retain(|o| matches(o, filters, q));
    let (offset, limit) = paging(q);
    views::list(objects, offset, limit, path)
}

fn paging(q: &HashMap<String, String>) -> (usize, usize) {
    let offset = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let limit = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    (offset, limit)
}

/// Whether a rendered object passes Tutum's list filters.
fn matches(object: &Value, filters: &[Filter], q: &HashMap<String, String>) -> bool {
    filters.iter().all(|(param, field, prefix)| {
        passes(
            q,
            param,
            object[*field].as_str().unwrap_or_default(),
            *prefix,
        )
    })
}

/// Whether `have` passes the query parameter `param`; an absent one passes all.
pub fn passes(q: &HashMap<String, String>, param: &str, have: &str, prefix: bool) -> bool {
    match q.get(param) {
        None => true,
        Some(want) if prefix => have.starts_with(want.as_str()),
        Some(want) => have == want,
    }
}
