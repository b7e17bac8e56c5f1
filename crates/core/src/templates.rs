//! Tapis pod templates: named, permissioned, with immutable tags that each
//! hold a pod definition. A pod naming `template:tag[@timestamp]` starts
//! from that tag's definition; its own fields win.

use serde_json::Value;

use crate::error::{CoreError, CoreResult, OnConflict};
use crate::model::*;
use crate::pods::{PodDefinition, pod_meta};
use crate::service::Berth;
// The template data types live in the model, below the store that keeps them.
pub use crate::model::template::{Template, TemplateTag, parse_template_ref, template_object};

fn validate_template_id(id: &str) -> CoreResult<()> {
    crate::pods::validate_pod_id(id).map_err(|_| {
        CoreError::invalid_field(
            "template_id",
            "must be 3 to 64 lowercase letters and digits, starting with a letter",
        )
    })
}

fn validate_tag(tag: &str) -> CoreResult<()> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        return Err(CoreError::invalid_field(
            "tag",
            "use letters, digits, '-', '_' and '.'",
        ));
    }
    Ok(())
}

impl Berth {
    /// A template the actor may act on at `need`; others do not exist for them.
    pub async fn template(&self, actor: &User, id: &str, need: Level) -> CoreResult<Template> {
        let not_found = || CoreError::not_found(format!("template {id} not found"));
        let t = self.store.get_template(id).await?.ok_or_else(not_found)?;
        self.require_shared(actor, t.owner_id, &template_object(id), need, not_found)
            .await?;
        Ok(t)
    }

    pub async fn templates(&self, actor: &User) -> CoreResult<Vec<Template>> {
        Ok(self.store.list_templates(actor).await?)
    }

    pub async fn create_template(
        &self,
        actor: &User,
        id: &str,
        description: &str,
        metatags: Vec<String>,
        archive_message: &str,
    ) -> CoreResult<Template> {
        validate_template_id(id)?;
        let t = now();
        let template = Template {
            template_id: id.to_string(),
            owner_id: actor.id,
            owner: actor.username.clone(),
            description: description.to_string(),
            metatags,
            archive_message: archive_message.to_string(),
            created: t,
            updated: t,
        };
        self.store
            .create_template(&template)
            .await
            .on_conflict(|| CoreError::Conflict(format!("template {id} already exists")))?;
        Ok(template)
    }

    pub async fn update_template(
        &self,
        actor: &User,
        id: &str,
        description: Option<&str>,
        metatags: Option<Vec<String>>,
        archive_message: Option<&str>,
    ) -> CoreResult<Template> {
        let mut t = self.template(actor, id, Level::User).await?;
        if let Some(d) = description {
            t.description = d.to_string();
        }
        if let Some(m) = metatags {
            t.metatags = m;
        }
        if let Some(a) = archive_message {
            t.archive_message = a.to_string();
        }
        t.updated = now();
        self.store.update_template(&t).await?;
        Ok(t)
    }

    pub async fn delete_template(&self, actor: &User, id: &str) -> CoreResult<()> {
        self.template(actor, id, Level::Admin).await?;
        Ok(self.store.delete_template(id).await?)
    }

    pub async fn add_template_tag(
        &self,
        actor: &User,
        id: &str,
        tag: &str,
        definition: Value,
        commit_message: &str,
    ) -> CoreResult<TemplateTag> {
        self.template(actor, id, Level::User).await?;
        validate_tag(tag)?;
        if commit_message.trim().is_empty() {
            return Err(CoreError::required_field("commit_message"));
        }
        let mut check: PodDefinition = serde_json::from_value(definition.clone())
            .map_err(|e| CoreError::invalid_field("pod_definition", e.to_string()))?;
        check.pod_id = "templatecheck".into();
        check.validate()?;
        self.check_pod_image("pod_definition", &check.image).await?;
        let created = now();
        let stamp = crate::model::rfc3339(created);
        let tag = TemplateTag {
            template_id: id.to_string(),
            tag: tag.to_string(),
            tag_timestamp: format!("{tag}@{stamp}"),
            pod_definition: definition,
            commit_message: commit_message.to_string(),
            added_by: actor.username.clone(),
            created,
        };
        self.store.add_template_tag(&tag).await?;
        Ok(tag)
    }

    /// Tags of a template, newest first; `tag` may be `name` or `name@timestamp`.
    pub async fn template_tags(
        &self,
        actor: &User,
        id: &str,
        tag: Option<&str>,
    ) -> CoreResult<Vec<TemplateTag>> {
        self.template(actor, id, Level::Read).await?;
        let mut tags = self.store.template_tags(id).await?;
        if let Some(tag) = tag {
            tags.retain(|t| t.tag == tag || t.tag_timestamp == tag);
            if tags.is_empty() {
                return Err(CoreError::not_found(format!(
                    "tag {tag} of template {id} not found"
                )));
            }
        }
        Ok(tags)
    }

    /// The pod definition a template reference resolves to.
    pub async fn resolve_template(&self, actor: &User, reference: &str) -> CoreResult<Value> {
        let (name, tag, exact) = parse_template_ref(reference);
        let tags = self
            .template_tags(actor, &name, Some(exact.as_deref().unwrap_or(&tag)))
            .await?;
        Ok(tags[0].pod_definition.clone())
    }

    /// Saves a pod's definition as a new tag of a template.
    pub async fn save_pod_as_template_tag(
        &self,
        actor: &User,
        pod_id: &str,
        template_id: &str,
        tag: &str,
        commit_message: &str,
    ) -> CoreResult<TemplateTag> {
        let app = self.pod(actor, pod_id, Level::Admin).await?;
        let mut definition =
            serde_json::to_value(pod_meta(&app).derived).map_err(CoreError::internal_from)?;
        if let Some(obj) = definition.as_object_mut() {
            // A pod's secrets never go into a template others may read.
            for key in [
                "pod_id",
                "template",
                "status_requested",
                "secret_map",
                "template_overrides",
            ] {
                obj.remove(key);
            }
        }
        self.add_template_tag(actor, template_id, tag, definition, commit_message)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_references() {
        assert_eq!(
            parse_template_ref("web"),
            ("web".into(), "latest".into(), None)
        );
        assert_eq!(
            parse_template_ref("web:v2"),
            ("web".into(), "v2".into(), None)
        );
        assert_eq!(
            parse_template_ref("web:v2@2026-01-01T00:00:00Z"),
            (
                "web".into(),
                "v2".into(),
                Some("v2@2026-01-01T00:00:00Z".into())
            )
        );
    }
}
