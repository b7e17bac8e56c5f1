//! An app's config: `/v1/apps/{id}/config`; each change makes a release.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use berth_core::CoreError;
use berth_core::rules::{self, ConfigPatch};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::views::ConfigView;
use super::{Body, Caller, views};
use crate::AppState;

/// A config change: `POST /v1/apps/{id}/config`. Each section is an object
/// (or that object as a JSON-encoded string) whose `null` entries unset keys;
/// sections left out stay as they are.
#[derive(ToSchema)]
#[schema(as = deis::ConfigChange)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct ConfigChange {
    /// Environment variables, `{NAME: value}`.
    values: Option<Value>,
    /// Memory limits by process type, `{web: "64M"}`.
    memory: Option<Value>,
    /// CPU shares by process type, `{web: 512}`.
    cpu: Option<Value>,
    /// Node labels to place the app's containers by.
    tags: Option<Value>,
}

/// The app's current config.
#[utoipa::path(get, path = "/v1/apps/{id}/config", tag = "deis", operation_id = "deis_config_get",
    params(("id" = String, Path, description = "The app's name")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The config", body = ConfigView),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn config(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<ConfigView>> {
    Ok(Json(views::config(&s.berth.config(&user, &id).await?)))
}

/// One section whose entries are texts, `null` unsetting a key.
fn text_section(
    obj: &serde_json::Map<String, Value>,
    section: &str,
) -> Result<BTreeMap<String, Option<String>>, CoreError> {
    rules::patch_section(section, obj.get(section))?
        .into_iter()
        .map(|(k, v)| {
            let text = v.map(|v| rules::value_text(section, &k, &v)).transpose()?;
            Ok((k, text))
        })
        .collect()
}

/// Reads `values`, `memory`, `cpu` and `tags`: each an object or a
/// JSON-encoded string of one, `null` unsetting a key.
fn config_patch(body: &Body) -> Result<ConfigPatch, CoreError> {
    let obj = body.object()?;
    let values = text_section(obj, "values")?;
    let memory = text_section(obj, "memory")?;
    let mut cpu = BTreeMap::new();
    for (k, v) in rules::patch_section("cpu", obj.get("cpu"))? {
        let shares = v
            .map(|v| {
                match &v {
                    Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    CoreError::invalid_field("cpu", format!("{k} must be a number of CPU shares"))
                })
            })
            .transpose()?;
        cpu.insert(k, shares);
    }
    Ok(ConfigPatch {
        values,
        memory,
        cpu,
        tags: text_section(obj, "tags")?,
    })
}

/// Sets and unsets config; the change makes a release.
#[utoipa::path(post, path = "/v1/apps/{id}/config", tag = "deis", operation_id = "deis_config_set",
    params(("id" = String, Path, description = "The app's name")),
    request_body(content(
        (ConfigChange = "application/json"),
        (ConfigChange = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The new config, with the `DEIS_APP` and `DEIS_RELEASE` every container gets",
            body = ConfigView,
            headers(
                ("Deis-Release" = i64, description = "The new release's version"),
                ("X-Deis-Release" = i64, description = "The same, as older clients read it"))),
        (status = 400, description = "A section or value is invalid, or the new release could not run (the app is back on the previous one)", body = ErrorBody),
        (status = 403, description = "The caller may not change the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
pub async fn set_config(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<Response> {
    let patch = config_patch(&body)?;
    let (config, release) = s.berth.set_config(&user, &id, &patch).await?;
    Ok(views::release_created(
        views::changed_config(&config, &release),
        &release,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_patches_from_strings_and_objects() {
        let p = config_patch(&Body::new(json!({"values": "{\"A\": \"1\", \"B\": null}", "memory": {"web": "64M"}, "cpu": {"web": 512}}))).unwrap();
        assert_eq!(p.values["A"], Some("1".into()));
        assert_eq!(p.values["B"], None);
        assert_eq!(p.memory["web"], Some("64M".into()));
        assert_eq!(p.cpu["web"], Some(512));
        assert!(config_patch(&Body::new(json!({"cpu": {"web": "lots"}}))).is_err());
        assert!(config_patch(&Body::new(json!({"values": 7}))).is_err());
    }
}
