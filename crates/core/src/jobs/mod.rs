//! Script jobs (the NDS Labs job API): a shell script run to completion in a
//! container of its own, kept after it finishes for its output, filesystem
//! changes and result files. The data sets such jobs read are
//! [`crate::datasets`].
//!
//! The engine is the truth for a job's state: every read observes the
//! container and records what it saw, so a job that kept running while the
//! server was down reads right afterwards.
//!
//! This module holds the types (their port is [`crate::store::JobStore`]), `rules` the pure
//! rules and `service` the use cases on [`crate::service::Berth`].

mod rules;
mod service;

use serde::{Deserialize, Serialize};

use crate::model::{Job, JobState, Timestamp};
use crate::runtime::{ContainerInfo, ContainerStats};

pub use rules::{image_reference, keeps_container, observed_state, validate_file_name};

/// `Job::kind` of script jobs.
pub const SCRIPT_JOB_KIND: &str = "script";
pub const DEFAULT_SCRIPT_NAME: &str = "script.sh";
pub const DEFAULT_IMAGE_NAME: &str = "busybox";
pub const DEFAULT_IMAGE_TAG: &str = "latest";
/// The script's directory and the job's working directory.
pub const JOB_DIR: &str = "/job";
/// Where a job's data set is mounted, read-only.
pub const DATA_MOUNT: &str = "/data";

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

impl MetricsSample {
    fn new(stats: ContainerStats, sampled: Timestamp) -> Self {
        MetricsSample {
            sampled,
            cpu_percent: stats.cpu_percent,
            memory_usage: stats.memory_usage,
            memory_limit: stats.memory_limit,
            net_rx: stats.net_rx,
            net_tx: stats.net_tx,
            block_read: stats.block_read,
            block_write: stats.block_write,
        }
    }
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

/// What a request to run a script asks for.
#[derive(Debug, Clone, Default)]
pub struct NewScriptJob {
    pub script: Vec<u8>,
    pub script_name: Option<String>,
    pub image_name: Option<String>,
    pub image_tag: Option<String>,
    pub dataset: Option<String>,
}

/// A job as last observed, with its container as the engine showed it
/// (`None` when it has none or it is gone).
#[derive(Debug, Clone)]
pub struct ObservedJob {
    pub job: ScriptJob,
    pub container: Option<ContainerInfo>,
}

/// How a stop request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    Stopped,
    AlreadyFinished(JobState),
    /// The job has no container any more.
    Gone,
    /// The engine refused; its reason.
    Refused(String),
}
