//! [`VolumeStore`]: Tapis pod volumes, snapshots and the image allow-list.

use async_trait::async_trait;
use berth_core::model::User;
use berth_core::model::volume::{AllowedImage, Snapshot, Volume, snapshot_object, volume_object};
use berth_core::store::{StoreResult, VolumeStore};

use crate::{SqliteStore, Statement, db_err, execute, json, rows, ts};

const VOLUME_COLUMNS: &str =
    "v.*, u.username AS owner FROM pod_volumes v JOIN users u ON u.id = v.owner_id";
const SNAPSHOT_COLUMNS: &str =
    "s.*, u.username AS owner FROM pod_snapshots s JOIN users u ON u.id = s.owner_id";

impl SqliteStore {
    /// Inserts a row and drops grants a deleted object of the same name left.
    async fn insert_fresh(&self, insert: Statement<'_>, object: String) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        execute(&mut *tx, insert).await?;
        execute(
            &mut *tx,
            sqlx::query("DELETE FROM grants WHERE object = ?").bind(object),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    /// Deletes a row and its grants together.
    async fn delete_with_grants(&self, delete: Statement<'_>, object: String) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        execute(
            &mut *tx,
            sqlx::query("DELETE FROM grants WHERE object = ?").bind(object),
        )
        .await?;
        execute(&mut *tx, delete).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl VolumeStore for SqliteStore {
    async fn create_volume(&self, v: &Volume) -> StoreResult<()> {
        self.insert_fresh(
            sqlx::query(
                "INSERT INTO pod_volumes (volume_id, owner_id, description, size_limit, created, updated) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&v.volume_id)
            .bind(v.owner_id)
            .bind(&v.description)
            .bind(v.size_limit)
            .bind(ts(v.created))
            .bind(ts(v.updated)),
            volume_object(&v.volume_id),
        )
        .await
    }

    async fn get_volume(&self, id: &str) -> StoreResult<Option<Volume>> {
        let query = format!("SELECT {VOLUME_COLUMNS} WHERE v.volume_id = ?");
        self.fetch_optional(sqlx::query(&query).bind(id), rows::volume)
            .await
    }

    async fn list_volumes(&self, user: &User) -> StoreResult<Vec<Volume>> {
        let query = format!(
            "SELECT {VOLUME_COLUMNS} WHERE ? OR v.owner_id = ? OR EXISTS (SELECT 1 FROM grants g \
             WHERE g.object = 'volume:' || v.volume_id AND g.user_id = ?) ORDER BY v.volume_id"
        );
        self.fetch_all(
            sqlx::query(&query)
                .bind(user.is_admin)
                .bind(user.id)
                .bind(user.id),
            rows::volume,
        )
        .await
    }

    async fn update_volume(&self, v: &Volume) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE pod_volumes SET description = ?, size_limit = ?, updated = ? WHERE volume_id = ?",
            )
            .bind(&v.description)
            .bind(v.size_limit)
            .bind(ts(v.updated))
            .bind(&v.volume_id),
        )
        .await
    }

    async fn delete_volume(&self, id: &str) -> StoreResult<()> {
        self.delete_with_grants(
            sqlx::query("DELETE FROM pod_volumes WHERE volume_id = ?").bind(id),
            volume_object(id),
        )
        .await
    }

    async fn create_snapshot(&self, s: &Snapshot) -> StoreResult<()> {
        self.insert_fresh(
            sqlx::query(
                "INSERT INTO pod_snapshots (snapshot_id, owner_id, source_volume_id, source_volume_path, \
                 destination_path, description, size_limit, cron, retention_policy, created, updated) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&s.snapshot_id)
            .bind(s.owner_id)
            .bind(&s.source_volume_id)
            .bind(&s.source_volume_path)
            .bind(&s.destination_path)
            .bind(&s.description)
            .bind(s.size_limit)
            .bind(&s.cron)
            .bind(&s.retention_policy)
            .bind(ts(s.created))
            .bind(ts(s.updated)),
            snapshot_object(&s.snapshot_id),
        )
        .await
    }

    async fn get_snapshot(&self, id: &str) -> StoreResult<Option<Snapshot>> {
        let query = format!("SELECT {SNAPSHOT_COLUMNS} WHERE s.snapshot_id = ?");
        self.fetch_optional(sqlx::query(&query).bind(id), rows::snapshot)
            .await
    }

    async fn list_snapshots(&self, user: &User) -> StoreResult<Vec<Snapshot>> {
        let query = format!(
            "SELECT {SNAPSHOT_COLUMNS} WHERE ? OR s.owner_id = ? OR EXISTS (SELECT 1 FROM grants g \
             WHERE g.object = 'snapshot:' || s.snapshot_id AND g.user_id = ?) ORDER BY s.snapshot_id"
        );
        self.fetch_all(
            sqlx::query(&query)
                .bind(user.is_admin)
                .bind(user.id)
                .bind(user.id),
            rows::snapshot,
        )
        .await
    }

    async fn update_snapshot(&self, s: &Snapshot) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE pod_snapshots SET description = ?, size_limit = ?, cron = ?, retention_policy = ?, \
                 updated = ? WHERE snapshot_id = ?",
            )
            .bind(&s.description)
            .bind(s.size_limit)
            .bind(&s.cron)
            .bind(&s.retention_policy)
            .bind(ts(s.updated))
            .bind(&s.snapshot_id),
        )
        .await
    }

    async fn delete_snapshot(&self, id: &str) -> StoreResult<()> {
        self.delete_with_grants(
            sqlx::query("DELETE FROM pod_snapshots WHERE snapshot_id = ?").bind(id),
            snapshot_object(id),
        )
        .await
    }

    async fn add_allowed_images(&self, images: &[AllowedImage]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for i in images {
            execute(
                &mut *tx,
                sqlx::query(
                    "INSERT INTO pod_images (image, tenants, description, added_by, created) \
                     VALUES (?, ?, ?, ?, ?)",
                )
                .bind(&i.image)
                .bind(json(&i.tenants))
                .bind(&i.description)
                .bind(&i.added_by)
                .bind(ts(i.created)),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn allowed_images(&self) -> StoreResult<Vec<AllowedImage>> {
        self.fetch_all(
            sqlx::query("SELECT * FROM pod_images ORDER BY image"),
            rows::allowed_image,
        )
        .await
    }

    async fn remove_allowed_image(&self, image: &str) -> StoreResult<bool> {
        let n = self
            .exec_count(sqlx::query("DELETE FROM pod_images WHERE image = ?").bind(image))
            .await?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use berth_core::model::now;
    use berth_core::store::{AccessStore, IdentityStore, StoreError};

    use super::*;
    use crate::testing::store;

    #[tokio::test]
    async fn volumes_snapshots_and_images_round_trip() {
        let (_dir, s) = store().await;
        // The first user is an administrator, who sees every volume.
        s.create_user("root", "", "h").await.unwrap();
        let ann = s.create_user("ann", "", "h").await.unwrap();
        let t = now();
        let v = Volume {
            volume_id: "vol1".into(),
            owner_id: ann.id,
            owner: "ann".into(),
            description: "d".into(),
            size_limit: 10,
            created: t,
            updated: t,
        };
        s.create_volume(&v).await.unwrap();
        assert_eq!(s.get_volume("vol1").await.unwrap(), Some(v.clone()));
        assert!(matches!(
            s.create_volume(&v).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(s.list_volumes(&ann).await.unwrap(), vec![v.clone()]);
        let bob = s.create_user("bob", "", "h").await.unwrap();
        assert!(s.list_volumes(&bob).await.unwrap().is_empty());
        s.grant(
            &volume_object("vol1"),
            bob.id,
            berth_core::model::Level::Read,
        )
        .await
        .unwrap();
        assert_eq!(s.list_volumes(&bob).await.unwrap().len(), 1);
        s.delete_volume("vol1").await.unwrap();
        s.create_volume(&v).await.unwrap();
        assert!(
            s.list_volumes(&bob).await.unwrap().is_empty(),
            "grants go with the volume"
        );

        let image = AllowedImage {
            image: "busybox:*".into(),
            tenants: vec!["dev".into()],
            description: String::new(),
            added_by: "admin".into(),
            created: t,
        };
        s.add_allowed_images(std::slice::from_ref(&image))
            .await
            .unwrap();
        assert!(
            s.add_allowed_images(std::slice::from_ref(&image))
                .await
                .is_err()
        );
        assert_eq!(s.allowed_images().await.unwrap(), vec![image]);
        assert!(s.remove_allowed_image("busybox:*").await.unwrap());
        assert!(!s.remove_allowed_image("busybox:*").await.unwrap());
    }
}
