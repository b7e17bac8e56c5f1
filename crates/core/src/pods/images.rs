//! The image allow-list Tapis pods are held to: administrators add and
//! remove entries (an exact `repo:tag`, or `repo:*` for every tag), and
//! pod create, update and template tags are checked against it when
//! [`crate::service::Settings::pod_image_allow_list`] is on.

use crate::error::{CoreError, CoreResult};
use crate::image::split_tag;
use crate::model::volume::AllowedImage;
use crate::model::*;
use crate::service::Berth;

/// What an administrator gives for an allow-list entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewImage {
    pub image: String,
    pub tenants: Vec<String>,
    pub description: String,
}

/// `image` with its tag, `latest` when it names none.
fn with_tag(image: &str) -> (&str, &str) {
    match split_tag(image) {
        (name, Some(tag)) => (name, tag),
        (name, None) => (name, "latest"),
    }
}

/// Whether an entry lets `image` run in `tenant`.
pub fn entry_allows(entry: &AllowedImage, tenant: &str, image: &str) -> bool {
    let for_tenant =
        entry.tenants.is_empty() || entry.tenants.iter().any(|t| t == "*" || t == tenant);
    let (name, tag) = with_tag(image.trim());
    let (entry_name, entry_tag) = with_tag(&entry.image);
    for_tenant && entry_name == name && (entry_tag == "*" || entry_tag == tag)
}

fn validate_entry(image: &str) -> CoreResult<()> {
    let (name, tag) = with_tag(image);
    let ok = !name.is_empty()
        && !tag.is_empty()
        && !image.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(CoreError::invalid_field(
            "image",
            format!("{image:?} is not an image like busybox:latest or busybox:*"),
        ));
    }
    Ok(())
}

fn admins_only(actor: &User) -> CoreResult<()> {
    if !actor.is_admin {
        return Err(CoreError::Forbidden(
            "only administrators may change the image allow-list".into(),
        ));
    }
    Ok(())
}

impl Berth {
    /// The allow-list entries for this server's tenant.
    pub async fn allowed_images(&self) -> CoreResult<Vec<AllowedImage>> {
        let tenant = &self.settings.tenant;
        Ok(self
            .store
            .allowed_images()
            .await?
            .into_iter()
            .filter(|e| e.tenants.is_empty() || e.tenants.iter().any(|t| t == "*" || t == tenant))
            .collect())
    }

    pub async fn allowed_image(&self, image: &str) -> CoreResult<AllowedImage> {
        self.allowed_images()
            .await?
            .into_iter()
            .find(|e| e.image == image)
            .ok_or_else(|| CoreError::not_found(format!("image {image} not found")))
    }

    /// Adds entries, all or none. A duplicate (listed already, or twice
    /// in the request) is a conflict, or left out with `skip_duplicates`.
    pub async fn add_allowed_images(
        &self,
        actor: &User,
        images: Vec<NewImage>,
        skip_duplicates: bool,
    ) -> CoreResult<Vec<AllowedImage>> {
        admins_only(actor)?;
        let listed = self.store.allowed_images().await?;
        let mut added: Vec<AllowedImage> = Vec::new();
        for new in images {
            let image = new.image.trim().to_string();
            validate_entry(&image)?;
            let duplicate = listed.iter().chain(&added).any(|e| e.image == image);
            if duplicate {
                if skip_duplicates {
                    continue;
                }
                return Err(CoreError::Conflict(format!(
                    "image {image} is already on the allow-list"
                )));
            }
            added.push(AllowedImage {
                image,
                tenants: new.tenants,
                description: new.description,
                added_by: actor.username.clone(),
                created: now(),
            });
        }
        self.store
            .add_allowed_images(&added)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(_) => {
                    CoreError::Conflict("an image is already on the allow-list".into())
                }
                other => other.into(),
            })?;
        Ok(added)
    }

    pub async fn remove_allowed_image(&self, actor: &User, image: &str) -> CoreResult<()> {
        admins_only(actor)?;
        if !self.store.remove_allowed_image(image).await? {
            return Err(CoreError::not_found(format!("image {image} not found")));
        }
        Ok(())
    }

    /// Refuses an image the allow-list (when on) does not let pods use.
    pub(crate) async fn check_pod_image(&self, field: &str, image: &str) -> CoreResult<()> {
        if !self.settings.pod_image_allow_list || image.trim().is_empty() {
            return Ok(());
        }
        let tenant = &self.settings.tenant;
        let entries = self.store.allowed_images().await?;
        if entries.iter().any(|e| entry_allows(e, tenant, image)) {
            return Ok(());
        }
        Err(CoreError::invalid_field(
            field,
            format!(
                "image {image} is not on this server's image allow-list (GET /pods/images lists it)"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(image: &str, tenants: &[&str]) -> AllowedImage {
        AllowedImage {
            image: image.into(),
            tenants: tenants.iter().map(|t| t.to_string()).collect(),
            description: String::new(),
            added_by: "admin".into(),
            created: now(),
        }
    }

    #[test]
    fn exact_entries_and_repository_patterns() {
        let exact = entry("busybox:1.36", &[]);
        assert!(entry_allows(&exact, "dev", "busybox:1.36"));
        assert!(!entry_allows(&exact, "dev", "busybox:latest"));
        let latest = entry("busybox", &[]);
        assert!(entry_allows(&latest, "dev", "busybox:latest"));
        assert!(entry_allows(&latest, "dev", "busybox"));
        let any = entry("registry.example.org:5000/team/app:*", &["*"]);
        assert!(entry_allows(
            &any,
            "dev",
            "registry.example.org:5000/team/app:v2"
        ));
        assert!(!entry_allows(
            &any,
            "dev",
            "registry.example.org:5000/team/other:v2"
        ));
        let other_tenant = entry("busybox:*", &["tacc"]);
        assert!(!entry_allows(&other_tenant, "dev", "busybox:latest"));
        assert!(entry_allows(&other_tenant, "tacc", "busybox:latest"));
    }

    #[test]
    fn entries_are_image_names() {
        assert!(validate_entry("busybox:*").is_ok());
        for bad in ["", "busybox:", "bad image"] {
            assert!(validate_entry(bad).is_err(), "{bad:?}");
        }
    }
}
