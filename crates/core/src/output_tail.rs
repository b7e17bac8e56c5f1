//! The bounded tail of a command's output. Output is kept only up to
//! [`OUTPUT_TAIL_BYTES`]: what came before is dropped and counted, and the
//! text handed out says so on a leading line, so no command can make the
//! server hold more than this much of its output per stream.

use std::collections::VecDeque;

use futures::StreamExt;
use futures::stream::BoxStream;

use crate::runtime::{LogLine, RuntimeError};

/// How many bytes of a command's output are kept (the last ones), per
/// stream: Tapis exec's stdout and stderr, Deis `run`, NDS `/stdout`.
pub const OUTPUT_TAIL_BYTES: usize = 1 << 20;

/// The last bytes of an output stream, and how many came before them.
#[derive(Debug, Clone)]
pub struct OutputTail {
    kept: VecDeque<u8>,
    limit: usize,
    dropped: u64,
}

impl Default for OutputTail {
    fn default() -> Self {
        OutputTail::with_limit(OUTPUT_TAIL_BYTES)
    }
}

impl OutputTail {
    pub fn with_limit(limit: usize) -> Self {
        OutputTail {
            kept: VecDeque::new(),
            limit,
            dropped: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let fresh = if bytes.len() > self.limit {
            let skipped = bytes.len() - self.limit;
            self.dropped += skipped as u64;
            &bytes[skipped..]
        } else {
            bytes
        };
        let overflow = (self.kept.len() + fresh.len()).saturating_sub(self.limit);
        self.kept.drain(..overflow);
        self.dropped += overflow as u64;
        self.kept.extend(fresh);
    }

    /// How many bytes were dropped from the front so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The kept bytes as text. When bytes were dropped, a first line says
    /// how many, and a character cut in two at the front is dropped too.
    pub fn into_text(self) -> String {
        let mut kept = Vec::from(self.kept);
        let mut dropped = self.dropped;
        if dropped == 0 {
            return String::from_utf8_lossy(&kept).into_owned();
        }
        let cut = kept
            .iter()
            .take(3)
            .take_while(|b| (**b & 0b1100_0000) == 0b1000_0000)
            .count();
        kept.drain(..cut);
        dropped += cut as u64;
        format!(
            "{}{}",
            truncation_line(dropped),
            String::from_utf8_lossy(&kept)
        )
    }
}

/// The first line of an output whose first `dropped` bytes were dropped.
pub fn truncation_line(dropped: u64) -> String {
    format!("[output truncated: first {dropped} bytes dropped]\n")
}

/// A container's log read to its end, one line after another, of which
/// only the tail is kept.
pub async fn log_tail(
    mut lines: BoxStream<'static, Result<LogLine, RuntimeError>>,
) -> Result<String, RuntimeError> {
    let mut tail = OutputTail::default();
    while let Some(line) = lines.next().await {
        tail.push(line?.text.as_bytes());
        tail.push(b"\n");
    }
    Ok(tail.into_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole_and_unmarked() {
        let mut tail = OutputTail::with_limit(8);
        tail.push(b"abc");
        tail.push(b"de");
        assert_eq!(tail.dropped(), 0);
        assert_eq!(tail.into_text(), "abcde");
        assert_eq!(OutputTail::default().into_text(), "");
    }

    #[test]
    fn only_the_last_bytes_are_kept_and_the_rest_is_counted() {
        let mut tail = OutputTail::with_limit(4);
        tail.push(b"abc");
        tail.push(b"def");
        assert_eq!(tail.dropped(), 2);
        tail.push(b"0123456789");
        assert_eq!(tail.dropped(), 12);
        assert_eq!(
            tail.into_text(),
            "[output truncated: first 12 bytes dropped]\n6789"
        );
        let mut exact = OutputTail::with_limit(4);
        exact.push(b"abcd");
        assert_eq!(exact.into_text(), "abcd");
    }

    #[test]
    fn a_character_cut_at_the_front_is_dropped_whole() {
        let mut tail = OutputTail::with_limit(4);
        tail.push("xé€".as_bytes()); // 1 + 2 + 3 bytes
        assert_eq!(tail.dropped(), 2);
        assert_eq!(
            tail.into_text(),
            "[output truncated: first 3 bytes dropped]\n€"
        );
    }

    #[test]
    fn memory_stays_at_the_limit_however_much_comes() {
        let mut tail = OutputTail::with_limit(1024);
        let chunk = vec![b'y'; 4096];
        for _ in 0..1000 {
            tail.push(&chunk);
            tail.push(b"\n");
        }
        assert!(tail.kept.len() <= 1024);
        assert_eq!(tail.dropped(), 1000 * 4097 - 1024);
    }
}
