//! Tapis pod templates' data: a template and its immutable tags, each
//! holding a pod definition. The use cases are in [`crate::templates`].

use serde_json::Value;

use crate::model::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub template_id: String,
    pub owner_id: i64,
    pub owner: String,
    pub description: String,
    pub metatags: Vec<String>,
    pub archive_message: String,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateTag {
    pub template_id: String,
    pub tag: String,
    /// `tag@<creation time>`: names this version for good.
    pub tag_timestamp: String,
    pub pod_definition: Value,
    pub commit_message: String,
    pub added_by: String,
    pub created: Timestamp,
}

pub fn template_object(id: &str) -> String {
    format!("template:{id}")
}

/// `name`, `name:tag` or `name:tag@timestamp`.
pub fn parse_template_ref(reference: &str) -> (String, String, Option<String>) {
    let (name, rest) = reference.split_once(':').unwrap_or((reference, "latest"));
    let (tag, at) = match rest.split_once('@') {
        Some((t, ts)) => (t, Some(format!("{t}@{ts}"))),
        None => (rest, None),
    };
    (
        name.to_string(),
        if tag.is_empty() {
            "latest".into()
        } else {
            tag.to_string()
        },
        at,
    )
}
