//! The private network of each owner: one bridge per user and server, made
//! on first use, so that containers of different owners cannot reach each
//! other while one owner's containers (and name resolution and outbound
//! traffic) work as on any user-defined bridge.

use std::collections::HashMap;

use berth_core::runtime::RuntimeError;
use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::InspectNetworkOptions;

use super::{DockerRuntime, LABEL_SERVER, classify, has_status};

/// The network of `owner` on this server.
pub(super) fn name(runtime: &DockerRuntime, owner: i64) -> String {
    format!("berth-{}-u{owner}", runtime.server)
}

/// The owner's network, created if the engine does not have it yet.
pub(super) async fn ensure(runtime: &DockerRuntime, owner: i64) -> Result<String, RuntimeError> {
    let name = name(runtime, owner);
    // One create at a time: older engines accept two networks of one name.
    let _guard = runtime.network_lock.lock().await;
    match runtime
        .docker
        .inspect_network(&name, None::<InspectNetworkOptions>)
        .await
    {
        Ok(_) => return Ok(name),
        Err(e) if has_status(&e, 404) => {}
        Err(e) => return Err(classify(e, &name)),
    }
    let request = NetworkCreateRequest {
        name: name.clone(),
        driver: Some("bridge".into()),
        labels: Some(HashMap::from([
            (LABEL_SERVER.to_string(), runtime.server.clone()),
            ("berth.owner".to_string(), owner.to_string()),
        ])),
        options: Some(HashMap::from([(
            "com.docker.network.bridge.enable_icc".to_string(),
            "true".to_string(),
        )])),
        ..NetworkCreateRequest::default()
    };
    match runtime.docker.create_network(request).await {
        Ok(_) => Ok(name),
        Err(e) if has_status(&e, 409) => Ok(name),
        Err(e) => Err(classify(e, &name)),
    }
}
