//! `docs/routes.md` lists every route the API serves. This reads the route
//! tables in the source (the `.route`, `.nest` and `.merge` calls of
//! `lib.rs` and of each module it mounts) and the tables on that page, and
//! fails when they name different methods or paths, so a route cannot be
//! added or removed without its documentation. It also checks the page's
//! counts against its rows. axum cannot list a router's routes, hence the
//! source is read as text.

use std::collections::{BTreeMap, BTreeSet};

const ROUTES_DOC: &str = include_str!("../../../../docs/routes.md");
const LIB: &str = include_str!("../../src/lib.rs");

/// Every module `lib.rs` mounts, by the path it names it with, and the
/// source of its `routes()`.
const MODULES: &[(&str, &str)] = &[
    ("common::health", include_str!("../../src/common/health.rs")),
    (
        "common::metrics",
        include_str!("../../src/common/metrics.rs"),
    ),
    (
        "common::openapi",
        include_str!("../../src/common/openapi.rs"),
    ),
    ("deis", include_str!("../../src/deis/mod.rs")),
    ("tutum", include_str!("../../src/tutum/mod.rs")),
    ("rcabench", include_str!("../../src/rcabench/mod.rs")),
    ("tapis", include_str!("../../src/tapis/mod.rs")),
    ("nds", include_str!("../../src/nds/mod.rs")),
    ("console", include_str!("../../src/console/mod.rs")),
];

/// Prefixes that mount the same router as another; the page lists the
/// routes under the second one only.
const ALIASES: &[(&str, &str)] = &[("/pods", "/v3/pods")];

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

/// One method on one path, as the router spells the path.
pub(crate) type Route = (String, String);

/// The text from `open` (a `(` or `{`) to its closing partner, both
/// excluded; string literals are skipped.
fn enclosed(src: &str, open: usize) -> &str {
    let bytes = src.as_bytes();
    let (left, right) = match bytes[open] {
        b'(' => (b'(', b')'),
        b'{' => (b'{', b'}'),
        other => panic!("no bracket at {open}: {}", other as char),
    };
    let mut depth = 0;
    let mut in_string = false;
    let mut i = open;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == left {
            depth += 1;
        } else if b == right {
            depth -= 1;
            if depth == 0 {
                return &src[open + 1..i];
            }
        }
        i += 1;
    }
    panic!("unbalanced bracket at {open}");
}

/// The arguments of every `.name(…)` call in `src`, in order.
fn calls<'a>(src: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(".{name}(");
    src.match_indices(&needle)
        .map(|(at, _)| enclosed(src, at + needle.len() - 1))
        .collect()
}

/// The first string literal in `args`.
fn literal(args: &str) -> &str {
    let start = args.find('"').expect("a string literal") + 1;
    let len = args[start..].find('"').expect("a closed string literal");
    &args[start..start + len]
}

/// The methods a method router such as `get(a).post(b)` answers.
fn methods(args: &str) -> Vec<String> {
    let mut found = Vec::new();
    for method in METHODS {
        let needle = format!("{method}(");
        for (at, _) in args.match_indices(&needle) {
            let before = args[..at].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                found.push(method.to_uppercase());
            }
        }
    }
    assert!(
        !found.is_empty(),
        "no get/post/put/patch/delete in `.route({args})`: teach this test the new form"
    );
    found
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix, path) {
        ("", path) => path.to_string(),
        (prefix, "/") => prefix.to_string(),
        (prefix, path) => format!("{prefix}{path}"),
    }
}

/// The body of `fn name(…) … { … }` in `src`.
fn fn_body<'a>(src: &'a str, name: &str) -> &'a str {
    let start = src
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name}"));
    let open = start + src[start..].find('{').expect("a function body");
    enclosed(src, open)
}

/// `src` without its `//` comments (which may hold `;` or quotes).
fn without_comments(src: &str) -> String {
    let mut out = String::new();
    for line in src.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut end = line.len();
        for (i, c) in line.char_indices() {
            match (in_string, escaped, c) {
                (true, true, _) => escaped = false,
                (true, false, '\\') => escaped = true,
                (true, false, '"') | (false, _, '"') => in_string = !in_string,
                (false, _, '/') if line[i..].starts_with("//") => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&line[..end]);
        out.push('\n');
    }
    out
}

