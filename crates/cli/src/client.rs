//! A small client for Berth's `/v1` API. It builds URLs, sends the token, follows
//! pagination, and turns every error response into an [`ApiError`], all in one place.

use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde_json::Value;

use crate::output::abbreviate;

/// A non-2xx reply, shown to the user as `<status>: <message>`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.status)
        } else {
            write!(f, "{}: {}", self.status, self.message)
        }
    }
}

impl std::error::Error for ApiError {}

/// A successful reply whose headers matter (e.g. `Deis-Release`). An empty body is `null`.
pub struct Reply {
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl Client {
    pub fn new(base_url: &str, token: Option<String>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("berth-cli/", env!("CARGO_PKG_VERSION")))
            // No overall timeout: scale and follow-mode logs legitimately take long.
            .connect_timeout(Duration::from_secs(10))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Self {
            http,
            base: parse_base_url(base_url)?,
            token,
        })
    }

    /// The server's URL as the user would type it (no trailing slash), for saving.
    pub fn base_url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    pub async fn get(&self, path: &[&str]) -> Result<Value> {
        self.get_with_query(path, &[]).await
    }

    pub async fn get_with_query(&self, path: &[&str], query: &[(&str, &str)]) -> Result<Value> {
        Ok(self
            .send(self.request(Method::GET, self.url(path, query)))
            .await?
            .body)
    }

    /// Fetches every page of a `{count, next, previous, results}` list and returns it as one
    /// page holding all the results. Anything else is returned as it came.
    pub async fn get_all(&self, path: &[&str]) -> Result<Value> {
        let mut url = self.url(path, &[]);
        let mut first = self
            .send(self.request(Method::GET, url.clone()))
            .await?
            .body;
        let mut next = next_page(&first);
        let Some(Value::Array(results)) = first.get_mut("results") else {
            return Ok(first);
        };
        while let Some(link) = next {
            // `next` may be absolute or relative; relative links resolve against the page
            // that carried them, as a browser would.
            let next_url = url
                .join(&link)
                .with_context(|| format!("bad next-page link {link:?}"))?;
            if next_url == url {
                bail!("the server's next-page link points back at {url}");
            }
            url = next_url;
            let mut page = self
                .send(self.request(Method::GET, url.clone()))
                .await?
                .body;
            next = next_page(&page);
            if let Some(Value::Array(more)) = page.get_mut("results") {
                results.append(more);
            }
        }
        first["next"] = Value::Null;
        Ok(first)
    }

    pub async fn post(&self, path: &[&str], body: &Value) -> Result<Reply> {
        self.send(self.request(Method::POST, self.url(path, &[])).json(body))
            .await
    }

    pub async fn post_form(&self, path: &[&str], form: &[(&str, &str)]) -> Result<Value> {
        Ok(self
            .send(self.request(Method::POST, self.url(path, &[])).form(form))
            .await?
            .body)
    }

    pub async fn delete(&self, path: &[&str]) -> Result<()> {
        self.send(self.request(Method::DELETE, self.url(path, &[])))
            .await
            .map(drop)
    }

    /// Starts a GET whose body the caller reads as it arrives (follow-mode logs).
    pub async fn stream(&self, path: &[&str], query: &[(&str, &str)]) -> Result<Response> {
        self.start(self.request(Method::GET, self.url(path, query)))
            .await
    }

    /// `path` is a list of segments under `/v1`, each percent-encoded as needed, so ids with
    /// `/`, `?` or spaces cannot escape their place in the URL.
    fn url(&self, path: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("parse_base_url only accepts http URLs, which always have a path")
            .pop_if_empty()
            .push("v1")
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let request = self
            .http
            .request(method, url)
            .header(ACCEPT, "application/json");
        match &self.token {
            Some(token) => request.header(AUTHORIZATION, format!("token {token}")),
            None => request,
        }
    }

    async fn send(&self, request: RequestBuilder) -> Result<Reply> {
        let response = self.start(request).await?;
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .context("cannot read the server's reply")?;
        Ok(Reply {
            headers,
            body: decode_body(&bytes),
        })
    }

    async fn start(&self, request: RequestBuilder) -> Result<Response> {
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base_url()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(ApiError {
            status,
            message: error_message(&body),
        }
        .into())
    }
}

