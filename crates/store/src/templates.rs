//! [`TemplateStore`]: Tapis pod templates and tags.

use async_trait::async_trait;
use berth_core::model::User;
use berth_core::store::StoreResult;
use berth_core::templates::{Template, TemplateStore, TemplateTag};
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, db_err, get, get_json, get_ts, json, ts};

fn template_from(row: &SqliteRow) -> StoreResult<Template> {
    Ok(Template {
        template_id: get(row, "template_id")?,
        owner_id: get(row, "owner_id")?,
        owner: get(row, "owner")?,
        description: get(row, "description")?,
        metatags: get_json(row, "metatags")?,
        archive_message: get(row, "archive_message")?,
        created: get_ts(row, "created")?,
        updated: get_ts(row, "updated")?,
    })
}

fn tag_from(row: &SqliteRow) -> StoreResult<TemplateTag> {
    Ok(TemplateTag {
        template_id: get(row, "template_id")?,
        tag: get(row, "tag")?,
        tag_timestamp: get(row, "tag_timestamp")?,
        pod_definition: get_json(row, "pod_definition")?,
        commit_message: get(row, "commit_message")?,
        added_by: get(row, "added_by")?,
        created: get_ts(row, "created")?,
    })
}

const TEMPLATE_COLUMNS: &str =
    "t.*, u.username AS owner FROM templates t JOIN users u ON u.id = t.owner_id";

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn create_template(&self, t: &Template) -> StoreResult<()> {
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
        .bind(ts(t.updated))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_template(&self, id: &str) -> StoreResult<Option<Template>> {
        let row = sqlx::query(&format!(
            "SELECT {TEMPLATE_COLUMNS} WHERE t.template_id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(template_from).transpose()
    }

    async fn list_templates(&self, user: &User) -> StoreResult<Vec<Template>> {
        let rows = sqlx::query(&format!(
            "SELECT {TEMPLATE_COLUMNS} WHERE ? OR t.owner_id = ? OR EXISTS (SELECT 1 FROM grants g \
             WHERE g.object = 'template:' || t.template_id AND g.user_id = ?) ORDER BY t.template_id"
        ))
        .bind(user.is_admin)
        .bind(user.id)
        .bind(user.id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(template_from).collect()
    }

    async fn update_template(&self, t: &Template) -> StoreResult<()> {
        sqlx::query(
            "UPDATE templates SET description = ?, metatags = ?, archive_message = ?, updated = ? WHERE template_id = ?",
        )
        .bind(&t.description)
        .bind(json(&t.metatags))
        .bind(&t.archive_message)
        .bind(ts(t.updated))
        .bind(&t.template_id)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_template(&self, id: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM grants WHERE object = ?")
            .bind(format!("template:{id}"))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM templates WHERE template_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn add_template_tag(&self, t: &TemplateTag) -> StoreResult<()> {
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
        .bind(ts(t.created))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn template_tags(&self, id: &str) -> StoreResult<Vec<TemplateTag>> {
        let rows =
            sqlx::query("SELECT * FROM template_tags WHERE template_id = ? ORDER BY created DESC")
                .bind(id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(tag_from).collect()
    }
}
