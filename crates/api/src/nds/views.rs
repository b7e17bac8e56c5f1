//! How NDS answers render jobs, containers, resource use, images, data
//! sets and downloads, as the types the answers are serialised from and
//! their OpenAPI schemas are derived from. Fields are declared in
//! alphabetical order: that is the order the answers have always had on
//! the wire.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use berth_core::datasets::{Dataset, DatasetSummary};
use berth_core::jobs::{ObservedJob, ScriptJob, StopOutcome};
use berth_core::model::rfc3339;
use berth_core::model::{JobState, Timestamp};
use berth_core::runtime::{EngineState, FsChange, FsChangeKind};
use serde::Serialize;
use utoipa::ToSchema;

fn time(t: Option<Timestamp>) -> Option<String> {
    t.map(rfc3339)
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

/// A refusal.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Error)]
pub struct ErrorBody {
    /// What was wrong with the request.
    pub error: String,
}

/// A job submitted.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Submitted)]
pub struct Submitted {
    /// A uuid.
    pub job_id: String,
}

/// A job deleted.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Deleted)]
pub struct Deleted {
    pub job_id: String,
    /// `job deleted`.
    pub msg: &'static str,
}

/// What a job wrote to its standard output.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Stdout)]
pub struct Stdout {
    pub stdout: String,
}

/// A job's state.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Status)]
pub struct Status {
    /// The job's container, once it has one.
    cont_id: Option<String>,
    created: String,
    exit_code: Option<i64>,
    finished: Option<String>,
    job_id: String,
    started: Option<String>,
    /// `UNKNOWN` (not running yet), `RUNNING`, `COMPLETED` or `FAILED`.
    state: &'static str,
    /// The node it runs on.
    worker: Option<String>,
}

pub fn status(job: &ScriptJob) -> Status {
    Status {
        cont_id: job.container_id.clone(),
        created: rfc3339(job.job.created),
        exit_code: job.job.exit_code,
        finished: time(job.job.finished),
        job_id: job.job.uuid.to_string(),
        started: time(job.started),
        state: state_name(job.job.state),
        worker: job.node.clone(),
    }
}

/// One job's container, in full.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Info)]
pub struct Info {
    command: String,
    cont_id: Option<String>,
    /// The engine's state of the container, while it exists.
    container_state: Option<&'static str>,
    created: String,
    /// The data set the job reads.
    data: Option<String>,
    exit_code: Option<i64>,
    finished: Option<String>,
    image: String,
    job_id: String,
    /// The container's name, while it exists.
    name: Option<String>,
    /// The script's file name.
    script: String,
    started: Option<String>,
    /// `UNKNOWN`, `RUNNING`, `COMPLETED` or `FAILED`.
    state: &'static str,
    worker: Option<String>,
}

pub fn info(observed: &ObservedJob) -> Info {
    let job = &observed.job;
    let container = observed.container.as_ref();
    Info {
        command: job.job.command.clone(),
        cont_id: job.container_id.clone(),
        container_state: container.map(|c| engine_state_name(c.state)),
        created: rfc3339(job.job.created),
        data: job.dataset.clone(),
        exit_code: job.job.exit_code,
        finished: time(job.job.finished),
        image: job.job.image.clone(),
        job_id: job.job.uuid.to_string(),
        name: container.map(|c| c.name.clone()),
        script: job.script_name.clone(),
        started: time(job.started),
        state: state_name(job.job.state),
        worker: job.node.clone(),
    }
}

/// A job container and when it was last in use (now, while it runs).
#[derive(Serialize, ToSchema)]
#[schema(as = nds::LastUse)]
pub struct LastUse {
    cont_id: String,
    image: String,
    job_id: String,
    last_used: String,
    running: bool,
    /// `UNKNOWN`, `RUNNING`, `COMPLETED` or `FAILED`.
    state: &'static str,
}

pub fn last_use(observed: &ObservedJob) -> Option<LastUse> {
    let job = &observed.job;
    let last_used = job.job.finished.or(job.started).unwrap_or(job.job.created);
    Some(LastUse {
        cont_id: job.container_id.clone()?,
        image: job.job.image.clone(),
        job_id: job.job.uuid.to_string(),
        last_used: rfc3339(last_used),
        running: job.job.state == JobState::Running,
        state: state_name(job.job.state),
    })
}

/// `/info`'s answer: one container when asked for one, else all of the caller's.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::InfoAnswer)]
#[serde(untagged)]
pub enum InfoAnswer {
    One(Box<Info>),
    All(Vec<LastUse>),
}

/// A job container.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Container)]
pub struct Container {
    cont_id: String,
    created: String,
    image: String,
    job_id: String,
    /// `UNKNOWN`, `RUNNING`, `COMPLETED` or `FAILED`.
    state: &'static str,
}

pub fn container(job: &ScriptJob) -> Option<Container> {
    Some(Container {
        cont_id: job.container_id.clone()?,
        created: rfc3339(job.job.created),
        image: job.job.image.clone(),
        job_id: job.job.uuid.to_string(),
        state: state_name(job.job.state),
    })
}

/// A change a job made to its container's files.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Change)]
pub struct Change {
    /// `A` added, `C` changed, `D` deleted.
    kind: &'static str,
    path: String,
}

pub fn change(change: &FsChange) -> Change {
    let kind = match change.kind {
        FsChangeKind::Added => "A",
        FsChangeKind::Changed => "C",
        FsChangeKind::Deleted => "D",
    };
    Change {
        kind,
        path: change.path.clone(),
    }
}

/// A job's last resource sample; every figure is null when none was ever taken.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Metrics)]
pub struct Metrics {
    block_read: Option<u64>,
    block_write: Option<u64>,
    cont_id: Option<String>,
    cpu_percent: Option<f64>,
    job_id: String,
    memory_limit: Option<u64>,
    memory_usage: Option<u64>,
    net_rx: Option<u64>,
    net_tx: Option<u64>,
    /// When the sample was taken.
    sampled: Option<String>,
    /// `UNKNOWN`, `RUNNING`, `COMPLETED` or `FAILED`.
    state: &'static str,
}

pub fn metrics(job: &ScriptJob) -> Metrics {
    let m = job.metrics.as_ref();
    Metrics {
        block_read: m.map(|m| m.block_read),
        block_write: m.map(|m| m.block_write),
        cont_id: job.container_id.clone(),
        cpu_percent: m.map(|m| m.cpu_percent),
        job_id: job.job.uuid.to_string(),
        memory_limit: m.map(|m| m.memory_limit),
        memory_usage: m.map(|m| m.memory_usage),
        net_rx: m.map(|m| m.net_rx),
        net_tx: m.map(|m| m.net_tx),
        sampled: time(m.map(|m| m.sampled)),
        state: state_name(job.job.state),
    }
}

/// What stopping a job did: `msg` when it stopped, `error` when it did not.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::StopOutcome)]
pub struct Stopped {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg: Option<&'static str>,
    /// `success`, `failed`, or `UNKNOWN` when its container is gone.
    state: &'static str,
}

pub fn stop_outcome(outcome: &StopOutcome) -> Stopped {
    let failed = |state, error: String| Stopped {
        error: Some(error),
        msg: None,
        state,
    };
    match outcome {
        StopOutcome::Stopped => Stopped {
            error: None,
            msg: Some("the job was stopped"),
            state: "success",
        },
        StopOutcome::AlreadyFinished(state) => failed(
            "failed",
            format!("the job has already finished ({})", state_name(*state)),
        ),
        StopOutcome::Refused(why) => failed("failed", why.clone()),
        StopOutcome::Gone => failed("UNKNOWN", "the job's container no longer exists".into()),
    }
}

/// An image jobs can run in.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Image)]
pub struct Image {
    image_name: String,
    image_tag: String,
}

pub fn image(name: String, tag: String) -> Image {
    Image {
        image_name: name,
        image_tag: tag,
    }
}

/// A data set jobs can read.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::Dataset)]
pub struct DatasetView {
    name: String,
    /// Whether it is shared with every user.
    shared: bool,
    /// Where it downloads from, as a tar.
    url: String,
}

pub fn dataset(d: &Dataset, url: String) -> DatasetView {
    DatasetView {
        name: d.name.clone(),
        shared: d.shared,
        url,
    }
}

/// A data set added.
#[derive(Serialize, ToSchema)]
#[schema(as = nds::DatasetAdded)]
pub struct DatasetAdded {
    bytes: u64,
    files: u64,
    name: String,
    url: String,
}

pub fn dataset_added(summary: &DatasetSummary, url: String) -> DatasetAdded {
    DatasetAdded {
        bytes: summary.bytes,
        files: summary.files,
        name: summary.name.clone(),
        url,
    }
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
