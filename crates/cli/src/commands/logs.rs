//! `berth logs`: an app's recent log lines, or a live stream of them with
//! `--follow`. On a terminal each process's name has a colour of its own
//! (`NO_COLOR` turns colours off).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use futures::StreamExt;

use crate::client::Client;
use crate::output::{self, cell, report};

pub async fn logs(
    client: &Client,
    app: &str,
    lines: Option<u32>,
    follow: bool,
    json: bool,
) -> Result<()> {
    let lines = lines.map(|n| n.to_string());
    let mut query = Vec::new();
    if follow {
        query.push(("follow", "true"));
    }
    query.extend(lines.as_deref().map(|n| ("log_lines", n)));
    let path = ["apps", app, "logs"];

    let colour = !json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if !follow {
        let text = client.get_with_query(&path, &query).await?;
        report(json, &text, |text| {
            let text = cell(text);
            if colour {
                let mut painter = Painter::default();
                let lines: Vec<String> = text.lines().map(|l| painter.paint(l)).collect();
                lines.join("\n")
            } else {
                text
            }
        })?;
        return Ok(());
    }
    let mut pending: Vec<u8> = Vec::new();
    let mut painter = Painter::default();

    let mut body = client.stream(&path, &query).await?.bytes_stream();
    // One listener for the whole stream, so a Ctrl-C that lands mid-write is not missed.
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let chunk = tokio::select! {
            _ = &mut interrupted => return Ok(()),
            chunk = body.next() => chunk,
        };
        let Some(chunk) = chunk else { return Ok(()) };
        let chunk = chunk.context("the log stream broke off")?;
        let out: Vec<u8> = if colour {
            // Whole lines only: a line split across chunks is painted once it ends.
            pending.extend_from_slice(&chunk);
            let Some(end) = pending.iter().rposition(|b| *b == b'\n') else {
                continue;
            };
            let lines: Vec<u8> = pending.drain(..=end).collect();
            String::from_utf8_lossy(&lines)
                .split_inclusive('\n')
                .map(|line| match line.strip_suffix('\n') {
                    Some(line) => painter.paint(line) + "\n",
                    None => painter.paint(line),
                })
                .collect::<String>()
                .into_bytes()
        } else {
            // Raw bytes as they come: a line split across chunks reassembles on screen.
            chunk.to_vec()
        };
        let mut stdout = std::io::stdout().lock();
        let written = stdout.write_all(&out).and_then(|()| stdout.flush());
        if let Err(err) = written {
            // The reader went away (`| head`): that ends following, it is not a failure.
            return output::ignore_broken_pipe(Err(err)).map_err(Into::into);
        }
    }
}

/// Terminal colours for processes: each process gets the next one the
/// first time it is seen, so the first six are all told apart.
#[derive(Default)]
struct Painter {
    seen: HashMap<String, usize>,
}

const COLOURS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

impl Painter {
    /// A log line (`<time> <app>[web.1]: text`) with its source in its
    /// process's colour; other lines as they are.
    fn paint(&mut self, line: &str) -> String {
        let Some(open) = line.find('[') else {
            return line.to_string();
        };
        let Some(close) = line[open..].find("]:").map(|i| open + i) else {
            return line.to_string();
        };
        let source_start = line[..open].rfind(' ').map_or(0, |i| i + 1);
        let next = self.seen.len();
        let n = *self
            .seen
            .entry(line[open + 1..close].to_string())
            .or_insert(next);
        let colour = COLOURS[n % COLOURS.len()];
        format!(
            "{}\x1b[{colour}m{}\x1b[0m{}",
            &line[..source_start],
            &line[source_start..close + 2],
            &line[close + 2..]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Painter;

    #[test]
    fn each_process_gets_a_colour_of_its_own_and_the_text_stays() {
        let mut painter = Painter::default();
        let web1 = painter.paint("2026-12-05T10:00:00UTC demo[web.1]: hello [x]: y");
        assert_eq!(
            web1,
            "2026-12-05T10:00:00UTC \x1b[36mdemo[web.1]:\x1b[0m hello [x]: y"
        );
        let worker = painter.paint("t demo[worker.1]: x");
        assert_eq!(worker, "t \x1b[33mdemo[worker.1]:\x1b[0m x");
        let again = painter.paint("t demo[web.1]: later");
        assert_eq!(again, "t \x1b[36mdemo[web.1]:\x1b[0m later");
        assert_eq!(painter.paint("no source here"), "no source here");
    }
}
