//! [`TemplateStore`]: Tapis pod templates and their tags.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::User;
use crate::model::template::{Template, TemplateTag};

#[async_trait]
pub trait TemplateStore: Send + Sync {
    async fn create_template(&self, template: &Template) -> StoreResult<()>;
    async fn get_template(&self, id: &str) -> StoreResult<Option<Template>>;
    /// Templates the user owns or was granted, or all for administrators.
    async fn list_templates(&self, user: &User) -> StoreResult<Vec<Template>>;
    async fn update_template(&self, template: &Template) -> StoreResult<()>;
    async fn delete_template(&self, id: &str) -> StoreResult<()>;
    async fn add_template_tag(&self, tag: &TemplateTag) -> StoreResult<()>;
    /// Every tag of a template, newest first.
    async fn template_tags(&self, id: &str) -> StoreResult<Vec<TemplateTag>>;
}
