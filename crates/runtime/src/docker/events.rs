//! The engine's container events, narrowed to the Berth-labelled containers
//! of this server.

use berth_core::runtime::{EngineEvent, LABEL_APP, RuntimeError};
use bollard::query_parameters::EventsOptions;
use futures::StreamExt;
use futures::stream::BoxStream;

use super::{DockerRuntime, engine};

pub(super) fn watch(
    runtime: &DockerRuntime,
) -> BoxStream<'static, Result<EngineEvent, RuntimeError>> {
    let mut filters = runtime.scoped_filters(&[(LABEL_APP, None)]);
    filters.insert("type".into(), vec!["container".into()]);
    let options = EventsOptions {
        filters: Some(filters),
        ..EventsOptions::default()
    };
    let stream = runtime
        .docker
        .events(Some(options))
        .map(|ev| {
            let ev = ev.map_err(engine)?;
            let actor = ev.actor.unwrap_or_default();
            Ok(EngineEvent {
                container_id: actor.id.unwrap_or_default(),
                action: ev.action.unwrap_or_default(),
                labels: actor.attributes.unwrap_or_default().into_iter().collect(),
            })
        })
        // Every container carries the label; those of no app have it empty.
        .filter(|ev: &Result<EngineEvent, RuntimeError>| {
            let keep = match ev {
                Ok(ev) => ev.labels.get(LABEL_APP).is_some_and(|app| !app.is_empty()),
                Err(_) => true,
            };
            futures::future::ready(keep)
        });
    stream.boxed()
}
