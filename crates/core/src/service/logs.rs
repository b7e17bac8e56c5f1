//! An app's logs: its event log and its containers' output, tailed or
//! followed, as structured lines each dialect words its own way.

use super::{Berth, app_object};
use futures::StreamExt;

use crate::error::CoreResult;
use crate::model::*;

/// One line of an app's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// When it was written, if known.
    pub time: Option<Timestamp>,
    pub source: LogSource,
    pub text: String,
}

/// Who wrote a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// Berth itself: an event of the app (created, scaled, configured, …).
    Platform,
    /// A container of the app: instance `num` of process type `proc_type`.
    Instance {
        app: String,
        proc_type: String,
        num: u32,
    },
}

impl LogSource {
    fn instance(app: &App, inst: &Instance) -> Self {
        LogSource::Instance {
            app: app.id.clone(),
            proc_type: inst.proc_type.clone(),
            num: inst.num,
        }
    }
}

impl Berth {
    /// The app's event log, then recent output of its containers; the last
    /// `lines` (100 unless given, at most 10,000) of them.
    pub async fn logs(
        &self,
        actor: &User,
        id: &str,
        lines: Option<usize>,
    ) -> CoreResult<Vec<LogEntry>> {
        let app = self.app(actor, id, Level::Read).await?;
        let limit = lines.unwrap_or(100).clamp(1, 10_000);
        let mut out: Vec<LogEntry> = self
            .store
            .list_events(&app_object(&app), limit as i64)
            .await?
            .into_iter()
            .map(|e| LogEntry {
                time: Some(e.created),
                source: LogSource::Platform,
                text: e.message,
            })
            .collect();
        out.extend(self.container_output(&app, limit).await?);
        let skip = out.len().saturating_sub(limit);
        Ok(out.split_off(skip))
    }

    /// The last `limit` lines each of the app's containers wrote.
    pub async fn container_output(&self, app: &App, limit: usize) -> CoreResult<Vec<LogEntry>> {
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
                out.push(LogEntry {
                    time: line.timestamp,
                    source: LogSource::instance(app, &inst),
                    text: line.text,
                });
            }
        }
        Ok(out)
    }

    /// New output of the app's current containers, as it is written, one line per item.
    pub async fn follow_logs(
        &self,
        actor: &User,
        id: &str,
    ) -> CoreResult<futures::stream::BoxStream<'static, LogEntry>> {
        let app = self.app(actor, id, Level::Read).await?;
        let mut streams = Vec::new();
        for inst in self.store.list_instances(Some(&app.id)).await? {
            let Some(engine_id) = inst.engine_id.as_deref() else {
                continue;
            };
            let Ok(stream) = self.runtime.logs(engine_id, Some(0), true).await else {
                continue;
            };
            let source = LogSource::instance(&app, &inst);
            streams.push(
                stream
                    .filter_map(move |line| {
                        let out = line.ok().map(|l| LogEntry {
                            time: l.timestamp,
                            source: source.clone(),
                            text: l.text,
                        });
                        async move { out }
                    })
                    .boxed(),
            );
        }
        Ok(futures::stream::select_all(streams).boxed())
    }
}
