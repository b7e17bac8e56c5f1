//! The web console's first load of the app list, in headless Chromium
//! driven through chromedriver: the bench's user, who owns the listing
//! row's apps by then, logs in with the keyboard, then the page is loaded
//! afresh three times with the session cookie set, each timed by the page
//! itself from the request for the document to its first page of rows on
//! screen (`window.consoleFirstList`); the best of three is reported.
//! Without chromedriver the row says so instead of failing the bench.

use berth_testkit::browser::Browser;
use berth_testkit::{PASSWORD, Server};

use super::Row;

const LOADS: u32 = 3;
const TARGET_MS: f64 = 300.0;

/// The console row, for `username` (who owns `apps` apps) on `server`.
pub(super) async fn first_load_row(server: &Server, username: &str, apps: u32) -> Row {
    let measurement = format!(
        "console: first load of the app list, {apps} apps (headless Chromium, best of {LOADS})"
    );
    let browser = match Browser::try_start().await {
        Ok(browser) => browser,
        Err(e) => {
            progress!("no browser for the console row: {e}");
            return note_only(format!(
                "console: first load of the app list, {apps} apps (chromedriver missing: apt-get install chromium-driver)"
            ));
        }
    };
    progress!("timing the console's first load of the app list, best of {LOADS}");
    match first_load(&browser, server, username).await {
        Ok(best) => {
            progress!("console first load: best {best:.0} ms");
            Row::berth_only(
                measurement,
                format!("{best:.0} ms"),
                Some((format!("< {TARGET_MS:.0} ms"), best < TARGET_MS)),
            )
        }
        Err(e) => {
            progress!("the console row failed: {e}");
            note_only(format!("{measurement} (failed: see the progress output)"))
        }
    }
}

async fn first_load(browser: &Browser, server: &Server, username: &str) -> Result<f64, String> {
    browser
        .try_log_in_to_console(&server.url, username, PASSWORD)
        .await?;
    let best = browser
        .try_first_load_of_app_list(&server.url, LOADS)
        .await?;
    let rows = browser
        .try_eval("return document.querySelectorAll('#apps-table tbody tr').length;")
        .await?;
    if rows.as_u64().unwrap_or(0) == 0 {
        return Err(format!("the app list showed {rows} rows"));
    }
    Ok(best)
}

/// A row with no measurement, only its name (which says why).
fn note_only(measurement: String) -> Row {
    Row::berth_only(measurement, "—".into(), None)
}
