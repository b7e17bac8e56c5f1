//! Running a command in a container, collecting the bounded tail of its
//! output and its exit code within a timeout.

use std::time::Duration;

use berth_core::output_tail::OutputTail;
use berth_core::runtime::{ExecOutput, LogStream, RuntimeError};
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use futures::StreamExt;

use super::logs::split_frame;
use super::{DockerRuntime, classify, engine};

pub(super) async fn run(
    runtime: &DockerRuntime,
    id: &str,
    argv: &[String],
    timeout: Duration,
) -> Result<ExecOutput, RuntimeError> {
    let config = ExecConfig {
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(argv.to_vec()),
        ..ExecConfig::default()
    };
    let exec = runtime
        .docker
        .create_exec(id, config)
        .await
        .map_err(|e| classify(e, id))?;
    let run = async {
        let mut stdout = OutputTail::default();
        let mut stderr = OutputTail::default();
        if let StartExecResults::Attached { mut output, .. } = runtime
            .docker
            .start_exec(&exec.id, None::<StartExecOptions>)
            .await
            .map_err(engine)?
        {
            while let Some(chunk) = output.next().await {
                let (stream, bytes) = split_frame(chunk.map_err(engine)?);
                match stream {
                    LogStream::Stderr => stderr.push(&bytes),
                    LogStream::Stdout => stdout.push(&bytes),
                }
            }
        }
        // The exit code is known only once the output stream is drained.
        let inspect = runtime
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(engine)?;
        Ok(ExecOutput {
            stdout: stdout.into_text(),
            stderr: stderr.into_text(),
            exit_code: inspect.exit_code.unwrap_or(-1),
        })
    };
    tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| RuntimeError::Timeout(format!("exec in {id} after {} s", timeout.as_secs())))?
}
