//! [`CertStore`]: TLS certificates and their private keys.

use async_trait::async_trait;
use berth_core::model::{Certificate, ServingCert};
use berth_core::store::{CertStore, Page, StoreResult};

use crate::{SqliteStore, db_err, json, rows, ts};

/// A certificate's columns with its owner's name; never its key.
const CERT_COLUMNS: &str = "SELECT c.common_name, u.username AS owner, c.san, c.expires, c.created \
     FROM certs c JOIN users u ON u.id = c.owner_id";

#[async_trait]
impl CertStore for SqliteStore {
    async fn add_cert(
        &self,
        owner_id: i64,
        cert: &Certificate,
        chain_pem: &str,
        key_pem: &str,
    ) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO certs (common_name, owner_id, certificate, key, san, expires, created) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&cert.common_name)
            .bind(owner_id)
            .bind(chain_pem)
            .bind(key_pem)
            .bind(json(&cert.san))
            .bind(ts(cert.expires))
            .bind(ts(cert.created)),
        )
        .await
    }

    async fn list_certs(
        &self,
        owner: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Page<Certificate>> {
        // `?1 IS NULL`: every owner's.
        let filter = "WHERE ?1 IS NULL OR u.username = ?1";
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.owner_id {filter}"
        ))
        .bind(owner)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let page = format!("{CERT_COLUMNS} {filter} ORDER BY c.common_name LIMIT ?2 OFFSET ?3");
        let items = self
            .fetch_all(
                sqlx::query(&page).bind(owner).bind(limit).bind(offset),
                rows::certificate,
            )
            .await?;
        Ok(Page { items, total })
    }

    async fn cert(&self, common_name: &str) -> StoreResult<Option<Certificate>> {
        self.fetch_optional(
            sqlx::query(&format!("{CERT_COLUMNS} WHERE c.common_name = ?")).bind(common_name),
            rows::certificate,
        )
        .await
    }

    async fn remove_cert(&self, common_name: &str) -> StoreResult<bool> {
        let removed = self
            .exec_count(sqlx::query("DELETE FROM certs WHERE common_name = ?").bind(common_name))
            .await?;
        Ok(removed > 0)
    }

    async fn serving_certs(&self) -> StoreResult<Vec<ServingCert>> {
        self.fetch_all(
            sqlx::query(
                "SELECT common_name, san, certificate, key FROM certs ORDER BY common_name",
            ),
            rows::serving_cert,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use berth_core::model::now;
    use berth_core::store::{IdentityStore, StoreError};

    use super::*;
    use crate::testing::store;

    fn cert(name: &str, owner: &str) -> Certificate {
        Certificate {
            common_name: name.into(),
            owner: owner.into(),
            san: vec!["www.example.com".into()],
            expires: now(),
            created: now(),
        }
    }

    #[tokio::test]
    async fn certificates_by_owner_with_keys_only_for_serving() {
        let (_dir, s) = store().await;
        let alice = s.create_user("alice", "", "x").await.unwrap();
        let bob = s.create_user("bob", "", "x").await.unwrap();
        s.add_cert(
            alice.id,
            &cert("a.example.com", "alice"),
            "CHAIN-A",
            "KEY-A",
        )
        .await
        .unwrap();
        s.add_cert(bob.id, &cert("b.example.com", "bob"), "CHAIN-B", "KEY-B")
            .await
            .unwrap();
        let taken = s
            .add_cert(bob.id, &cert("a.example.com", "bob"), "C", "K")
            .await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))));

        let all = s.list_certs(None, 0, 10).await.unwrap();
        assert_eq!(all.total, 2);
        let mine = s.list_certs(Some("bob"), 0, 10).await.unwrap();
        assert_eq!(mine.total, 1);
        assert_eq!(
            mine.items,
            [cert("b.example.com", "bob")].map(|c| Certificate {
                expires: mine.items[0].expires,
                created: mine.items[0].created,
                ..c
            })
        );
        assert_eq!(
            s.cert("a.example.com").await.unwrap().unwrap().owner,
            "alice"
        );

        let serving = s.serving_certs().await.unwrap();
        assert_eq!(serving[0].names, ["a.example.com", "www.example.com"]);
        assert_eq!(
            (serving[0].chain_pem.as_str(), serving[0].key_pem.as_str()),
            ("CHAIN-A", "KEY-A")
        );

        assert!(s.remove_cert("a.example.com").await.unwrap());
        assert!(!s.remove_cert("a.example.com").await.unwrap());
        assert_eq!(s.serving_certs().await.unwrap().len(), 1);
    }
}
