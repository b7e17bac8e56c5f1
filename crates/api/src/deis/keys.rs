//! The caller's SSH keys: `/v1/keys`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::paging::PageQuery;
use super::views::{KeyView, Listing};
use super::{Body, Caller, Paging, views};
use crate::AppState;

/// An SSH public key: `POST /v1/keys`.
#[derive(ToSchema)]
#[schema(as = deis::KeyAddition)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct KeyAddition {
    /// The name to file it under.
    id: String,
    /// The key, as `ssh-rsa AAAA… comment`.
    public: String,
}

/// The caller's SSH keys, a page at a time.
#[utoipa::path(get, path = "/v1/keys", tag = "deis", operation_id = "deis_keys_list",
    params(PageQuery),
    security(("token" = []), ("bearer" = [])),
    responses((status = 200, description = "One page of keys", body = Listing<KeyView>)))]
pub async fn list_keys(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    paging: Paging,
) -> DeisResult<Json<Listing<KeyView>>> {
    let page = s
        .berth
        .list_keys(&user, paging.offset(), paging.limit())
        .await?;
    Ok(Json(views::list(page, &paging.link(), views::key)))
}

/// Adds an SSH key.
#[utoipa::path(post, path = "/v1/keys", tag = "deis", operation_id = "deis_keys_add",
    request_body(content(
        (KeyAddition = "application/json"),
        (KeyAddition = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The key", body = KeyView),
        (status = 400, description = "A field is missing, or the key cannot be read", body = ErrorBody),
        (status = 409, description = "A key of that name or that key exists", body = ErrorBody)))]
pub async fn add_key(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<(StatusCode, Json<KeyView>)> {
    let key = s
        .berth
        .add_key(&user, body.str("id")?, body.str("public")?)
        .await?;
    Ok((StatusCode::CREATED, Json(views::key(&key))))
}

/// Removes one of the caller's SSH keys.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "deis", operation_id = "deis_keys_remove",
    params(("id" = String, Path, description = "The name it is filed under")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "It is gone"),
        (status = 404, description = "No such key of the caller's", body = ErrorBody)))]
pub async fn remove_key(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.remove_key(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
