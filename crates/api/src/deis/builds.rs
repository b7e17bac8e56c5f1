//! An app's builds: `/v1/apps/{id}/builds`; each new one makes a release.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use berth_core::CoreError;
use berth_core::rules;
use serde_json::Value;

use super::error::DeisResult;
use super::{Body, Caller, Paging, views};
use crate::AppState;

pub async fn list_builds(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    paging: Paging,
) -> DeisResult<Json<Value>> {
    let page = s
        .berth
        .list_builds(&user, &id, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::build)))
}

/// `{"image": ref, "procfile": {type: command}}`; the procfile may also be a JSON-encoded string.
pub async fn create_build(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<Response> {
    let image = body.str("image")?;
    let mut procfile = BTreeMap::new();
    for (t, cmd) in rules::patch_section("procfile", body.object()?.get("procfile"))? {
        let cmd = cmd.ok_or_else(|| {
            CoreError::invalid_field("procfile", format!("command for {t} is empty"))
        })?;
        procfile.insert(t.clone(), rules::value_text("procfile", &t, &cmd)?);
    }
    let (build, release) = s.berth.create_build(&user, &id, image, procfile).await?;
    Ok(views::release_created(views::build(&build), &release))
}
