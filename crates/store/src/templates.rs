//! [`TemplateStore`]: Tapis pod templates and tags.

use async_trait::async_trait;
use berth_core::model::User;
use berth_core::store::{StoreResult, TemplateStore};
use berth_core::templates::{Template, TemplateTag, template_object};

use crate::{SqliteStore, db_err, execute, json, rows, ts};

const TEMPLATE_COLUMNS: &str =
    "t.*, u.username AS owner FROM templates t JOIN users u ON u.id = t.owner_id";

#[async_trait]
impl TemplateStore for SqliteStore {
    /// A new template starts with no grants, even if a template of that
    /// name once existed and left some behind.
    async fn create_template(&self, t: &Template) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        execute(
            &mut *tx,
            sqlx::query(
                "INSERT INTO templates (template_id, owner_id, description, metatags, archive_message, created, updated) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&t.template_id)
            .bind(t.owner_id)
            .bind(&t.description)
            .bind(json(&t.metatags))
            .bind(&t.archive_message)
            .bind(ts(t.created))
            .bind(ts(t.updated)),
        )
        .await?;
        execute(
            &mut *tx,
            sqlx::query("DELETE FROM grants WHERE object = ?")
                .bind(template_object(&t.template_id)),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn get_template(&self, id: &str) -> StoreResult<Option<Template>> {
        let query = format!("SELECT {TEMPLATE_COLUMNS} WHERE t.template_id = ?");
        self.fetch_optional(sqlx::query(&query).bind(id), rows::template)
            .await
    }

    async fn list_templates(&self, user: &User) -> StoreResult<Vec<Template>> {
        let query = format!(
            "SELECT {TEMPLATE_COLUMNS} WHERE ? OR t.owner_id = ? OR EXISTS (SELECT 1 FROM grants g \
             WHERE g.object = 'template:' || t.template_id AND g.user_id = ?) ORDER BY t.template_id"
        );
        self.fetch_all(
            sqlx::query(&query)
                .bind(user.is_admin)
                .bind(user.id)
                .bind(user.id),
            rows::template,
        )
        .await
    }

    async fn update_template(&self, t: &Template) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE templates SET description = ?, metatags = ?, archive_message = ?, updated = ? WHERE template_id = ?",
            )
            .bind(&t.description)
            .bind(json(&t.metatags))
            .bind(&t.archive_message)
            .bind(ts(t.updated))
            .bind(&t.template_id),
        )
        .await
    }

    async fn delete_template(&self, id: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        execute(
            &mut *tx,
            sqlx::query("DELETE FROM grants WHERE object = ?").bind(template_object(id)),
        )
        .await?;
        execute(
            &mut *tx,
            sqlx::query("DELETE FROM templates WHERE template_id = ?").bind(id),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn add_template_tag(&self, t: &TemplateTag) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO template_tags (template_id, tag, tag_timestamp, pod_definition, commit_message, added_by, created) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&t.template_id)
            .bind(&t.tag)
            .bind(&t.tag_timestamp)
            .bind(json(&t.pod_definition))
            .bind(&t.commit_message)
            .bind(&t.added_by)
            .bind(ts(t.created)),
        )
        .await
    }

    async fn template_tags(&self, id: &str) -> StoreResult<Vec<TemplateTag>> {
        self.fetch_all(
            sqlx::query("SELECT * FROM template_tags WHERE template_id = ? ORDER BY created DESC")
                .bind(id),
            rows::template_tag,
        )
        .await
    }
}
