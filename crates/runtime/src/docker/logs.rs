//! A container's log as [`LogLine`]s, each with its stream and the engine's
//! timestamp, and the split of an engine output frame into stdout or stderr.

use berth_core::runtime::{LogLine, LogStream, RuntimeError};
use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use super::{DockerRuntime, classify, parse_time};

pub(super) fn read(
    runtime: &DockerRuntime,
    id: &str,
    tail: Option<usize>,
    follow: bool,
) -> BoxStream<'static, Result<LogLine, RuntimeError>> {
    let frames = runtime.docker.logs(id, Some(options(tail, follow)));
    lines(frames, id)
}

/// Both streams, timestamped, the last `tail` lines (all when `None`).
pub(crate) fn options(tail: Option<usize>, follow: bool) -> LogsOptions {
    LogsOptions {
        follow,
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: tail.map_or_else(|| "all".to_string(), |n| n.to_string()),
        ..LogsOptions::default()
    }
}

/// Log lines from the engine's output frames (of a container, or of a
/// swarm service's tasks), each with the timestamp the engine put before it.
pub(crate) fn lines(
    frames: impl futures::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send + 'static,
    id: &str,
) -> BoxStream<'static, Result<LogLine, RuntimeError>> {
    let id_owned = id.to_string();
    let stream = frames
        .map_err(move |e| classify(e, &id_owned))
        .map_ok(|out| {
            let (stream, bytes) = split_frame(out);
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim_end_matches('\n');
            // With timestamps on, each frame starts with an RFC 3339 stamp and a space.
            let (timestamp, text) = match text.split_once(' ') {
                Some((stamp, rest)) if parse_time(Some(stamp)).is_some() => {
                    (parse_time(Some(stamp)), rest)
                }
                _ => (None, text),
            };
            LogLine {
                stream,
                text: text.to_string(),
                timestamp,
            }
        });
    stream.boxed()
}

/// Which stream an output frame belongs to, and its bytes: stderr is told
/// apart, everything else (stdout, a TTY's console, echoed stdin) is stdout.
pub(super) fn split_frame(out: LogOutput) -> (LogStream, Bytes) {
    match out {
        LogOutput::StdErr { message } => (LogStream::Stderr, message),
        LogOutput::StdOut { message }
        | LogOutput::Console { message }
        | LogOutput::StdIn { message } => (LogStream::Stdout, message),
    }
}
