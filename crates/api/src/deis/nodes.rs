//! The engine's machines, for administrators: `GET /v1/nodes`.

use axum::Json;
use axum::extract::State;

use super::error::{DeisResult, ErrorBody};
use super::views::{Listing, NodeView};
use super::{Caller, views};
use crate::AppState;

/// The engine's machines and what runs on them.
#[utoipa::path(get, path = "/v1/nodes", tag = "deis", operation_id = "deis_nodes_list",
    security(("token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "All of them, as one page", body = Listing<NodeView>),
        (status = 403, description = "Only administrators see them", body = ErrorBody),
        (status = 503, description = "The container engine is not answering", body = ErrorBody)))]
pub async fn list_nodes(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> DeisResult<Json<Listing<NodeView>>> {
    let nodes = s.berth.nodes(&user).await?;
    Ok(Json(views::all(nodes.iter().map(views::node).collect())))
}
