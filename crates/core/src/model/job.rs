//! Script jobs' data (the NDS Labs job API): the job row with what running
//! it in a container adds. The rules and use cases are in [`crate::jobs`].

use serde::{Deserialize, Serialize};

use crate::model::{Job, JobState, Timestamp};

/// `Job::kind` of script jobs.
pub const SCRIPT_JOB_KIND: &str = "script";

impl Job {
    /// Whether the reconciler keeps a finished job's container: script jobs
    /// keep theirs (for output, diff and files) until the job is deleted.
    pub fn keeps_container(&self) -> bool {
        self.kind == SCRIPT_JOB_KIND
    }
}

/// A script job: the core job row plus what running it in a container adds.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptJob {
    pub job: Job,
    pub script_name: String,
    pub dataset: Option<String>,
    pub container_id: Option<String>,
    /// The engine node that runs it.
    pub node: Option<String>,
    pub started: Option<Timestamp>,
    /// The last resource sample taken while it ran.
    pub metrics: Option<MetricsSample>,
}

/// Resource use of a job's container, as sampled at `sampled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSample {
    pub sampled: Timestamp,
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
}

/// What an observation of a job's container found, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct JobObservation {
    pub state: JobState,
    pub exit_code: Option<i64>,
    pub node: Option<String>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
}
