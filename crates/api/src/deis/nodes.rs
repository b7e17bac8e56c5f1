//! The engine's machines, for administrators: `GET /v1/nodes`.

use axum::Json;
use axum::extract::State;
use berth_core::runtime::NodeInfo;
use serde_json::{Value, json};

use super::error::DeisResult;
use super::{Caller, views};
use crate::AppState;

pub async fn list_nodes(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> DeisResult<Json<Value>> {
    let nodes = s.berth.nodes(&user).await?;
    Ok(Json(views::all(nodes.iter().map(node).collect())))
}

fn node(n: &NodeInfo) -> Value {
    json!({
        "name": n.name,
        "state": if n.ready { "ready" } else { "down" },
        "availability": n.availability,
        "labels": n.labels,
        "address": n.address,
        "role": n.role,
        "tasks": n.tasks,
    })
}
