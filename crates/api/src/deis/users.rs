//! Every registered user, for administrators: `/v1/users`.

use axum::Json;
use axum::extract::State;

use super::error::{DeisResult, ErrorBody};
use super::views::{Listing, UserView};
use super::{Caller, views};
use crate::AppState;

/// Every account.
#[utoipa::path(get, path = "/v1/users", tag = "deis", operation_id = "deis_users_list",
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "All of them, as one page", body = Listing<UserView>),
        (status = 403, description = "Only administrators see them", body = ErrorBody)))]
pub async fn list_users(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> DeisResult<Json<Listing<UserView>>> {
    let users = s.berth.users(&user).await?;
    Ok(Json(views::all(users.iter().map(views::user).collect())))
}
