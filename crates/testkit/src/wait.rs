//! Polling until a condition holds: [`try_wait_until`] for callers that
//! report a timeout, [`wait_until`] for tests, which fail on it.

use std::time::{Duration, Instant};

/// How often the condition is checked again.
const POLL: Duration = Duration::from_millis(250);

/// Checks `check` every 250 ms until it returns Ok, and returns its value;
/// after `timeout`, an error naming `what` and the last Err.
pub async fn try_wait_until<T>(
    timeout: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> Result<T, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(last) if Instant::now() >= deadline => {
                return Err(format!(
                    "timed out after {timeout:?} waiting until {what}; last seen: {last}"
                ));
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// [`try_wait_until`] that fails the test on a timeout.
pub async fn wait_until<T>(
    timeout: Duration,
    what: &str,
    check: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    try_wait_until(timeout, what, check)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}
