//! Who may act on what: an app's collaborators (`/v1/apps/{id}/perms`) and
//! the administrators (`/v1/admin/perms`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{DeisResult, ErrorBody};
use super::views::{AdminView, Listing};
use super::{Body, Caller, views};
use crate::AppState;

/// A user to share an app with, or to make an administrator.
#[derive(ToSchema)]
#[schema(as = deis::Grantee)]
#[expect(
    dead_code,
    reason = "describes the fields the handler reads one by one"
)]
pub struct Grantee {
    username: String,
}

/// An app's collaborators.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = deis::Collaborators)]
pub struct Collaborators {
    /// Their user names.
    pub users: Vec<String>,
}

/// Who the app is shared with.
#[utoipa::path(get, path = "/v1/apps/{id}/perms", tag = "deis", operation_id = "deis_perms_list",
    params(("id" = String, Path, description = "The app's name")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The collaborators", body = Collaborators),
        (status = 403, description = "The caller may not read the app", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody)))]
pub async fn list_perms(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> DeisResult<Json<Collaborators>> {
    Ok(Json(Collaborators {
        users: s.berth.collaborators(&user, &id).await?,
    }))
}

/// Shares the app with a user.
#[utoipa::path(post, path = "/v1/apps/{id}/perms", tag = "deis", operation_id = "deis_perms_add",
    params(("id" = String, Path, description = "The app's name")),
    request_body(content(
        (Grantee = "application/json"),
        (Grantee = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Shared"),
        (status = 400, description = "No user name", body = ErrorBody),
        (status = 403, description = "Only the app's owner or an administrator shares it", body = ErrorBody),
        (status = 404, description = "No such app or user", body = ErrorBody)))]
pub async fn add_perm(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> DeisResult<StatusCode> {
    s.berth.share(&user, &id, body.str("username")?).await?;
    Ok(StatusCode::CREATED)
}

/// Stops sharing the app with a user (also served as `POST`, as the seed documents it).
#[utoipa::path(delete, path = "/v1/apps/{id}/perms/{username}", tag = "deis",
    operation_id = "deis_perms_remove",
    params(
        ("id" = String, Path, description = "The app's name"),
        ("username" = String, Path, description = "The collaborator")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "No longer shared"),
        (status = 403, description = "Only the app's owner or an administrator unshares it", body = ErrorBody),
        (status = 404, description = "No such app, or not shared with that user", body = ErrorBody)))]
pub async fn remove_perm(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, username)): Path<(String, String)>,
) -> DeisResult<StatusCode> {
    s.berth.unshare(&user, &id, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The administrators.
#[utoipa::path(get, path = "/v1/admin/perms", tag = "deis", operation_id = "deis_admins_list",
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "All of them, as one page", body = Listing<AdminView>),
        (status = 403, description = "Only administrators see them", body = ErrorBody)))]
pub async fn list_admins(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> DeisResult<Json<Listing<AdminView>>> {
    let admins = s.berth.admins(&user).await?;
    Ok(Json(views::all(admins.iter().map(views::admin).collect())))
}

/// Makes a user an administrator.
#[utoipa::path(post, path = "/v1/admin/perms", tag = "deis", operation_id = "deis_admins_add",
    request_body(content(
        (Grantee = "application/json"),
        (Grantee = "application/x-www-form-urlencoded"))),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The user is an administrator"),
        (status = 400, description = "No user name", body = ErrorBody),
        (status = 403, description = "Only administrators make administrators", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
pub async fn add_admin(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    body: Body,
) -> DeisResult<StatusCode> {
    s.berth
        .set_admin(&user, body.str("username")?, true)
        .await?;
    Ok(StatusCode::CREATED)
}

/// Makes an administrator a plain user.
#[utoipa::path(delete, path = "/v1/admin/perms/{username}", tag = "deis",
    operation_id = "deis_admins_remove",
    params(("username" = String, Path, description = "The administrator")),
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "No longer an administrator"),
        (status = 403, description = "Only administrators do this", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
pub async fn remove_admin(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(username): Path<String>,
) -> DeisResult<StatusCode> {
    s.berth.set_admin(&user, &username, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
