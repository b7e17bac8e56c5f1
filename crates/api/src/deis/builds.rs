//! An app's builds: `/v1/apps/{id}/builds`; each new one makes a release.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use berth_core::CoreError;
use berth_core::rules;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::paging::PageQuery;
use super::views::{BuildView, Listing};
use super::{Body, Caller, Paging, views};
use crate::AppState;

/// A new build: `POST /v1/apps/{id}/builds`.
#[derive(ToSchema)]
#[schema(as = deis::BuildCreation)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct BuildCreation {
    /// The image to run.
    image: String,
    /// The command of each process type, `{type: command}`, or that object
    /// as a JSON-encoded string; the image's own command runs as `cmd` when absent.
    procfile: Option<serde_json::Value>,
}

/// The app's builds, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/apps/{id}/builds", tag = "deis", operation_id = "deis_builds_list",
    params(("id" = String, Path, description = "The app's name"), PageQuery),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of builds", body = Listing<BuildView>),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn list_builds(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    paging: Paging,
) -> DeisResult<Json<Listing<BuildView>>> {
    let page = s
        .berth
        .list_builds(&user, &id, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::build)))
}

/// `{"image": ref, "procfile": {type: command}}`; the procfile may also be a JSON-encoded string.
#[utoipa::path(post, path = "/v1/apps/{id}/builds", tag = "deis", operation_id = "deis_builds_create",
    params(("id" = String, Path, description = "The app's name")),
    request_body(content(
        (BuildCreation = "application/json"),
        (BuildCreation = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The build; it made a new release", body = BuildView,
            headers(
                ("Deis-Release" = i64, description = "The new release's version"),
                ("X-Deis-Release" = i64, description = "The same, as older clients read it"))),
        (status = 400, description = "A field is missing or invalid, or the image cannot be pulled", body = ErrorBody),
        (status = 403, description = "The caller may not deploy to the app, or the image is not allowed", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
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
