//! The image allow-list: list, add (one or in bulk), get and delete;
//! administrators change it. With the allow-list off (`berth serve
//! --tapis-image-allow-list off`) the listing also shows the images the
//! engine has, which pods may then use.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use berth_core::CoreError;
use berth_core::pods::images;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::TapisResult;
use super::openapi::Refusals;
use super::views::{self, Envelope, Image, ok};
use super::{Body, Caller};
use crate::AppState;
use crate::common::Fields;

const NEW_IMAGE: [&str; 3] = ["image", "tenants", "description"];

/// An image for the allow-list.
#[derive(ToSchema)]
#[schema(as = TapisNewImage)]
#[allow(dead_code)]
pub struct NewImage {
    /// The image reference, e.g. `busybox:latest`.
    image: String,
    /// The tenants it applies to; empty or `*`: every tenant.
    tenants: Option<Vec<String>>,
    description: Option<String>,
}

fn new_image(f: &Fields<'_>) -> TapisResult<images::NewImage> {
    f.only(&NEW_IMAGE)?;
    let tenants = match f.map().get("tenants") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| CoreError::invalid_field("tenants", "must be a list of strings"))?,
    };
    Ok(images::NewImage {
        image: f.str("image")?.to_string(),
        tenants,
        description: f.opt_str("description")?.unwrap_or_default().to_string(),
    })
}

/// The images pods may use: the allow-list (and, with it off, the engine's images).
#[utoipa::path(get, path = "/v3/pods/images", tag = "tapis", operation_id = "tapis_images_list",
    responses((status = 200, description = "The images", body = Envelope<Vec<Image>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn list_images(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Envelope<Vec<Image>>>> {
    let listed = s.berth.allowed_images().await?;
    let mut result: Vec<Image> = listed.iter().map(views::allowed_image).collect();
    if !s.berth.settings.pod_image_allow_list {
        let tenant = &s.berth.settings.tenant;
        for image in s.berth.pod_images(&user).await? {
            if !listed.iter().any(|e| e.image == image) {
                result.push(views::image(&image, tenant));
            }
        }
    }
    Ok(ok("Images retrieved successfully.", result))
}

/// Adds an image to the allow-list; administrators only.
#[utoipa::path(post, path = "/v3/pods/images", tag = "tapis", operation_id = "tapis_images_add",
    request_body = NewImage,
    responses((status = 200, description = "The image added", body = Envelope<Option<Image>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn add_image(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Envelope<Option<Image>>>> {
    let new = new_image(&body.fields()?)?;
    let added = s.berth.add_allowed_images(&user, vec![new], false).await?;
    let result = added.first().map(views::allowed_image);
    Ok(ok("Image added successfully.", result))
}

/// Adds a JSON list of images to the allow-list; administrators only.
/// `skip_duplicates=true` leaves out those already listed instead of
/// refusing the whole list.
#[utoipa::path(post, path = "/v3/pods/images/bulk", tag = "tapis", operation_id = "tapis_images_add_bulk",
    params(("skip_duplicates" = Option<bool>, Query, description = "Leave out images already listed")),
    request_body = Vec<NewImage>,
    responses((status = 200, description = "The images added", body = Envelope<Vec<Image>>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn add_images(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Query(q): Query<HashMap<String, String>>,
    body: Body,
) -> TapisResult<Json<Envelope<Vec<Image>>>> {
    let skip_duplicates = match q.get("skip_duplicates") {
        Some(text) => crate::common::parse_flag("skip_duplicates", text)?,
        None => false,
    };
    let list = body
        .0
        .as_array()
        .ok_or_else(|| CoreError::invalid("the request body must be a JSON list of images"))?;
    let mut images = Vec::new();
    for item in list {
        let fields = Fields::of(
            item,
            "image",
            <super::Tapis as crate::common::Dialect>::FIELDS,
        )?;
        images.push(new_image(&fields)?);
    }
    let added = s
        .berth
        .add_allowed_images(&user, images, skip_duplicates)
        .await?;
    Ok(ok(
        "Images added successfully.",
        added.iter().map(views::allowed_image).collect(),
    ))
}

/// An allow-list entry.
#[utoipa::path(get, path = "/v3/pods/images/{image_id}", tag = "tapis", operation_id = "tapis_image_get",
    params(("image_id" = String, Path, description = "The image reference, slashes and all")),
    responses((status = 200, description = "The image", body = Envelope<Image>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn get_image(
    State(s): State<AppState>,
    Caller { .. }: Caller,
    Path(image): Path<String>,
) -> TapisResult<Json<Envelope<Image>>> {
    let entry = s.berth.allowed_image(&image).await?;
    Ok(ok(
        "Image retrieved successfully.",
        views::allowed_image(&entry),
    ))
}

/// Takes an image off the allow-list; administrators only.
#[utoipa::path(delete, path = "/v3/pods/images/{image_id}", tag = "tapis", operation_id = "tapis_image_delete",
    params(("image_id" = String, Path, description = "The image reference, slashes and all")),
    responses((status = 200, description = "Deleted; `result` is an empty string", body = Envelope<String>), Refusals),
    security(("tapisToken" = []), ("bearer" = [])))]
pub async fn delete_image(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(image): Path<String>,
) -> TapisResult<Json<Envelope<String>>> {
    s.berth.remove_allowed_image(&user, &image).await?;
    Ok(ok("Image successfully deleted.", String::new()))
}