/// Accepts `host:port` as shorthand for `http://host:port`. Only plain HTTP is supported:
/// this client is built without TLS.
fn parse_base_url(input: &str) -> Result<Url> {
    let input = input.trim();
    let with_scheme = if input.contains("://") {
        input.to_owned()
    } else {
        format!("http://{input}")
    };
    let mut url = Url::parse(&with_scheme).with_context(|| format!("{input:?} is not a URL"))?;
    if url.scheme() != "http" {
        bail!(
            "{input}: only http:// URLs are supported (put a TLS proxy in front of Berth for https)"
        );
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn next_page(page: &Value) -> Option<String> {
    page.get("next")?
        .as_str()
        .filter(|link| !link.is_empty())
        .map(str::to_owned)
}

/// JSON when it parses, since some endpoints (logs) reply with a JSON string; otherwise the
/// raw text, so nothing the server said is lost.
fn decode_body(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
}

/// The server's explanation of an error: `{"detail": "..."}`, a field map
/// `{"field": ["msg", ...]}`, or (from a proxy, say) plain text.
fn error_message(body: &[u8]) -> String {
    match decode_body(body) {
        Value::Null => String::new(),
        Value::String(text) => abbreviate(text.trim(), 300),
        Value::Object(map) => {
            if let Some(detail) = map.get("detail") {
                return flatten_messages(detail).join("; ");
            }
            map.iter()
                .flat_map(|(field, messages)| {
                    let general = matches!(field.as_str(), "non_field_errors" | "__all__");
                    flatten_messages(messages).into_iter().map(move |message| {
                        if general {
                            message
                        } else {
                            format!("{field}: {message}")
                        }
                    })
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        other => flatten_messages(&other).join("; "),
    }
}

fn flatten_messages(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(flatten_messages).collect(),
        Value::String(text) => vec![text.clone()],
        other => vec![other.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client(base: &str) -> Client {
        Client::new(base, None).unwrap()
    }

    #[test]
    fn base_url_defaults_to_http_and_drops_trailing_slashes() {
        assert_eq!(
            parse_base_url("localhost:8000/").unwrap().as_str(),
            "http://localhost:8000/"
        );
        assert_eq!(client("http://h:1//").base_url(), "http://h:1");
        assert_eq!(client("http://h/berth/").base_url(), "http://h/berth");
    }

    #[test]
    fn base_url_must_be_plain_http() {
        let err = parse_base_url("https://example.com").unwrap_err();
        assert!(err.to_string().contains("only http://"), "{err}");
        assert!(parse_base_url("http://").is_err());
        assert!(parse_base_url("").is_err());
    }

    #[test]
    fn urls_live_under_v1_and_encode_segments() {
        let c = client("http://h:8000");
        assert_eq!(c.url(&["apps"], &[]).as_str(), "http://h:8000/v1/apps");
        assert_eq!(
            c.url(&["apps", "a b", "domains", "x/y?z"], &[]).as_str(),
            "http://h:8000/v1/apps/a%20b/domains/x%2Fy%3Fz"
        );
        assert_eq!(
            c.url(
                &["apps", "a", "logs"],
                &[("follow", "true"), ("log_lines", "5")]
            )
            .as_str(),
            "http://h:8000/v1/apps/a/logs?follow=true&log_lines=5"
        );
    }

    #[test]
    fn urls_keep_a_path_prefix() {
        assert_eq!(
            client("http://h/berth").url(&["keys"], &[]).as_str(),
            "http://h/berth/v1/keys"
        );
    }

    #[test]
    fn error_message_prefers_detail() {
        assert_eq!(error_message(br#"{"detail": "Not found."}"#), "Not found.");
    }

    #[test]
    fn error_message_lists_field_errors() {
        let body = br#"{"username": ["This field is required."], "non_field_errors": ["Bad."]}"#;
        assert_eq!(
            error_message(body),
            "Bad.; username: This field is required."
        );
    }

    #[test]
    fn error_message_falls_back_to_text() {
        assert_eq!(error_message(b""), "");
        assert_eq!(error_message(b"  Bad Gateway\n"), "Bad Gateway");
        assert_eq!(
            error_message(br#""plain json string""#),
            "plain json string"
        );
        assert_eq!(error_message(br#"["a", "b"]"#), "a; b");
    }

    #[test]
    fn api_error_display() {
        let err = ApiError {
            status: StatusCode::NOT_FOUND,
            message: "Not found.".into(),
        };
        assert_eq!(err.to_string(), "404 Not Found: Not found.");
        let bare = ApiError {
            status: StatusCode::BAD_GATEWAY,
            message: String::new(),
        };
        assert_eq!(bare.to_string(), "502 Bad Gateway");
    }

    #[test]
    fn bodies_decode_as_json_or_text() {
        assert_eq!(decode_body(b""), Value::Null);
        assert_eq!(decode_body(br#""line\n""#), json!("line\n"));
        assert_eq!(decode_body(b"not json"), json!("not json"));
    }

    #[test]
    fn next_page_ignores_null_and_empty() {
        assert_eq!(next_page(&json!({"next": null})), None);
        assert_eq!(next_page(&json!({"next": ""})), None);
        assert_eq!(
            next_page(&json!({"next": "?page=2"})).as_deref(),
            Some("?page=2")
        );
        assert_eq!(next_page(&json!([1, 2])), None);
    }
}