/// The statements of a function body, split at `;` outside brackets and strings.
fn statements(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut from) = (0i32, false, false, 0);
    for (i, c) in body.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth -= 1,
            ';' if depth == 0 => {
                out.push(&body[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(&body[from..]);
    out
}

/// The routes of one router-building function body. Routers bound with
/// `let name = Router::new()…;` count where a later `.nest("/p", name…)`
/// or `.merge(name…)` mounts them; `mounted` gives the routes of a
/// `.nest`/`.merge` argument that is a call such as `deis::routes()`.
fn routes_of(body: &str, mounted: &mut dyn FnMut(&str) -> BTreeSet<Route>) -> BTreeSet<Route> {
    let body = without_comments(body);
    let mut named: BTreeMap<&str, BTreeSet<Route>> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for statement in statements(&body) {
        assert!(
            !statement.contains(".route_service(") && !statement.contains(".nest_service("),
            "a service is mounted: teach this test to read it\n{statement}"
        );
        let own: BTreeSet<Route> = calls(statement, "route")
            .into_iter()
            .flat_map(|args| {
                let path = literal(args).to_string();
                methods(args).into_iter().map(move |m| (m, path.clone()))
            })
            .collect();
        let mut mounts: Vec<(&str, &str)> = calls(statement, "nest")
            .into_iter()
            .map(|args| {
                let (prefix, router) = args.split_once(',').expect("nest(prefix, router)");
                (literal(prefix), router.trim())
            })
            .collect();
        mounts.extend(
            calls(statement, "merge")
                .into_iter()
                .map(|r| ("", r.trim())),
        );
        if let Some(binding) = statement.trim().strip_prefix("let ") {
            let (name, _) = binding.split_once('=').expect("let name = …");
            assert!(
                mounts.is_empty(),
                "a bound router mounts others: {statement}"
            );
            named.insert(name.trim(), own);
            continue;
        }
        out.extend(own);
        for (prefix, router) in mounts {
            let routes = match router.split_once('.') {
                _ if router.ends_with("()") && router.contains("::") => mounted(router),
                Some((name, "clone()")) => named[name].clone(),
                None => named
                    .get(router)
                    .unwrap_or_else(|| panic!("unknown router {router}"))
                    .clone(),
                Some(_) => panic!("cannot read the router `{router}`"),
            };
            out.extend(routes.into_iter().map(|(m, p)| (m, join(prefix, &p))));
        }
    }
    out
}

/// Every route the API serves, each alias under its own prefix.
pub(crate) fn served_as_mounted() -> BTreeSet<Route> {
    let mut unmounted: BTreeSet<&str> = MODULES.iter().map(|(name, _)| *name).collect();
    let module = |call: &str| {
        let name = call
            .strip_suffix("::routes()")
            .unwrap_or_else(|| panic!("cannot read the router `{call}`"));
        let (_, src) = MODULES
            .iter()
            .find(|(known, _)| *known == name)
            .unwrap_or_else(|| panic!("lib.rs mounts `{name}`: add its source to MODULES"));
        routes_of(
            fn_body(src, "routes"),
            &mut |call: &str| -> BTreeSet<Route> {
                panic!("{name} mounts `{call}`: teach this test where its source is")
            },
        )
    };
    let routes = routes_of(fn_body(LIB, "router"), &mut |call: &str| {
        unmounted.remove(call.trim_end_matches("::routes()"));
        module(call)
    });
    assert!(
        unmounted.is_empty(),
        "MODULES names modules lib.rs no longer mounts: {unmounted:?}"
    );
    routes
}

/// Every route the API serves, aliases folded into the spelling the page uses.
fn served() -> BTreeSet<Route> {
    served_as_mounted()
        .into_iter()
        .map(|(method, path)| {
            for (alias, canonical) in ALIASES {
                if let Some(rest) = path.strip_prefix(alias)
                    && (rest.is_empty() || rest.starts_with('/'))
                {
                    return (method, format!("{canonical}{rest}"));
                }
            }
            (method, path)
        })
        .collect()
}

#[derive(Debug, Default, PartialEq)]
struct Counts {
    as_seed: usize,
    differs: usize,
    beyond: usize,
    missing: usize,
}

/// A route row of the page: `| METHOD | `/path` | what | status |`.
struct Row<'a> {
    method: &'a str,
    path: &'a str,
    status: &'a str,
}

fn route_row(line: &str) -> Option<Row<'_>> {
    let cells: Vec<&str> = line.trim().split('|').map(str::trim).collect();
    let path = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
    if !path.starts_with('/') {
        return None;
    }
    assert_eq!(
        cells.len(),
        6,
        "a route row has four cells (method, path, what, status): {line}"
    );
    Some(Row {
        method: cells[1],
        path,
        status: cells[4],
    })
}

