use axum::Json;
use axum::extract::{Path, State};
use berth_core::CoreError;
use berth_core::model::Level;
use berth_core::model::rfc3339;
use berth_core::templates::{Template, TemplateTag};
use serde_json::{Value, json};

use super::envelope::{TapisResult, ok};
use super::{Body, Caller};
use crate::AppState;

fn template_json(t: &Template) -> Value {
    json!({
        "template_id": t.template_id, "description": t.description, "metatags": t.metatags,
        "archive_message": t.archive_message, "owner": t.owner,
        "creation_ts": rfc3339(t.created), "update_ts": rfc3339(t.updated),
    })
}

fn tag_json(t: &TemplateTag) -> Value {
    json!({
        "template_id": t.template_id, "tag": t.tag, "tag_timestamp": t.tag_timestamp,
        "pod_definition": t.pod_definition, "commit_message": t.commit_message,
        "added_by": t.added_by, "creation_ts": rfc3339(t.created),
    })
}

fn metatags(body: &Body) -> TapisResult<Option<Vec<String>>> {
    match body.object()?.get("metatags") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(serde_json::from_value(v.clone()).map_err(|_| {
            CoreError::invalid_field("metatags", "must be a list of strings")
        })?)),
    }
}

pub async fn list(State(s): State<AppState>, Caller(user): Caller) -> TapisResult<Json<Value>> {
    let templates = s.berth.templates(&user).await?;
    Ok(ok(
        "Templates retrieved successfully.",
        Value::Array(templates.iter().map(template_json).collect()),
    ))
}

pub async fn create(
    State(s): State<AppState>,
    Caller(user): Caller,
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
    Ok(ok("Template created successfully.", template_json(&t)))
}

pub async fn detail(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let t = s.berth.template(&user, &id, Level::Read).await?;
    Ok(ok("Template retrieved successfully.", template_json(&t)))
}

pub async fn update(
    State(s): State<AppState>,
    Caller(user): Caller,
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
    Ok(ok("Template updated successfully.", template_json(&t)))
}

pub async fn remove(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    s.berth.delete_template(&user, &id).await?;
    Ok(ok(
        "Template successfully deleted.",
        json!("Template successfully deleted."),
    ))
}

pub async fn tags(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    let tags = s.berth.template_tags(&user, &id, None).await?;
    Ok(ok(
        "Template tags retrieved successfully.",
        Value::Array(tags.iter().map(tag_json).collect()),
    ))
}

/// Every template the caller sees, each with its tags.
pub async fn all_tags(State(s): State<AppState>, Caller(user): Caller) -> TapisResult<Json<Value>> {
    let mut out = serde_json::Map::new();
    for t in s.berth.templates(&user).await? {
        let tags = s.berth.template_tags(&user, &t.template_id, None).await?;
        out.insert(
            t.template_id.clone(),
            Value::Array(tags.iter().map(tag_json).collect()),
        );
    }
    Ok(ok(
        "Templates and tags retrieved successfully.",
        Value::Object(out),
    ))
}

pub async fn add_tag(
    State(s): State<AppState>,
    Caller(user): Caller,
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
    Ok(ok("Template tag added successfully.", tag_json(&tag)))
}

/// A list, as the Tapis spec has it: one tag name may carry several versions.
pub async fn tag(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path((id, tag)): Path<(String, String)>,
) -> TapisResult<Json<Value>> {
    let tags = s.berth.template_tags(&user, &id, Some(&tag)).await?;
    Ok(ok(
        "Template tag retrieved successfully.",
        Value::Array(tags.iter().map(tag_json).collect()),
    ))
}

pub async fn save_pod(
    State(s): State<AppState>,
    Caller(user): Caller,
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
    Ok(ok("Pod saved as template tag.", tag_json(&tag)))
}

async fn perms(result: Vec<String>) -> TapisResult<Json<Value>> {
    Ok(ok("Template permissions.", json!({"permissions": result})))
}

pub async fn permissions(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Value>> {
    perms(s.berth.template_permissions(&user, &id).await?).await
}

pub async fn grant(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Value>> {
    perms(
        s.berth
            .set_template_permission(&user, &id, body.str("user")?, body.str("level")?)
            .await?,
    )
    .await
}

pub async fn revoke(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path((id, who)): Path<(String, String)>,
) -> TapisResult<Json<Value>> {
    perms(s.berth.delete_template_permission(&user, &id, &who).await?).await
}
