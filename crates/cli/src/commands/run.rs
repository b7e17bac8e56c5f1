//! `berth run`: a one-off command in an app, whose exit status becomes `berth`'s own.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::client::Client;
use crate::output::{cell, report, with_spinner};

pub async fn run(client: &Client, app: &str, command: &[String], json: bool) -> Result<ExitCode> {
    let body = json!({"command": command.join(" ")});
    let reply = with_spinner("running…", client.post(&["apps", app, "run"], &body)).await?;
    let (rc, output) = run_result(&reply.body)?;
    report(json, &reply.body, |_| output)?;
    Ok(u8::try_from(rc).map_or(ExitCode::FAILURE, ExitCode::from))
}

/// `run` replies `[rc, output]`; the older docs' `{"rc", "output"}` is accepted too.
fn run_result(body: &Value) -> Result<(i64, String)> {
    let (rc, output) = match body {
        Value::Array(items) if items.len() == 2 => (&items[0], &items[1]),
        Value::Object(map) if map.contains_key("rc") => (&map["rc"], &body["output"]),
        _ => bail!("unexpected reply to run: {body}"),
    };
    let rc = rc
        .as_i64()
        .with_context(|| format!("unexpected exit status from run: {rc}"))?;
    Ok((rc, cell(output)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_result_accepts_both_shapes() {
        assert_eq!(run_result(&json!([0, "hi\n"])).unwrap(), (0, "hi\n".into()));
        assert_eq!(
            run_result(&json!({"rc": 3, "output": "no"})).unwrap(),
            (3, "no".into())
        );
        assert!(run_result(&json!({"detail": "x"})).is_err());
        assert!(run_result(&json!(["0", ""])).is_err());
    }
}