/// The page's routes (not those marked missing) and, per `## ` section
/// after "Counts", how many rows have each status.
fn documented() -> (BTreeSet<Route>, Vec<(String, Counts)>) {
    let mut routes = BTreeSet::new();
    let mut sections: Vec<(String, Counts)> = Vec::new();
    for line in ROUTES_DOC.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            if title != "Counts" {
                sections.push((title.to_string(), Counts::default()));
            }
            continue;
        }
        let Some(row) = route_row(line) else { continue };
        assert!(
            METHODS.iter().any(|m| m.to_uppercase() == row.method),
            "one method per row, in capitals: {line}"
        );
        let (_, counts) = sections.last_mut().expect("route rows sit in a section");
        if row.status == "as seed" {
            counts.as_seed += 1;
        } else if row.status.starts_with("as seed, differs: ") {
            counts.differs += 1;
        } else if row.status.starts_with("beyond seed (") {
            counts.beyond += 1;
        } else if row.status.starts_with("missing: ") {
            counts.missing += 1;
            continue;
        } else {
            panic!("unknown status `{}`: {line}", row.status);
        }
        let route = (row.method.to_string(), row.path.to_string());
        assert!(routes.insert(route), "listed twice: {line}");
    }
    (routes, sections)
}

/// The rows of the page's "Counts" table, in order, after its header.
fn counts_table() -> Vec<(String, Counts)> {
    let table = ROUTES_DOC
        .split("## Counts")
        .nth(1)
        .expect("a Counts section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    table
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let n = |i: usize| -> usize {
                cells[i]
                    .parse()
                    .unwrap_or_else(|_| panic!("a count in: {line}"))
            };
            let counts = Counts {
                as_seed: n(3),
                differs: n(4),
                beyond: n(5),
                missing: n(6),
            };
            assert_eq!(
                n(2),
                counts.as_seed + counts.differs + counts.missing,
                "seed routes = as seed + differs + missing: {line}"
            );
            (cells[1].to_string(), counts)
        })
        .collect()
}

#[test]
fn the_route_page_lists_exactly_the_routes_served() {
    let served = served();
    for known in [
        ("GET", "/healthz"),
        ("DELETE", "/v1/apps/{id}"),
        ("GET", "/v3/pods"),
    ] {
        assert!(
            served.contains(&(known.0.to_string(), known.1.to_string())),
            "the source reader lost {known:?}"
        );
    }
    let (documented, _) = documented();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "docs/routes.md is out of step with the router.\n\
         served but not on the page: {undocumented:#?}\n\
         on the page but not served (mark a dropped seed route `missing: why`): {stale:#?}"
    );
}

#[test]
fn the_route_page_counts_match_its_rows() {
    let (_, sections) = documented();
    let table = counts_table();
    assert_eq!(
        table.len(),
        sections.len(),
        "one Counts row per section: {table:?} vs {sections:?}"
    );
    for ((row_name, row), (section, counted)) in table.iter().zip(&sections) {
        assert_eq!(
            row, counted,
            "Counts row `{row_name}` disagrees with the rows of section `{section}`"
        );
    }
}
