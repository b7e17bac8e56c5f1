//! Tutum's list queries: filters on the listed objects' fields, and
//! `offset`/`limit` paging into the `{meta, objects}` envelope.

use std::collections::HashMap;

use super::views::{self, ListMeta};

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

/// A list filter: the query parameter, the object field it tests, and
/// whether it matches a prefix of that field rather than all of it.
pub type Filter<'a, T> = (&'a str, fn(&T) -> String, bool);

/// The objects that pass `filters`, one page of them as `q` asks, with the
/// paging links pointing at `path`.
pub fn filtered_page<T>(
    mut objects: Vec<T>,
    filters: &[Filter<T>],
    q: &HashMap<String, String>,
    path: &str,
) -> (ListMeta, Vec<T>) {
    objects.retain(|o| {
        filters
            .iter()
            .all(|(param, field, prefix)| passes(q, param, &field(o), *prefix))
    });
    let (offset, limit) = paging(q);
    views::page(objects, offset, limit, path)
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

/// Whether `have` passes the query parameter `param`; an absent one passes all.
pub fn passes(q: &HashMap<String, String>, param: &str, have: &str, prefix: bool) -> bool {
    match q.get(param) {
        None => true,
        Some(want) if prefix => have.starts_with(want.as_str()),
        Some(want) => have == want,
    }
}
