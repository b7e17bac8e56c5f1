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

mod datasets;
pub(crate) use datasets::blocking;
mod rules;
mod service;

use crate::model::{JobState, Timestamp};
// The job's data types live in the model, below the store that keeps them.
pub use crate::model::job::{JobObservation, MetricsSample, SCRIPT_JOB_KIND, ScriptJob};
use crate::runtime::{ContainerInfo, ContainerStats};

pub use rules::{image_reference, observed_state, validate_file_name};

pub const DEFAULT_SCRIPT_NAME: &str = "script.sh";
pub const DEFAULT_IMAGE_NAME: &str = "busybox";
pub const DEFAULT_IMAGE_TAG: &str = "latest";
/// The script's directory and the job's working directory.
pub const JOB_DIR: &str = "/job";
/// Where a job's data set is mounted, read-only.
pub const DATA_MOUNT: &str = "/data";

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
