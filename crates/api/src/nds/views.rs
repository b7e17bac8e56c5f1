//! How NDS answers render jobs, containers, resource use, images, data
//! sets and downloads.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use berth_core::datasets::{Dataset, DatasetSummary};
use berth_core::jobs::{ObservedJob, ScriptJob, StopOutcome};
use berth_core::model::rfc3339;
use berth_core::model::{JobState, Timestamp};
use berth_core::runtime::{EngineState, FsChange, FsChangeKind};
use serde_json::{Value, json};

fn time(t: Option<Timestamp>) -> Value {
    t.map(rfc3339).map_or(Value::Null, Value::String)
}

/// NDS knows four states: a job not yet running is UNKNOWN, a stopped one FAILED.
pub fn state_name(state: JobState) -> &'static str {
    match state {
        JobState::Pending => "UNKNOWN",
        JobState::Running => "RUNNING",
        JobState::Completed => "COMPLETED",
        JobState::Failed | JobState::Cancelled => "FAILED",
    }
}

fn engine_state_name(state: EngineState) -> &'static str {
    match state {
        EngineState::Created => "created",
        EngineState::Running => "running",
        EngineState::Paused => "paused",
        EngineState::Restarting => "restarting",
        EngineState::Removing => "removing",
        EngineState::Exited => "exited",
        EngineState::Dead => "dead",
    }
}

pub fn status(job: &ScriptJob) -> Value {
    json!({
        "job_id": job.job.uuid.to_string(),
        "cont_id": job.container_id,
        "worker": job.node,
        "state": state_name(job.job.state),
        "exit_code": job.job.exit_code,
        "created": time(Some(job.job.created)),
        "started": time(job.started),
        "finished": time(job.job.finished),
    })
}

pub fn info(observed: &ObservedJob) -> Value {
    let job = &observed.job;
    let container = observed.container.as_ref();
    json!({
        "cont_id": job.container_id,
        "job_id": job.job.uuid.to_string(),
        "name": container.map(|c| c.name.clone()),
        "image": job.job.image,
        "command": job.job.command,
        "script": job.script_name,
        "data": job.dataset,
        "state": state_name(job.job.state),
        "container_state": container.map(|c| engine_state_name(c.state)),
        "exit_code": job.job.exit_code,
        "created": time(Some(job.job.created)),
        "started": time(job.started),
        "finished": time(job.job.finished),
        "worker": job.node,
    })
}

/// A job container and when it was last in use (now, while it runs).
pub fn last_use(observed: &ObservedJob) -> Option<Value> {
    let job = &observed.job;
    let last_used = job.job.finished.or(job.started).unwrap_or(job.job.created);
    Some(json!({
        "cont_id": job.container_id.as_ref()?,
        "job_id": job.job.uuid.to_string(),
        "image": job.job.image,
        "state": state_name(job.job.state),
        "running": job.job.state == JobState::Running,
        "last_used": time(Some(last_used)),
    }))
}

pub fn container(job: &ScriptJob) -> Option<Value> {
    Some(json!({
        "cont_id": job.container_id.as_ref()?,
        "job_id": job.job.uuid.to_string(),
        "image": job.job.image,
        "state": state_name(job.job.state),
        "created": time(Some(job.job.created)),
    }))
}

pub fn change(change: &FsChange) -> Value {
    let kind = match change.kind {
        FsChangeKind::Added => "A",
        FsChangeKind::Changed => "C",
        FsChangeKind::Deleted => "D",
    };
    json!({"path": change.path, "kind": kind})
}

/// The last sample; every figure is null when none was ever taken.
pub fn metrics(job: &ScriptJob) -> Value {
    let m = job.metrics.as_ref();
    json!({
        "cont_id": job.container_id,
        "job_id": job.job.uuid.to_string(),
        "state": state_name(job.job.state),
        "sampled": time(m.map(|m| m.sampled)),
        "cpu_percent": m.map(|m| m.cpu_percent),
        "memory_usage": m.map(|m| m.memory_usage),
        "memory_limit": m.map(|m| m.memory_limit),
        "net_rx": m.map(|m| m.net_rx),
        "net_tx": m.map(|m| m.net_tx),
        "block_read": m.map(|m| m.block_read),
        "block_write": m.map(|m| m.block_write),
    })
}

/// `{"state": "success"|"failed"|"UNKNOWN", "msg"|"error"}`.
pub fn stop_outcome(outcome: &StopOutcome) -> Value {
    match outcome {
        StopOutcome::Stopped => json!({"state": "success", "msg": "the job was stopped"}),
        StopOutcome::AlreadyFinished(state) => json!({
            "state": "failed",
            "error": format!("the job has already finished ({})", state_name(*state)),
        }),
        StopOutcome::Refused(why) => json!({"state": "failed", "error": why}),
        StopOutcome::Gone => {
            json!({"state": "UNKNOWN", "error": "the job's container no longer exists"})
        }
    }
}

pub fn image(name: &str, tag: &str) -> Value {
    json!({"image_name": name, "image_tag": tag})
}

pub fn dataset(d: &Dataset, url: &str) -> Value {
    json!({"name": d.name, "url": url, "shared": d.shared})
}

pub fn dataset_added(summary: &DatasetSummary, url: &str) -> Value {
    json!({
        "name": summary.name,
        "url": url,
        "files": summary.files,
        "bytes": summary.bytes,
    })
}

/// Bytes sent as a file named `name`.
pub fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    // The name goes in a quoted header value: keep it to harmless characters.
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
