//! Pod templates and their tags: list, add, get, update, delete, tag,
//! and saving a pod as a tag.

use axum::Json;
use axum::extract::{Path, State};
use berth_core::CoreError;
use berth_core::model::Level;
use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;

use super::error::TapisResult;
use super::openapi::Refusals;
use super::views::{self, Envelope, Tag, TemplateView, ok};
use super::{Body, Caller};
use crate::AppState;

/// A new template.
#[derive(ToSchema)]
#[schema(as = TapisNewTemplate)]
#[allow(dead_code)]
pub struct NewTemplate {
    template_id: String,
    description: Option<String>,
    metatags: Option<Vec<String>>,
    archive_message: Option<String>,
}

/// What a template update may change; each is optional.
#[derive(ToSchema)]
#[schema(as = TapisTemplateChange)]
#[allow(dead_code)]
pub struct TemplateChange {
    description: Option<String>,
    metatags: Option<Vec<String>>,
    archive_message: Option<String>,
}

/// A new version of a template tag.
#[derive(ToSchema)]
#[schema(as = TapisNewTag)]
#[allow(dead_code)]
pub struct NewTag {
    /// The pod fields this version gives.
    pod_definition: Value,
    commit_message: String,
    /// `latest` when not given.
    tag: Option<String>,
}

/// A pod's definition saved as a template tag.
#[derive(ToSchema)]
#[schema(as = TapisPodAsTag)]
#[allow(dead_code)]
pub struct PodAsTag {
    template_id: String,
    commit_message: String,
    /// `latest` when not given.
    tag: Option<String>,
}

fn metatags(body: &Body) -> TapisResult<Option<Vec<String>>> {
    match body.object()?.get("metatags") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(serde_json::from_value(v.clone()).map_err(|_| {
            CoreError::invalid_field("metatags", "must be a list of strings")
        })?)),
    }
}

/// The templates the caller may see.
#[utoipa::path(get, path = "/v3/pods/templates", tag = "tapis", operation_id = "tapis_templates_list",
    responses((status = 200, description = "The templates", body = Envelope<Vec<TemplateView>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_templates(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Envelope<Vec<TemplateView>>>> {
    let templates = s.berth.templates(&user).await?;
    Ok(ok(
        "Templates retrieved successfully.",
        templates.iter().map(views::template).collect(),
    ))
}

/// Creates a template.
#[utoipa::path(post, path = "/v3/pods/templates", tag = "tapis", operation_id = "tapis_templates_add",
    request_body = NewTemplate,
    responses((status = 200, description = "The new template", body = Envelope<TemplateView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn add_template(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Envelope<TemplateView>>> {
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

/// A template.
#[utoipa::path(get, path = "/v3/pods/templates/{template_id}", tag = "tapis", operation_id = "tapis_template_get",
    params(("template_id" = String, Path)),
    responses((status = 200, description = "The template", body = Envelope<TemplateView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_template(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<TemplateView>>> {
    let t = s.berth.template(&user, &id, Level::Read).await?;
    Ok(ok("Template retrieved successfully.", views::template(&t)))
}

/// Changes a template's description, metatags or archive message.
#[utoipa::path(put, path = "/v3/pods/templates/{template_id}", tag = "tapis", operation_id = "tapis_template_update",
    params(("template_id" = String, Path)),
    request_body = TemplateChange,
    responses((status = 200, description = "The template now", body = Envelope<TemplateView>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn update_template(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Envelope<TemplateView>>> {
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

/// Deletes a template and its tags.
#[utoipa::path(delete, path = "/v3/pods/templates/{template_id}", tag = "tapis", operation_id = "tapis_template_delete",
    params(("template_id" = String, Path)),
    responses((status = 200, description = "Deleted; `result` repeats the message", body = Envelope<String>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn delete_template(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<String>>> {
    s.berth.delete_template(&user, &id).await?;
    Ok(ok(
        "Template successfully deleted.",
        "Template successfully deleted.".to_string(),
    ))
}

/// The tags of a template, every version of each.
#[utoipa::path(get, path = "/v3/pods/templates/{template_id}/tags", tag = "tapis", operation_id = "tapis_template_tags_list",
    params(("template_id" = String, Path)),
    responses((status = 200, description = "The tags", body = Envelope<Vec<Tag>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_template_tags(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<Vec<Tag>>>> {
    let tags = s.berth.template_tags(&user, &id, None).await?;
    Ok(ok(
        "Template tags retrieved successfully.",
        views::tags(&tags),
    ))
}

/// Every template the caller sees, each with its tags.
#[utoipa::path(get, path = "/v3/pods/templates/tags", tag = "tapis", operation_id = "tapis_templates_and_tags_list",
    responses((status = 200, description = "Template id to its tags", body = Envelope<BTreeMap<String, Vec<Tag>>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_templates_and_tags(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Envelope<BTreeMap<String, Vec<Tag>>>>> {
    let mut out = BTreeMap::new();
    for t in s.berth.templates(&user).await? {
        let tags = s.berth.template_tags(&user, &t.template_id, None).await?;
        out.insert(t.template_id.clone(), views::tags(&tags));
    }
    Ok(ok("Templates and tags retrieved successfully.", out))
}

/// Adds a version of a template tag.
#[utoipa::path(post, path = "/v3/pods/templates/{template_id}/tags", tag = "tapis", operation_id = "tapis_template_tags_add",
    params(("template_id" = String, Path)),
    request_body = NewTag,
    responses((status = 200, description = "The new version", body = Envelope<Tag>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn add_template_tag(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Envelope<Tag>>> {
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

/// The versions of one template tag: a list, as the Tapis spec has it
/// (one tag name may carry several versions).
#[utoipa::path(get, path = "/v3/pods/templates/{template_id}/tags/{tag}", tag = "tapis", operation_id = "tapis_template_tag_get",
    params(("template_id" = String, Path), ("tag" = String, Path, description = "`name` or `name@timestamp`")),
    responses((status = 200, description = "The versions", body = Envelope<Vec<Tag>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_template_tag(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, tag)): Path<(String, String)>,
) -> TapisResult<Json<Envelope<Vec<Tag>>>> {
    let tags = s.berth.template_tags(&user, &id, Some(&tag)).await?;
    Ok(ok(
        "Template tag retrieved successfully.",
        views::tags(&tags),
    ))
}

/// Saves a pod's definition as a version of a template tag.
#[utoipa::path(post, path = "/v3/pods/{pod_id}/save_pod_as_template_tag", tag = "tapis", operation_id = "tapis_pod_save_as_template_tag",
    params(("pod_id" = String, Path)),
    request_body = PodAsTag,
    responses((status = 200, description = "The new version", body = Envelope<Tag>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn save_pod_as_template_tag(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(pod_id): Path<String>,
    body: Body,
) -> TapisResult<Json<Envelope<Tag>>> {
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
