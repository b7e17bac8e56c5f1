//! Repository search: a client's filters and sort keys compiled into typed
//! conditions over a closed set of fields, or a 400 saying what is wrong.
//! Nothing here is query text; the store turns each condition into its own.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

use crate::error::{CoreError, CoreResult};
use crate::model::catalog::{
    CatalogStatus, Comparison, Condition, Operand, RepoKind, SearchField, SortKey, ValueKind,
};
use crate::model::rfc3339;

pub const MAX_FILTERS: usize = 32;
pub const MAX_FILTER_VALUES: usize = 100;
pub const MAX_SORT_KEYS: usize = 8;

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

/// The condition "name contains `keyword`".
pub fn keyword_condition(keyword: &str) -> Condition {
    Condition {
        field: SearchField::Name,
        comparison: Comparison::Contains,
        operands: vec![Operand::Text(keyword.to_string())],
    }
}

pub fn equals(field: SearchField, value: Operand) -> Condition {
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
    rfc3339(t.to_offset(time::UtcOffset::UTC))
}

fn operand(field: SearchField, raw: &str) -> CoreResult<Operand> {
    let bad = |what: &str| {
        CoreError::invalid_field(
            "filters",
            format!("{}: {raw:?} is not {what}", field.name()),
        )
    };
    let raw = raw.trim();
    Ok(match field.kind() {
        ValueKind::Int => Operand::Int(raw.parse().map_err(|_| bad("an integer"))?),
        ValueKind::Text => Operand::Text(raw.to_string()),
        ValueKind::Bool => Operand::Int(match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => 1,
            "false" | "0" => 0,
            _ => return Err(bad("true or false")),
        }),
        ValueKind::Kind => Operand::Int(
            RepoKind::parse(raw)
                .ok_or_else(|| bad("a container type (algorithm, benchmark, pedestal or 0-2)"))?
                .code(),
        ),
        ValueKind::Status => Operand::Int(
            CatalogStatus::parse(raw)
                .ok_or_else(|| bad("a status (enabled, disabled, deleted or 1, 0, -1)"))?
                .code(),
        ),
        ValueKind::Time => Operand::Text(instant_text(
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
    let one = |comparison: Comparison, value: Operand| Condition {
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
            let cmp = match operator.as_str() {
                "starts" => Comparison::StartsWith,
                "ends" => Comparison::EndsWith,
                "nlike" => Comparison::NotContains,
                _ => Comparison::Contains,
            };
            vec![one(cmp, Operand::Text(single()?))]
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
            let at = |cmp, t| one(cmp, Operand::Text(instant_text(t)));
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
        .filter(|f| *f != SearchField::Readme && !f.of_version())
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
        assert_eq!(c, vec![equals(SearchField::Kind, Operand::Int(1))]);
        let c = compile_filter(&filter("type", "in", Some("0, 2"), &[])).unwrap();
        assert_eq!(c[0].operands, vec![Operand::Int(0), Operand::Int(2)]);
        let c = compile_filter(&filter("status", "nin", None, &["deleted", "0"])).unwrap();
        assert_eq!(c[0].comparison, Comparison::NotIn);
        assert_eq!(c[0].operands, vec![Operand::Int(-1), Operand::Int(0)]);
        let c = compile_filter(&filter("is_public", "eq", Some("true"), &[])).unwrap();
        assert_eq!(c[0].operands, vec![Operand::Int(1)]);
        let c = compile_filter(&filter("name", "like", Some("50%_x"), &[])).unwrap();
        assert_eq!(
            (c[0].comparison, &c[0].operands[..]),
            (Comparison::Contains, &[Operand::Text("50%_x".into())][..])
        );
        let c = compile_filter(&filter("name", "starts", Some("ab"), &[])).unwrap();
        assert_eq!(
            (c[0].comparison, &c[0].operands[..]),
            (Comparison::StartsWith, &[Operand::Text("ab".into())][..])
        );
        let c = compile_filter(&filter("name", "ends", Some("ab"), &[])).unwrap();
        assert_eq!(c[0].comparison, Comparison::EndsWith);
        let c = compile_filter(&filter("name", "nlike", Some("ab"), &[])).unwrap();
        assert_eq!(c[0].comparison, Comparison::NotContains);
        assert_eq!(
            keyword_condition("a_b"),
            Condition {
                field: SearchField::Name,
                comparison: Comparison::Contains,
                operands: vec![Operand::Text("a_b".into())],
            }
        );
        let c = compile_filter(&filter("id", "gte", Some("3"), &[])).unwrap();
        assert_eq!(
            (c[0].comparison, &c[0].operands[..]),
            (Comparison::Gte, &[Operand::Int(3)][..])
        );
        let c = compile_filter(&filter("created_at", "deq", Some("2024-05-01"), &[])).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].operands,
            vec![Operand::Text("2024-05-01T00:00:00Z".into())]
        );
        assert_eq!(
            c[1].operands,
            vec![Operand::Text("2024-05-02T00:00:00Z".into())]
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
            vec![Operand::Text("2024-02-01T08:00:00Z".into())]
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
        for unsortable in ["readme", "image", "tag", "command"] {
            assert!(
                compile_sort(&RawSort {
                    field: unsortable.into(),
                    direction: "asc".into()
                })
                .is_err(),
                "{unsortable}"
            );
        }
    }

    #[test]
    fn version_fields_are_text_fields_of_versions() {
        let c = compile_filter(&filter("image", "like", Some("acme/"), &[])).unwrap();
        assert_eq!(
            (c[0].field, c[0].comparison),
            (SearchField::Image, Comparison::Contains)
        );
        assert!(c[0].field.of_version());
        assert!(!SearchField::Name.of_version());
        let c = compile_filter(&filter("tag", "in", None, &["1.0.0", "latest"])).unwrap();
        assert_eq!(c[0].operands.len(), 2);
        assert!(compile_filter(&filter("command", "deq", Some("2024-01-01"), &[])).is_err());
    }
}
