//! Pod templates and their tags: list, add, get, update, delete, tag,
//! and saving a pod as a tag.

use axum::Json;
use axum::extract::{Path, State};
use berth_core::CoreError;
use berth_core::model::Level;
use serde_json::{Value, json};

use super::error::TapisResult;
use super::views::{self, ok};
use super::{Body, Caller};
use crate::AppState;

fn metatags(body: &Body) -> TapisResult<Option<Vec<String>>> {
    match body.object()?.get("metatags") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(serde_json::from_value(v.clone()).map_err(|_| {
            CoreError::invalid_field("metatags", "must be a list of strings")
        })?)),
    }
}

pub async fn list_templates(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Value>> {
    let templates = s.berth.templates(&user).await?;
    Ok(ok(
        "Templates retrieved successfully.",
        Value::Array(templates.iter().map(views::template).collect()),
    ))
}

pub async fn add_template(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Value>> {
    let t = s
        .berth
        .create_template(
            &user,
            body.str("template_id")?,
            body.opt_str("description")?.unwrap_or_default(),
            metatags(&body)?.unwrap_or_default(),
            body.opt_str("archive_message")?.unwrap_or_default(),
        )
        .await?;
    Ok(ok("Template created successfully.", views::template(&t)))
}

pub async fn get_template(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let t = s.berth.template(&user, &id, Level::Read).await?;
    Ok(ok("Template retrieved successfully.", views::template(&t)))
}

pub async fn update_template(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Value>> {
    let t = s
        .berth
        .update_template(
            &user,
            &id,
            body.opt_str("description")?,
            metatags(&body)?,
            body.opt_str("archive_message")?,
        )
        .await?;
    Ok(ok("Template updated successfully.", views::template(&t)))
}

pub async fn delete_template(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    s.berth.delete_template(&user, &id).await?;
    Ok(ok(
        "Template successfully deleted.",
        json!("Template successfully deleted."),
    ))
}

pub async fn list_template_tags(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let tags = s.berth.template_tags(&user, &id, None).await?;
    Ok(ok(
        "Template tags retrieved successfully.",
        views::tags(&tags),
    ))
}

/// Every template the caller sees, each with its tags.
pub async fn list_templates_and_tags(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Value>> {
    let mut out = serde_json::Map::new();
    for t in s.berth.templates(&user).await? {
        let tags = s.berth.template_tags(&user, &t.template_id, None).await?;
        out.insert(t.template_id.clone(), views::tags(&tags));
    }
    Ok(ok(
        "Templates and tags retrieved successfully.",
        Value::Object(out),
    ))
}

pub async fn add_template_tag(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Value>> {
    let definition = body
        .object()?
        .get("pod_definition")
        .filter(|v| v.is_object())
        .cloned()
        .ok_or_else(|| CoreError::invalid_field("pod_definition", "This field is required."))?;
    let tag = s
        .berth
        .add_template_tag(
            &user,
            &id,
            body.opt_str("tag")?.unwrap_or("latest"),
            definition,
            body.str("commit_message")?,
        )
        .await?;
    Ok(ok("Template tag added successfully.", views::tag(&tag)))
}

/// A list, as the Tapis spec has it: one tag name may carry several versions.
pub async fn get_template_tag(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, tag)): Path<(String, String)>,
) -> TapisResult<Json<Value>> {
    let tags = s.berth.template_tags(&user, &id, Some(&tag)).await?;
    Ok(ok(
        "Template tag retrieved successfully.",
        views::tags(&tags),
    ))
}

pub async fn save_pod_as_template_tag(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(pod_id): Path<String>,
    body: Body,
) -> TapisResult<Json<Value>> {
    let tag = s
        .berth
        .save_pod_as_template_tag(
            &user,
            &pod_id,
            body.str("template_id")?,
            body.opt_str("tag")?.unwrap_or("latest"),
            body.str("commit_message")?,
        )
        .await?;
    Ok(ok("Pod saved as template tag.", views::tag(&tag)))
}
