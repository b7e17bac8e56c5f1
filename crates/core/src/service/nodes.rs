//! The engine's machines, for administrators: `GET /v1/nodes`, `berth nodes`.

use crate::error::CoreResult;
use crate::model::User;
use crate::runtime::NodeInfo;

use super::Berth;

impl Berth {
    /// Every node the runtime runs work on, by name.
    pub async fn nodes(&self, actor: &User) -> CoreResult<Vec<NodeInfo>> {
        self.require_admin(actor)?;
        let mut nodes = self.runtime.nodes().await?;
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(nodes)
    }
}
