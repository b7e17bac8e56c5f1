//! Every registered user, for administrators: `/v1/users`.

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use super::error::DeisResult;
use super::{Caller, views};
use crate::AppState;

pub async fn list_users(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> DeisResult<Json<Value>> {
    let users = s.berth.users(&user).await?;
    Ok(Json(views::all(users.iter().map(views::user).collect())))
}
