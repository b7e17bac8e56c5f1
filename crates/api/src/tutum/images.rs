//! Images and their tags at `/api/v1/image/<repository>/` and
//! `/api/v1/image/<repository>/tag/<tag>/`, the resources an application's
//! `image_tag` names: what the engine has and the caller may use.

use super::error::{ErrorBody, TutumResult};
use super::openapi::{CallerRefusals, EngineDown};
use super::views::ImageOrTag;
use super::{Caller, views};
use crate::AppState;
use axum::Json;
use axum::extract::{Path, State};
use berth_core::CoreError;

/// An image the engine has and the caller may use, or one of its tags.
///
/// `/api/v1/image/{repository}[/tag/{tag}]/`. A repository name may hold
/// `/` (and a registry's `:port`), so the path is read whole.
#[utoipa::path(get, path = "/api/v1/image/{name}", tag = "tutum",
    operation_id = "tutum_images_detail",
    params(("name" = String, Path, description = "`<repository>` or `<repository>/tag/<tag>`; the repository may hold `/`")),
    responses(
        (status = 200, description = "The image, or the tag", body = ImageOrTag),
        (status = 404, description = "No such image or tag on the engine", body = ErrorBody),
        CallerRefusals,
        EngineDown,
    ),
    security(("apiKey" = []), ("basic" = []), ("bearer" = [])))]
pub async fn detail(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(name): Path<String>,
) -> TutumResult<Json<ImageOrTag>> {
    let name = name.trim_end_matches('/');
    let (repo, tag) = match name.rsplit_once("/tag/") {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (name, None),
    };
    let tags = s.berth.engine_image_tags(&user, repo).await?;
    match tag {
        Some(tag) if tags.iter().any(|t| t == tag) => {
            Ok(Json(ImageOrTag::Tag(views::tag(repo, tag))))
        }
        Some(tag) => Err(CoreError::not_found(format!("image {repo}:{tag} not found")).into()),
        None if !tags.is_empty() => Ok(Json(ImageOrTag::Image(views::image(repo, &tags)))),
        None => Err(CoreError::not_found(format!("image {repo} not found")).into()),
    }
}
