//! An app's logs: its event log and its containers' output, tailed or followed.

use super::{Berth, app_object};
use futures::StreamExt;

use crate::error::CoreResult;
use crate::model::*;

impl Berth {
    /// The app's event log, then recent output of its containers, one line each.
    pub async fn logs(
        &self,
        actor: &User,
        id: &str,
        lines: Option<usize>,
    ) -> CoreResult<Vec<String>> {
        let app = self.app(actor, id, Level::Read).await?;
        let limit = lines.unwrap_or(100).clamp(1, 10_000);
        let mut out: Vec<String> = self
            .store
            .list_events(&app_object(&app), limit as i64)
            .await?
            .into_iter()
            .map(|e| format!("{} deis[api]: {}", clock(e.created), e.message))
            .collect();
        out.extend(self.container_output(&app, limit).await?);
        let skip = out.len().saturating_sub(limit);
        Ok(out.split_off(skip))
    }

    /// The last `limit` lines each of the app's containers wrote, prefixed
    /// with time and `app[type.num]:`.
    pub async fn container_output(&self, app: &App, limit: usize) -> CoreResult<Vec<String>> {
        let mut out = Vec::new();
        let instances = self.store.list_instances(Some(&app.id)).await?;
        for inst in instances {
            let Some(engine_id) = inst.engine_id.as_deref() else {
                continue;
            };
            let Ok(mut stream) = self.runtime.logs(engine_id, Some(limit), false).await else {
                continue;
            };
            while let Some(Ok(line)) = stream.next().await {
                let when = line.timestamp.map(clock).unwrap_or_default();
                out.push(format!(
                    "{when} {}[{}.{}]: {}",
                    app.id, inst.proc_type, inst.num, line.text
                ));
            }
        }
        Ok(out)
    }

    /// New output of the app's current containers, as it is written, one line per item.
    pub async fn follow_logs(
        &self,
        actor: &User,
        id: &str,
    ) -> CoreResult<futures::stream::BoxStream<'static, String>> {
        let app = self.app(actor, id, Level::Read).await?;
        let mut streams = Vec::new();
        for inst in self.store.list_instances(Some(&app.id)).await? {
            let Some(engine_id) = inst.engine_id.as_deref() else {
                continue;
            };
            let Ok(stream) = self.runtime.logs(engine_id, Some(0), true).await else {
                continue;
            };
            let prefix = format!("{}[{}.{}]:", app.id, inst.proc_type, inst.num);
            streams.push(
                stream
                    .filter_map(move |line| {
                        let out = line.ok().map(|l| {
                            format!(
                                "{} {prefix} {}",
                                l.timestamp.map(clock).unwrap_or_default(),
                                l.text
                            )
                        });
                        async move { out }
                    })
                    .boxed(),
            );
        }
        Ok(futures::stream::select_all(streams).boxed())
    }
}

/// The time of day of a log line, as Deis shows it.
fn clock(t: Timestamp) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}
