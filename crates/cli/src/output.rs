//! Everything the CLI shows: aligned tables, pretty JSON, and spinners.

use std::future::Future;
use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

const COLUMN_GAP: &str = "  ";

/// Aligns `rows` into columns under an optional header. The last column is left unpadded so
/// lines carry no trailing spaces.
pub fn table<const N: usize>(
    header: Option<[&str; N]>,
    rows: impl IntoIterator<Item = [String; N]>,
) -> String {
    let header = header.map(|names| names.map(str::to_owned));
    let rows: Vec<[String; N]> = header.into_iter().chain(rows).collect();

    let mut widths = [0; N];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut text = String::new();
    for row in &rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            if column > 0 {
                line.push_str(COLUMN_GAP);
            }
            line.push_str(cell);
            if column + 1 < N {
                let padding = widths[column] - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', padding));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// An object's top-level fields as `key  value` lines, for the `info` commands.
pub fn fields(value: &Value) -> String {
    match value {
        Value::Object(map) => table(
            None,
            map.iter().map(|(key, value)| [key.clone(), cell(value)]),
        ),
        other => cell(other),
    }
}

/// A JSON value as a table cell: strings without quotes, null as nothing.
pub fn cell(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Keeps at most `max_chars` characters, marking the cut with `...`.
pub fn abbreviate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(3)).collect();
    format!("{kept}...")
}

/// Prints the server's JSON in JSON mode (nothing for an empty reply), or `human(value)`
/// otherwise.
pub fn report(json: bool, value: &Value, human: impl FnOnce(&Value) -> String) -> io::Result<()> {
    if !json {
        print(&human(value))
    } else if value.is_null() {
        Ok(())
    } else {
        print(&format!("{value:#}"))
    }
}

/// Prints `text` with a final newline. A closed pipe (`berth apps list | head -1`) is not
/// an error: the reader simply wanted no more.
pub fn print(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    let result = stdout.write_all(text.as_bytes()).and_then(|()| {
        if text.is_empty() || text.ends_with('\n') {
            Ok(())
        } else {
            stdout.write_all(b"\n")
        }
    });
    ignore_broken_pipe(result.and_then(|()| stdout.flush()))
}

pub fn ignore_broken_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Awaits `work` behind a spinner on stderr, so the wait for slow server-side work does not
/// look like a hang. Nothing is drawn when stderr is not a terminal.
pub async fn with_spinner<T>(message: &'static str, work: impl Future<Output = T>) -> T {
    let spinner = spinner(message);
    let result = work.await;
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    result
}

/// A spinner on stderr showing `message`; none when stderr is not a terminal.
pub fn spinner(message: &'static str) -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::default_spinner().template("{spinner} {wide_msg}") {
        spinner.set_style(style);
    }
    spinner.set_message(message);
    spinner.enable_steady_tick(Duration::from_millis(100));
    Some(spinner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row<const N: usize>(cells: [&str; N]) -> [String; N] {
        cells.map(str::to_owned)
    }

    #[test]
    fn table_aligns_columns_under_the_header() {
        let text = table(
            Some(["ID", "OWNER", "CREATED"]),
            [
                row(["example-go", "alice", "2014-01-01"]),
                row(["x", "bob", ""]),
            ],
        );
        assert_eq!(
            text,
            "ID          OWNER  CREATED\n\
             example-go  alice  2014-01-01\n\
             x           bob\n"
        );
    }

    #[test]
    fn table_without_header_or_rows() {
        assert_eq!(
            table(None, [row(["web.1", "up", "(v4)"])]),
            "web.1  up  (v4)\n"
        );
        assert_eq!(
            table(Some(["DOMAIN"]), Vec::<[String; 1]>::new()),
            "DOMAIN\n"
        );
        assert_eq!(table::<2>(None, []), "");
    }

    #[test]
    fn table_counts_characters_not_bytes() {
        let text = table(None, [row(["é", "x"]), row(["ab", "y"])]);
        assert_eq!(text, "é   x\nab  y\n");
    }

    #[test]
    fn cells_unquote_strings_and_hide_null() {
        assert_eq!(cell(&json!("web")), "web");
        assert_eq!(cell(&json!(null)), "");
        assert_eq!(cell(&json!(3)), "3");
        assert_eq!(cell(&json!({"web": 1})), r#"{"web":1}"#);
    }

    #[test]
    fn fields_lists_object_members() {
        assert_eq!(
            fields(&json!({"id": "a", "owner": "bob"})),
            "id     a\nowner  bob\n"
        );
    }

    #[test]
    fn abbreviate_only_long_text() {
        assert_eq!(abbreviate("short", 10), "short");
        assert_eq!(abbreviate("ssh-rsa AAAAB3NzaC1yc2E", 12), "ssh-rsa A...");
    }
}
