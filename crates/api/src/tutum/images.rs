//! Images and their tags at `/api/v1/image/<repository>/` and
//! `/api/v1/image/<repository>/tag/<tag>/`, the resources an application's
//! `image_tag` names: what the engine has and the caller may use.

use axum::Json;
use axum::extract::{Path, State};
use berth_core::CoreError;
use serde_json::Value;

use super::error::TutumResult;
use super::{Caller, views};
use crate::AppState;

/// `GET /api/v1/image/{repository}[/tag/{tag}]/`; a repository name may
/// hold `/` (and a registry's `:port`), so the path is read whole.
pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(name): Path<String>,
) -> TutumResult<Json<Value>> {
    let name = name.trim_end_matches('/');
    let (repo, tag) = match name.rsplit_once("/tag/") {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (name, None),
    };
    let tags = s.berth.engine_image_tags(&user, repo).await?;
    match tag {
        Some(tag) if tags.iter().any(|t| t == tag) => Ok(Json(views::tag(repo, tag))),
        Some(tag) => Err(CoreError::not_found(format!("image {repo}:{tag} not found")).into()),
        None if !tags.is_empty() => Ok(Json(views::image(repo, &tags))),
        None => Err(CoreError::not_found(format!("image {repo} not found")).into()),
    }
}
