//! A user of the NDS Labs API for the tests: JSON through the `/v1` client,
//! other bodies (forms, multipart, bytes) with a `Bearer` token; and readers
//! of what the NDS routes answer.

use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Reply, Server, unique_username, wait_until};

pub const JOB_DONE: Duration = Duration::from_secs(30);

/// A signed-up user of the NDS API: the `/v1` client for JSON, and the
/// token for requests that client does not make (`Bearer`, other bodies).
pub struct NdsUser {
    pub api: Api,
    pub token: String,
    http: reqwest::Client,
}

/// A job's container as the NDS read routes show it.
pub struct Inspection {
    pub info: Value,
    pub diff: Value,
    pub metric: Value,
}

/// A response read as bytes.
pub struct Raw {
    pub status: u16,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// One part of a multipart form: a text field, or a file when it has a file name.
pub struct Part<'a> {
    pub name: &'a str,
    pub file_name: Option<&'a str>,
    pub data: &'a [u8],
}

pub fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = "berth-nds-test-boundary-7f3a";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match part.file_name {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                part.name
            ),
            None => format!(
                "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                part.name
            ),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(part.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl NdsUser {
    pub async fn sign_up(base: &str, prefix: &str) -> NdsUser {
        NdsUser::sign_up_as(base, &unique_username(prefix)).await
    }

    pub async fn sign_up_as(base: &str, username: &str) -> NdsUser {
        let (api, _) = Api::sign_up(base, username).await;
        // A fresh token this test knows (the old one is revoked).
        let reply = api.post("/v1/auth/tokens", &json!({})).await.status_is(200);
        let token = reply.body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {}", reply.text))
            .to_string();
        NdsUser {
            api: api.with_token(&token),
            token,
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(45))
                .build()
                .expect("cannot build an HTTP client"),
        }
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        token: Option<&str>,
    ) -> Raw {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.api.base));
        if let Some(token) = token {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("Content-Type", content_type).body(bytes);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = res.bytes().await.expect("response body").to_vec();
        Raw {
            status,
            content_type,
            bytes,
        }
    }

    pub async fn get_bytes(&self, path: &str) -> Raw {
        self.raw(Method::GET, path, None, Some(&self.token)).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Raw {
        let res = self
            .http
            .post(format!("{}{path}", self.api.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        Raw {
            status: res.status().as_u16(),
            content_type: String::new(),
            bytes: res.bytes().await.expect("response body").to_vec(),
        }
    }

    /// `POST /v1/datasets` of one file under the data set `name`.
    pub async fn upload_file_dataset(&self, name: &[u8], file_name: &str, data: &[u8]) -> Raw {
        self.post_multipart(
            "/v1/datasets",
            &[
                Part {
                    name: "name",
                    file_name: None,
                    data: name,
                },
                Part {
                    name: "file",
                    file_name: Some(file_name),
                    data,
                },
            ],
        )
        .await
    }

    pub async fn post_multipart(&self, path: &str, parts: &[Part<'_>]) -> Raw {
        let (content_type, body) = multipart(parts);
        self.raw(
            Method::POST,
            path,
            Some((&content_type, body)),
            Some(&self.token),
        )
        .await
    }

    /// `GET /<route>?cont_id=<cont>`, answered 200: its body.
    pub async fn read(&self, route: &str, cont: &str) -> Value {
        self.api
            .get(&format!("/{route}?cont_id={cont}"))
            .await
            .status_is(200)
            .body
    }

    /// What `/info`, `/diff` and `/metric` say of the job in container
    /// `cont`, each answered 200.
    pub async fn inspect(&self, cont: &str) -> Inspection {
        Inspection {
            info: self.read("info", cont).await,
            diff: self.read("diff", cont).await,
            metric: self.read("metric", cont).await,
        }
    }

    /// Submits a JSON job and returns its id.
    pub async fn submit(&self, body: Value) -> String {
        let reply = self.api.post("/upload", &body).await.status_is(201);
        reply.body["job_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no job_id: {}", reply.text))
            .to_string()
    }

    pub async fn status(&self, job: &str) -> Value {
        self.api
            .get(&format!("/upload?job_id={job}"))
            .await
            .status_is(200)
            .body
    }

    /// Waits until the job is in `state` and returns its status.
    pub async fn wait_for(&self, job: &str, state: &str) -> Value {
        wait_until(JOB_DONE, &format!("job {job} is {state}"), async || {
            let status = self.status(job).await;
            if status["state"] == json!(state) {
                Ok(status)
            } else {
                Err(status.to_string())
            }
        })
        .await
    }
}

pub fn cont_id(status: &Value) -> String {
    status["cont_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no cont_id: {status}"))
        .to_string()
}

pub fn error_of(reply: &Reply) -> &str {
    reply.body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{} gave no {{\"error\"}}: {}", reply.what, reply.text))
}

/// Paths in a tar, read with the system's tar.
pub fn tar_listing(bytes: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a.tar");
    std::fs::write(&path, bytes).expect("write tar");
    let out = Command::new("tar")
        .arg("-tf")
        .arg(&path)
        .output()
        .expect("cannot run tar");
    assert!(out.status.success(), "not a tar: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .collect()
}

/// Containers of this server labelled as jobs.
pub fn job_containers(server: &Server) -> Vec<String> {
    server
        .containers(None)
        .into_iter()
        .filter(|c| !c.label("berth.job").is_empty())
        .map(|c| c.id)
        .collect()
}
