//! The page, its script and its style, compiled into the binary. Each is
//! served with its content type and an `ETag`; browsers revalidate
//! (`no-cache`) and get a 304 while the binary is the same.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: LazyLock<String>,
}

/// A quoted FNV-1a hash of the text: changes whenever the text does.
fn etag_of(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

macro_rules! asset {
    ($file:literal, $type:literal) => {
        Asset {
            body: include_str!(concat!("assets/", $file)),
            content_type: $type,
            etag: LazyLock::new(|| etag_of(include_str!(concat!("assets/", $file)))),
        }
    };
}

static PAGE: Asset = asset!("index.html", "text/html; charset=utf-8");
static SCRIPT: Asset = asset!("console.js", "text/javascript; charset=utf-8");
static STYLE: Asset = asset!("console.css", "text/css; charset=utf-8");

fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = asset.etag.as_str();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    res
}

/// The console's page.
#[utoipa::path(get, path = "/ui", tag = "console",
    operation_id = "console_page",
    params(("If-None-Match" = Option<String>, Header, description = "An `ETag` this server sent")),
    responses(
        (status = 200, description = "The console's page", content_type = "text/html; charset=utf-8", body = String,
            headers(("ETag" = String), ("Cache-Control" = String, description = "`no-cache`"))),
        (status = 304, description = "Not modified since the `ETag` given",
            headers(("ETag" = String))),
    ))]
pub async fn page(headers: HeaderMap) -> Response {
    serve(&PAGE, &headers)
}

/// The page's script.
#[utoipa::path(get, path = "/ui/console.js", tag = "console",
    operation_id = "console_script",
    params(("If-None-Match" = Option<String>, Header, description = "An `ETag` this server sent")),
    responses(
        (status = 200, description = "The page's script", content_type = "text/javascript; charset=utf-8", body = String,
            headers(("ETag" = String), ("Cache-Control" = String, description = "`no-cache`"))),
        (status = 304, description = "Not modified since the `ETag` given",
            headers(("ETag" = String))),
    ))]
pub async fn script(headers: HeaderMap) -> Response {
    serve(&SCRIPT, &headers)
}

/// The page's style sheet.
#[utoipa::path(get, path = "/ui/console.css", tag = "console",
    operation_id = "console_style",
    params(("If-None-Match" = Option<String>, Header, description = "An `ETag` this server sent")),
    responses(
        (status = 200, description = "The page's style sheet", content_type = "text/css; charset=utf-8", body = String,
            headers(("ETag" = String), ("Cache-Control" = String, description = "`no-cache`"))),
        (status = 304, description = "Not modified since the `ETag` given",
            headers(("ETag" = String))),
    ))]
pub async fn style(headers: HeaderMap) -> Response {
    serve(&STYLE, &headers)
}
