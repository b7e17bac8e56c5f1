//! Who owns an image Berth built, and who may use it. A tag belongs to the
//! user whose build first claimed it: only their builds may replace it, and
//! tags Berth did not build (base images such as `busybox:latest`) are
//! never replaced through the API. A catalog version's `image_ref` grants
//! nothing. Running a built image needs read access to the catalog
//! repository its build recorded (public, owner or administrator); images
//! Berth did not build stay usable by everyone.

use std::collections::BTreeMap;

use super::{BuiltImage, ImageRepo};
use crate::access;
use crate::error::{CoreError, CoreResult};
use crate::image::ImageRef;
use crate::model::{User, now};
use crate::service::Berth;

/// The one spelling of a reference under which its build is recorded, so
/// that `foo`, `foo:latest` and `docker.io/library/foo:latest` are one image.
pub fn image_key(image: &str) -> Option<String> {
    let r = ImageRef::parse(image).ok()?;
    if r.digest.is_some() {
        return None;
    }
    Some(if r.namespace.is_empty() {
        format!("{}/{}:{}", r.registry, r.repository, r.tag)
    } else {
        format!("{}/{}/{}:{}", r.registry, r.namespace, r.repository, r.tag)
    })
}

fn not_yours(image: &str) -> CoreError {
    CoreError::Forbidden(format!(
        "image {image} was not built by you through Berth and cannot be replaced"
    ))
}

impl Berth {
    /// Refuses a build of `image` the actor may not make, then claims the
    /// tag for them so that no one else's build can take it meanwhile.
    pub(super) async fn claim_build_target(
        &self,
        actor: &User,
        image: &str,
        parsed: &ImageRef,
    ) -> CoreResult<()> {
        let key = image_key(image).ok_or_else(|| not_yours(image))?;
        match self.store.get_built_image(&key).await? {
            Some(record) if record.owner_id != actor.id => return Err(not_yours(image)),
            Some(_) => {}
            None => {
                let exists = self
                    .runtime
                    .image_exists(image)
                    .await
                    .map_err(CoreError::unavailable)?;
                if exists {
                    return Err(not_yours(image));
                }
            }
        }
        // Where the build will be recorded must be the actor's too, so that
        // it is refused now rather than after the image was replaced.
        if self.own_version_of(actor, image).await?.is_none()
            && let Some(repo) = self.store.live_repo_by_name(&parsed.repository).await?
            && repo.owner_id != actor.id
        {
            return Err(CoreError::Forbidden(format!(
                "container {} belongs to another user",
                parsed.repository
            )));
        }
        let record = self.store.claim_built_image(&key, actor.id, now()).await?;
        if record.owner_id != actor.id {
            return Err(not_yours(image));
        }
        Ok(())
    }

    /// A live repository of the actor's own holding a live version of `image`.
    pub(super) async fn own_version_of(
        &self,
        actor: &User,
        image: &str,
    ) -> CoreResult<Option<(ImageRepo, super::ImageVersion)>> {
        for v in self.store.versions_by_image_ref(image).await? {
            if let Some(repo) = self.store.get_repo(v.repo_id).await?
                && repo.owner_id == actor.id
            {
                return Ok(Some((repo, v)));
            }
        }
        Ok(None)
    }

    /// Ties the built `image` to the repository its build recorded.
    pub(super) async fn note_built_image_repo(&self, image: &str, repo_id: i64) -> CoreResult<()> {
        if let Some(key) = image_key(image) {
            self.store.set_built_image_repo(&key, repo_id).await?;
        }
        Ok(())
    }

    async fn may_use_record(&self, actor: &User, record: &BuiltImage) -> CoreResult<bool> {
        if access::owns(actor, record.owner_id) {
            return Ok(true);
        }
        let Some(repo_id) = record.repo_id else {
            return Ok(false);
        };
        Ok(match self.store.get_repo(repo_id).await? {
            Some(repo) => super::service::can_see(actor, &repo),
            None => false,
        })
    }

    /// Whether the actor may run `image`: anything Berth did not build, or
    /// a build whose catalog repository they may read.
    pub async fn may_use_image(&self, actor: &User, image: &str) -> CoreResult<bool> {
        let Some(key) = image_key(image) else {
            return Ok(true);
        };
        match self.store.get_built_image(&key).await? {
            Some(record) => self.may_use_record(actor, &record).await,
            None => Ok(true),
        }
    }

    /// The references among `images` the actor may use, in their order.
    pub async fn usable_images(
        &self,
        actor: &User,
        images: Vec<String>,
    ) -> CoreResult<Vec<String>> {
        let records: BTreeMap<String, BuiltImage> = self
            .store
            .list_built_images()
            .await?
            .into_iter()
            .map(|r| (r.image.clone(), r))
            .collect();
        let mut usable = Vec::with_capacity(images.len());
        for image in images {
            let record = image_key(&image).and_then(|k| records.get(&k));
            let ok = match record {
                Some(record) => self.may_use_record(actor, record).await?,
                None => true,
            };
            if ok {
                usable.push(image);
            }
        }
        Ok(usable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_for_every_spelling_of_an_image() {
        let key = image_key("foo").unwrap();
        assert_eq!(key, "docker.io/library/foo:latest");
        assert_eq!(image_key("foo:latest").unwrap(), key);
        assert_eq!(image_key("library/foo").unwrap(), key);
        assert_eq!(image_key("docker.io/library/foo:latest").unwrap(), key);
        assert_ne!(image_key("team/foo").unwrap(), key);
        assert_eq!(
            image_key("localhost:5000/foo:1").unwrap(),
            "localhost:5000/foo:1"
        );
    }
}
