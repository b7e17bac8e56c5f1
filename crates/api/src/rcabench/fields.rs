//! Typed reads of RCABench request bodies and queries. A value of the wrong
//! JSON type is a 400 naming the field, never a silent default.

use std::collections::HashMap;

use berth_core::CoreError;
use berth_core::catalog::{
    BuildArgs, CatalogStatus, Label, NewVersion, ParamSpec, RawFilter, RawSort, RepoKind,
};
use serde_json::{Map, Value};

pub type Object = Map<String, Value>;

fn wrong(field: &str, what: &str) -> CoreError {
    CoreError::invalid_field(field, format!("must be {what}"))
}

pub fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Object, CoreError> {
    value.as_object().ok_or_else(|| wrong(field, "an object"))
}

pub fn opt_str(o: &Object, field: &str) -> Result<Option<String>, CoreError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong(field, "a string")),
    }
}

pub fn req_str(o: &Object, field: &str) -> Result<String, CoreError> {
    opt_str(o, field)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| CoreError::invalid_field(field, "is required"))
}

pub fn opt_bool(o: &Object, field: &str) -> Result<Option<bool>, CoreError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong(field, "true or false")),
    }
}

pub fn opt_int(o: &Object, field: &str) -> Result<Option<i64>, CoreError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong(field, "an integer")),
        Some(_) => Err(wrong(field, "an integer")),
    }
}

pub fn kind_code(field: &str, code: i64) -> Result<RepoKind, CoreError> {
    RepoKind::from_code(code)
        .ok_or_else(|| wrong(field, "0 (algorithm), 1 (benchmark) or 2 (pedestal)"))
}

pub fn status_code(field: &str, code: i64) -> Result<CatalogStatus, CoreError> {
    CatalogStatus::from_code(code)
        .ok_or_else(|| wrong(field, "1 (enabled), 0 (disabled) or -1 (deleted)"))
}

/// Every key of `o` must be one of `known`.
pub fn only(o: &Object, known: &[&str]) -> Result<(), CoreError> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(CoreError::invalid_field(
            k,
            format!("unknown field; known fields are {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

/// A scalar as text: filter values and build arguments may be numbers or booleans.
pub fn scalar_text(field: &str, v: &Value) -> Result<String, CoreError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(wrong(field, "a string, number or boolean")),
    }
}

pub fn labels(o: &Object, field: &str) -> Result<Vec<Label>, CoreError> {
    let items = match o.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(wrong(field, "a list of {key, value}")),
    };
    items
        .iter()
        .map(|item| {
            let l = object(item, field)?;
            Ok(Label {
                key: req_str(l, "key")?,
                value: opt_str(l, "value")?.unwrap_or_default(),
            })
        })
        .collect()
}

pub fn params(o: &Object, field: &str) -> Result<Option<Vec<ParamSpec>>, CoreError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Array(_)) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| CoreError::invalid_field(field, e.to_string())),
        Some(_) => Err(wrong(field, "a list of parameters")),
    }
}

pub fn new_version(value: &Value) -> Result<NewVersion, CoreError> {
    let o = object(value, "version")?;
    let helm_config = match o.get("helm_config") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(wrong("helm_config", "an object")),
    };
    Ok(NewVersion {
        name: req_str(o, "name")?,
        image_ref: req_str(o, "image_ref")?,
        command: opt_str(o, "command")?.unwrap_or_default(),
        env_vars: params(o, "env_vars")?,
        github_link: opt_str(o, "github_link")?.unwrap_or_default(),
        helm_config,
    })
}

