//! The private network of each owner: one bridge per user and server (an
//! attachable overlay when the engine manages a swarm), made on first use,
//! so that containers of different owners cannot reach each other while one
//! owner's containers (and name resolution and outbound traffic) work as on
//! any user-defined network.

use std::collections::HashMap;

use berth_core::runtime::RuntimeError;
use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::InspectNetworkOptions;

use super::{DockerRuntime, LABEL_SERVER, classify, has_status};

/// The network of `owner` on this server.
pub(super) fn name(runtime: &DockerRuntime, owner: i64) -> String {
    format!("berth-{}-u{owner}", runtime.server)
}

/// The owner's network, created if the engine does not have it yet. When
/// the engine has no address range left for another bridge, the owner's
/// containers go to one shared bridge on which no container reaches
/// another (or, without room even for that, to no network): tenants stay
/// apart, at the cost of one owner's containers not reaching each other.
pub(super) async fn ensure(runtime: &DockerRuntime, owner: i64) -> Result<String, RuntimeError> {
    if let Some(known) = known(runtime).get(&owner) {
        return Ok(known.clone());
    }
    let network = find_or_create(runtime, owner).await?;
    known(runtime).insert(owner, network.clone());
    Ok(network)
}

/// Forgets the owner's network (the engine no longer has it): the next
/// container of theirs finds or creates it again.
pub(super) fn forget(runtime: &DockerRuntime, owner: i64) {
    known(runtime).remove(&owner);
}

fn known(runtime: &DockerRuntime) -> std::sync::MutexGuard<'_, HashMap<i64, String>> {
    runtime
        .owner_networks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

async fn find_or_create(runtime: &DockerRuntime, owner: i64) -> Result<String, RuntimeError> {
    let name = name(runtime, owner);
    match create(runtime, &name, Some(owner), true).await {
        // An overlay cannot keep its members apart: no network at all does.
        Err(e) if out_of_addresses(&e) && runtime.network_driver == "overlay" => {
            tracing::warn!(network = %name, "no address range left for an owner network; the owner's tasks get none");
            Ok("none".to_string())
        }
        Err(e) if out_of_addresses(&e) => {
            tracing::warn!(network = %name, "no address range left for an owner network; using the isolated shared bridge");
            let shared = format!("berth-{}-isolated", runtime.server);
            match create(runtime, &shared, None, false).await {
                // Not even one more bridge: no network at all keeps tenants apart.
                Err(e) if out_of_addresses(&e) => Ok("none".to_string()),
                other => other,
            }
        }
        other => other,
    }
}

/// Whether the engine refused a bridge for want of an address range (it
/// answers 404 then).
fn out_of_addresses(e: &RuntimeError) -> bool {
    matches!(e, RuntimeError::NotFound(m) | RuntimeError::Engine(m) if m.contains("address pool"))
}

/// A bridge labelled for this server, created unless it exists; `icc`
/// says whether its containers may reach each other.
async fn create(
    runtime: &DockerRuntime,
    name: &str,
    owner: Option<i64>,
    icc: bool,
) -> Result<String, RuntimeError> {
    let name = name.to_string();
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
        labels: Some(HashMap::from([
            (LABEL_SERVER.to_string(), runtime.server.clone()),
            (
                "berth.owner".to_string(),
                owner.map(|o| o.to_string()).unwrap_or_default(),
            ),
        ])),
        driver: Some(runtime.network_driver.into()),
        attachable: (runtime.network_driver == "overlay").then_some(true),
        // An overlay has no such switch: the isolated fallback is bridge-only.
        options: (runtime.network_driver == "bridge").then(|| {
            HashMap::from([(
                "com.docker.network.bridge.enable_icc".to_string(),
                icc.to_string(),
            )])
        }),
        ..NetworkCreateRequest::default()
    };
    match runtime.docker.create_network(request).await {
        Ok(_) => Ok(name),
        Err(e) if has_status(&e, 409) => Ok(name),
        Err(e) => Err(classify(e, &name)),
    }
}
