//! Changes to Berth's services as events. The swarm reports no task events
//! through the manager's event stream (a task's container events reach only
//! its own node's engine), so the driver polls the tasks once a second and
//! reports every service whose current task changed: a start, an exit, a
//! death with its node, a move to another node.

use std::collections::HashMap;
use std::time::Duration;

use berth_core::runtime::{EngineEvent, EngineState, LABEL_APP, RuntimeError};
use bollard::Docker;
use futures::StreamExt;
use futures::stream::BoxStream;

use super::{SwarmRuntime, tasks};

const POLL: Duration = Duration::from_secs(1);

/// What a service's current task is, as far as a change matters.
type Seen = HashMap<String, (String, EngineState)>;

pub(super) fn watch(
    runtime: &SwarmRuntime,
) -> BoxStream<'static, Result<EngineEvent, RuntimeError>> {
    let docker = runtime.docker.clone();
    let server = runtime.server.clone();
    futures::stream::unfold(
        (docker, server, None::<Seen>),
        |(docker, server, seen)| async move {
            if seen.is_some() {
                tokio::time::sleep(POLL).await;
            }
            let events = match snapshot(&docker, &server).await {
                Ok((now, labels)) => {
                    let events = changes(seen.as_ref(), &now, &labels);
                    return Some((Ok(events), (docker, server, Some(now))));
                }
                Err(e) => Err(e),
            };
            // The stream ends after an error; the reconciler subscribes again.
            Some((events, (docker, server, seen)))
        },
    )
    .scan(false, |failed, item| {
        let done = *failed;
        *failed = item.is_err();
        futures::future::ready((!done).then_some(item))
    })
    .flat_map(|item| match item {
        Ok(events) => futures::stream::iter(events.into_iter().map(Ok)).boxed(),
        Err(e) => futures::stream::once(async { Err(e) }).boxed(),
    })
    .boxed()
}

type Labels = HashMap<String, std::collections::BTreeMap<String, String>>;

async fn snapshot(docker: &Docker, server: &str) -> Result<(Seen, Labels), RuntimeError> {
    let found = tasks::services_with_tasks(docker, server, &[(LABEL_APP, None)]).await?;
    let mut seen = Seen::new();
    let mut labels = Labels::new();
    for (service, of) in found {
        let Some(id) = service.id.clone() else {
            continue;
        };
        let task = tasks::pick(&of)
            .map(|t| (t.id, t.state))
            .unwrap_or_else(|| (String::new(), EngineState::Created));
        seen.insert(id.clone(), task);
        labels.insert(
            id,
            service
                .spec
                .and_then(|s| s.labels)
                .unwrap_or_default()
                .into_iter()
                .collect(),
        );
    }
    Ok((seen, labels))
}

/// The events between two snapshots; none for the first one (there is
/// nothing to compare it with, and the reconciler passes at start anyway).
fn changes(before: Option<&Seen>, now: &Seen, labels: &Labels) -> Vec<EngineEvent> {
    let Some(before) = before else {
        return Vec::new();
    };
    let mut events = Vec::new();
    for (id, task) in now {
        if before.get(id) != Some(task) {
            events.push(EngineEvent {
                container_id: id.clone(),
                action: action(task.1).to_string(),
                labels: labels.get(id).cloned().unwrap_or_default(),
            });
        }
    }
    for id in before.keys().filter(|id| !now.contains_key(*id)) {
        events.push(EngineEvent {
            container_id: id.clone(),
            action: "destroy".to_string(),
            labels: Default::default(),
        });
    }
    events
}

/// The container event a task's new state reads as.
fn action(state: EngineState) -> &'static str {
    match state {
        EngineState::Running => "start",
        EngineState::Exited | EngineState::Dead => "die",
        EngineState::Removing => "destroy",
        _ => "create",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_task_is_an_event_and_the_first_look_is_none() {
        let first: Seen = HashMap::from([("s1".into(), ("t1".into(), EngineState::Running))]);
        assert!(changes(None, &first, &Labels::new()).is_empty());
        let moved: Seen = HashMap::from([("s1".into(), ("t2".into(), EngineState::Restarting))]);
        let events = changes(Some(&first), &moved, &Labels::new());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, "create");
        assert_eq!(changes(Some(&moved), &moved, &Labels::new()), Vec::new());
        let gone = changes(Some(&moved), &Seen::new(), &Labels::new());
        assert_eq!(gone[0].action, "destroy");
    }
}
