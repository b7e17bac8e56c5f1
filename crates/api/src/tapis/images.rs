//! The image allow-list: list, add (one or in bulk), get and delete;
//! administrators change it. With the allow-list off (`berth serve
//! --tapis-image-allow-list off`) the listing also shows the images the
//! engine has, which pods may then use.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use berth_core::CoreError;
use berth_core::pods::images::NewImage;
use serde_json::{Value, json};

use super::error::TapisResult;
use super::views::{self, ok};
use super::{Body, Caller};
use crate::AppState;
use crate::common::Fields;

const NEW_IMAGE: [&str; 3] = ["image", "tenants", "description"];

fn new_image(f: &Fields<'_>) -> TapisResult<NewImage> {
    f.only(&NEW_IMAGE)?;
    let tenants = match f.map().get("tenants") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| CoreError::invalid_field("tenants", "must be a list of strings"))?,
    };
    Ok(NewImage {
        image: f.str("image")?.to_string(),
        tenants,
        description: f.opt_str("description")?.unwrap_or_default().to_string(),
    })
}

pub async fn list_images(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> TapisResult<Json<Value>> {
    let listed = s.berth.allowed_images().await?;
    let mut result: Vec<Value> = listed.iter().map(views::allowed_image).collect();
    if !s.berth.settings.pod_image_allow_list {
        let tenant = &s.berth.settings.tenant;
        for image in s.berth.pod_images(&user).await? {
            if !listed.iter().any(|e| e.image == image) {
                result.push(views::image(&image, tenant));
            }
        }
    }
    Ok(ok("Images retrieved successfully.", Value::Array(result)))
}

pub async fn add_image(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> TapisResult<Json<Value>> {
    let new = new_image(&body.fields()?)?;
    let added = s.berth.add_allowed_images(&user, vec![new], false).await?;
    let result = added
        .first()
        .map(views::allowed_image)
        .unwrap_or(json!(null));
    Ok(ok("Image added successfully.", result))
}

/// A JSON list of new images; `skip_duplicates=true` leaves out those
/// already listed instead of refusing the whole list.
pub async fn add_images(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Query(q): Query<HashMap<String, String>>,
    body: Body,
) -> TapisResult<Json<Value>> {
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
        Value::Array(added.iter().map(views::allowed_image).collect()),
    ))
}

pub async fn get_image(
    State(s): State<AppState>,
    Caller { .. }: Caller,
    Path(image): Path<String>,
) -> TapisResult<Json<Value>> {
    let entry = s.berth.allowed_image(&image).await?;
    Ok(ok(
        "Image retrieved successfully.",
        views::allowed_image(&entry),
    ))
}

pub async fn delete_image(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(image): Path<String>,
) -> TapisResult<Json<Value>> {
    s.berth.remove_allowed_image(&user, &image).await?;
    Ok(ok("Image successfully deleted.", json!("")))
}