pub fn filters(o: &Object) -> Result<Vec<RawFilter>, CoreError> {
    let items = match o.get("filters") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(wrong("filters", "a list of {field, operator, value}")),
    };
    items
        .iter()
        .map(|item| {
            let f = object(item, "filters")?;
            only(f, &["field", "operator", "value", "values"])?;
            let (value, mut values) = match f.get("value") {
                None | Some(Value::Null) => (None, Vec::new()),
                Some(Value::Array(list)) => (
                    None,
                    list.iter()
                        .map(|v| scalar_text("filters", v))
                        .collect::<Result<_, _>>()?,
                ),
                Some(v) => (Some(scalar_text("filters", v)?), Vec::new()),
            };
            match f.get("values") {
                None | Some(Value::Null) => {}
                Some(Value::Array(list)) => {
                    for v in list {
                        values.push(scalar_text("filters", v)?);
                    }
                }
                Some(_) => return Err(wrong("filters", "values as a list")),
            }
            Ok(RawFilter {
                field: req_str(f, "field")?,
                operator: req_str(f, "operator")?,
                value,
                values,
            })
        })
        .collect()
}

pub fn sort(o: &Object) -> Result<Vec<RawSort>, CoreError> {
    let items = match o.get("sort") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(wrong("sort", "a list of {field, direction}")),
    };
    items
        .iter()
        .map(|item| {
            let s = object(item, "sort")?;
            only(s, &["field", "direction"])?;
            Ok(RawSort {
                field: req_str(s, "field")?,
                direction: opt_str(s, "direction")?.unwrap_or_else(|| "asc".into()),
            })
        })
        .collect()
}

pub fn build_args(o: &Object) -> Result<BuildArgs, CoreError> {
    match o.get("build_args") {
        None | Some(Value::Null) => Ok(BuildArgs::new()),
        Some(Value::Object(args)) => args
            .iter()
            .map(|(k, v)| Ok((k.clone(), scalar_text("build_args", v)?)))
            .collect(),
        Some(_) => Err(wrong("build_args", "an object")),
    }
}

/// Query parameter readers.
pub struct Query<'a>(pub &'a HashMap<String, String>);

impl Query<'_> {
    fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, CoreError> {
        self.raw(name)
            .map(|v| v.parse().map_err(|_| wrong(name, "an integer")))
            .transpose()
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, CoreError> {
        self.raw(name)
            .map(|v| crate::common::parse_flag(name, v))
            .transpose()
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.raw(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn strict_types() {
        let o = obj(json!({"s": "x", "n": 2, "b": true}));
        assert!(opt_str(&o, "n").is_err());
        assert!(opt_int(&o, "s").is_err());
        assert!(opt_bool(&o, "n").is_err());
        assert_eq!(opt_int(&o, "n").unwrap(), Some(2));
        assert!(req_str(&o, "missing").is_err());
        assert!(only(&o, &["s", "n"]).is_err());
    }

    #[test]
    fn filters_accept_scalars_and_lists() {
        let o = obj(json!({"filters": [
            {"field": "type", "operator": "eq", "value": 1},
            {"field": "name", "operator": "in", "values": ["a", "b"]},
            {"field": "id", "operator": "in", "value": [1, 2]},
        ]}));
        let f = filters(&o).unwrap();
        assert_eq!(f[0].value.as_deref(), Some("1"));
        assert_eq!(f[1].values, vec!["a", "b"]);
        assert_eq!(f[2].values, vec!["1", "2"]);
        assert!(
            filters(&obj(
                json!({"filters": [{"field": "x", "operator": "eq", "evil": 1}]})
            ))
            .is_err()
        );
        assert!(filters(&obj(json!({"filters": "name=x"}))).is_err());
    }

    #[test]
    fn versions_and_labels() {
        let v = new_version(
            &json!({"name": "1.0.0", "image_ref": "busybox", "env_vars": [
                {"key": "FOO", "type": 0, "category": 0, "default_value": "1"}
            ]}),
        )
        .unwrap();
        assert_eq!(v.env_vars.unwrap()[0].key, "FOO");
        assert!(new_version(&json!({"name": "1.0.0"})).is_err());
        assert!(
            new_version(&json!({"name": "1.0.0", "image_ref": "b", "env_vars": [{"key": 1}]}))
                .is_err()
        );
        let l = labels(&obj(json!({"add": [{"key": "k", "value": "v"}]})), "add").unwrap();
        assert_eq!(l[0].value, "v");
    }
}
