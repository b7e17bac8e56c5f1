//! Repository searches as SQL, built with [`QueryBuilder`]: columns come
//! from a fixed mapping of core's [`SearchField`]s, every value is a bound
//! parameter, and text searches are `LIKE` patterns in which the searched
//! text's own wildcards are escaped. Conditions on version fields go
//! together into one `EXISTS` over the repository's live versions.

use berth_core::catalog::{Comparison, Condition, Operand, RepoQuery, SearchField};
use sqlx::{QueryBuilder, Sqlite};

/// The one column each search field reads.
pub(super) fn column(field: SearchField) -> &'static str {
    match field {
        SearchField::Id => "r.id",
        SearchField::Name => "r.name",
        SearchField::Kind => "r.kind",
        SearchField::Status => "r.status",
        SearchField::IsPublic => "r.is_public",
        SearchField::Readme => "r.readme",
        SearchField::OwnerId => "r.owner_id",
        SearchField::CreatedAt => "r.created",
        SearchField::UpdatedAt => "r.updated",
        SearchField::Image => "(v.registry || '/' || v.namespace || '/' || v.repository)",
        SearchField::Tag => "v.tag",
        SearchField::Command => "v.command",
    }
}

/// `text` with LIKE's wildcards and its escape character escaped by `\`.
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

/// The LIKE pattern of a text comparison; `None` for the others.
fn like_pattern(comparison: Comparison, operand: &Operand) -> Option<String> {
    let Operand::Text(text) = operand else {
        return None;
    };
    let text = escape_like(text);
    match comparison {
        Comparison::Contains | Comparison::NotContains => Some(format!("%{text}%")),
        Comparison::StartsWith => Some(format!("{text}%")),
        Comparison::EndsWith => Some(format!("%{text}")),
        _ => None,
    }
}

/// Times are compared as instants: the stored text and the operand may
/// differ in fractional seconds.
fn push_operand(qb: &mut QueryBuilder<'_, Sqlite>, value: &Operand, time: bool) {
    if time {
        qb.push("julianday(");
    }
    match value {
        Operand::Int(n) => qb.push_bind(*n),
        Operand::Text(s) => qb.push_bind(s.clone()),
    };
    if time {
        qb.push(")");
    }
}

fn push_condition(qb: &mut QueryBuilder<'_, Sqlite>, c: &Condition) {
    let col = column(c.field);
    let time = c.field.is_time();
    let lhs = if time {
        format!("julianday({col})")
    } else {
        col.to_string()
    };
    let operator = match c.comparison {
        Comparison::IsNull => {
            qb.push(format!("{col} IS NULL"));
            return;
        }
        Comparison::IsNotNull => {
            qb.push(format!("{col} IS NOT NULL"));
            return;
        }
        Comparison::In | Comparison::NotIn => {
            if c.operands.is_empty() {
                qb.push(if c.comparison == Comparison::In {
                    "0"
                } else {
                    "1"
                });
                return;
            }
            qb.push(lhs);
            qb.push(if c.comparison == Comparison::In {
                " IN ("
            } else {
                " NOT IN ("
            });
            for (i, v) in c.operands.iter().enumerate() {
                if i > 0 {
                    qb.push(", ");
                }
                push_operand(qb, v, time);
            }
            qb.push(")");
            return;
        }
        Comparison::Contains | Comparison::StartsWith | Comparison::EndsWith => " LIKE ",
        Comparison::NotContains => " NOT LIKE ",
        Comparison::Eq => " = ",
        Comparison::Ne => " <> ",
        Comparison::Gt => " > ",
        Comparison::Gte => " >= ",
        Comparison::Lt => " < ",
        Comparison::Lte => " <= ",
    };
    let Some(value) = c.operands.first() else {
        qb.push("0");
        return;
    };
    qb.push(lhs);
    qb.push(operator);
    match like_pattern(c.comparison, value) {
        Some(pattern) => {
            qb.push_bind(pattern);
            qb.push(" ESCAPE '\\'");
        }
        None => push_operand(qb, value, time),
    }
}

pub(super) fn push_where(qb: &mut QueryBuilder<'_, Sqlite>, q: &RepoQuery) {
    qb.push(" WHERE 1 = 1");
    if !q.include_deleted {
        qb.push(" AND r.status <> -1");
    }
    if let Some(user) = q.visible_to {
        qb.push(" AND (r.is_public = 1 OR r.owner_id = ");
        qb.push_bind(user);
        qb.push(")");
    }
    let (of_versions, of_repo): (Vec<&Condition>, Vec<&Condition>) =
        q.conditions.iter().partition(|c| c.field.of_version());
    for c in of_repo {
        qb.push(" AND ");
        push_condition(qb, c);
    }
    if !of_versions.is_empty() {
        qb.push(
            " AND EXISTS (SELECT 1 FROM image_versions v WHERE v.repo_id = r.id AND v.status <> -1",
        );
        for c in of_versions {
            qb.push(" AND ");
            push_condition(qb, c);
        }
        qb.push(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_searches_are_like_patterns_with_escaped_wildcards() {
        let text = Operand::Text("50%_x\\".into());
        assert_eq!(
            like_pattern(Comparison::Contains, &text).as_deref(),
            Some("%50\\%\\_x\\\\%")
        );
        assert_eq!(
            like_pattern(Comparison::NotContains, &text).as_deref(),
            Some("%50\\%\\_x\\\\%")
        );
        let ab = Operand::Text("ab".into());
        assert_eq!(
            like_pattern(Comparison::StartsWith, &ab).as_deref(),
            Some("ab%")
        );
        assert_eq!(
            like_pattern(Comparison::EndsWith, &ab).as_deref(),
            Some("%ab")
        );
        assert_eq!(like_pattern(Comparison::Eq, &ab), None);
    }
}
