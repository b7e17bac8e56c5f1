//! A client of the `/v1` API, with a token or anonymous. Every call is
//! fallible ([`Api::send`], [`Reply::expect`]); the short verbs (`get`,
//! `post`, `create_app`, …) panic instead, for tests.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The image apps are deployed from; the engine must have it.
pub const IMAGE: &str = "busybox:latest";
/// The process type deployed and scaled, and its command.
pub const SLEEPER_PROCFILE: &str = r#"{"web": "sleep 3600"}"#;
/// Password of every user signed up here.
pub const PASSWORD: &str = "opensesame-42";
/// Long enough for any synchronous call of a test server (its converge
/// timeout is shorter); callers that wait longer set their own.
const TIMEOUT: Duration = Duration::from_secs(45);

/// An app id no other caller uses (container names are engine-wide).
pub fn unique_app_id(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A user name no other caller uses.
pub fn unique_username(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The server's URL; set it anew after the server restarted.
    pub base: String,
    token: Option<String>,
    timeout: Duration,
}

/// A response, its body read as JSON when it is JSON (else `Null`).
#[derive(Debug)]
pub struct Reply {
    /// "METHOD /path", for messages.
    pub what: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    /// Ok when the status is `code`, else an error naming the call and the answer.
    pub fn expect(self, code: u16) -> Result<Reply, String> {
        if self.status == code {
            Ok(self)
        } else {
            Err(format!(
                "{} answered {} {} (expected {code})",
                self.what, self.status, self.text
            ))
        }
    }

    /// Fails the test unless the status is `code`; returns the reply.
    pub fn status_is(self, code: u16) -> Reply {
        self.expect(code).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    /// An anonymous client of the server at `base`.
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("an HTTP client with no proxy and no TLS always builds"),
            base: base.to_string(),
            token: None,
            timeout: TIMEOUT,
        }
    }

    /// The same client sending `token` instead.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// The token this client sends, if it is logged in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The same client giving every call `timeout` to answer.
    pub fn with_timeout(&self, timeout: Duration) -> Api {
        Api {
            timeout,
            ..self.clone()
        }
    }

    /// Registers `username` (201), logs in (200) and returns the logged-in
    /// client and the registered user as the server returned it.
    pub async fn try_sign_up(base: &str, username: &str) -> Result<(Api, Value), String> {
        let anon = Api::new(base);
        let user = anon
            .send_json(
                Method::POST,
                "/v1/auth/register",
                &json!({"username": username, "password": PASSWORD, "email": format!("{username}@example.com")}),
            )
            .await?
            .expect(201)?
            .body;
        let login = anon
            .send_json(
                Method::POST,
                "/v1/auth/login/",
                &json!({"username": username, "password": PASSWORD}),
            )
            .await?
            .expect(200)?;
        let token = login.body["token"]
            .as_str()
            .ok_or_else(|| format!("login gave no token: {}", login.text))?;
        Ok((anon.with_token(token), user))
    }

    /// Sends a request; Err only when no response came (e.g. the server died).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<Reply, String> {
        let mut reply = self.send_unparsed(method, path, body).await?;
        reply.body = serde_json::from_str(&reply.text).unwrap_or(Value::Null);
        Ok(reply)
    }

    /// Like [`Api::send`], but leaves the body as text (`body` is `Null`):
    /// for timing the server without the client's parsing.
    pub async fn send_unparsed(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<Reply, String> {
        let what = format!("{method} {path}");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(self.timeout);
        if let Some(token) = &self.token {
            req = req.header("Authorization", format!("token {token}"));
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let res = req.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.map_err(|e| format!("{what}: {e}"))?;
        Ok(Reply {
            what,
            status,
            headers,
            text,
            body: Value::Null,
        })
    }

    async fn send_json(&self, method: Method, path: &str, body: &Value) -> Result<Reply, String> {
        self.send(method, path, Some(&body.to_string())).await
    }

    /// Creates the app `id` (201).
    pub async fn try_create_app(&self, id: &str) -> Result<(), String> {
        let reply = self
            .send_json(Method::POST, "/v1/apps", &json!({ "id": id }))
            .await?
            .expect(201)?;
        if reply.body["id"] == json!(id) {
            Ok(())
        } else {
            Err(format!("creating {id} answered {}", reply.text))
        }
    }

    /// Builds `image` with `procfile` (201); a first build starts one
    /// instance of each type and answers once they are up.
    pub async fn try_build(
        &self,
        app: &str,
        image: &str,
        procfile: &Value,
    ) -> Result<Reply, String> {
        self.send_json(
            Method::POST,
            &format!("/v1/apps/{app}/builds"),
            &json!({"image": image, "procfile": procfile}),
        )
        .await?
        .expect(201)
    }

    /// Scales `proc_type` to `n` (204); answers once the engine runs exactly that.
    pub async fn try_scale(&self, app: &str, proc_type: &str, n: u32) -> Result<(), String> {
        self.send_json(
            Method::POST,
            &format!("/v1/apps/{app}/scale"),
            &json!({ proc_type: n }),
        )
        .await?
        .expect(204)
        .map(drop)
    }

    /// Destroys the app `id` (204).
    pub async fn try_destroy_app(&self, id: &str) -> Result<(), String> {
        self.send(Method::DELETE, &format!("/v1/apps/{id}"), None)
            .await?
            .expect(204)
            .map(drop)
    }

    // The short verbs tests use: they fail the test instead of returning errors.

    /// [`Api::try_sign_up`], failing the test on error.
    pub async fn sign_up(base: &str, username: &str) -> (Api, Value) {
        Api::try_sign_up(base, username)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn must_send(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        self.send(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("no response: {e}"))
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.must_send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.must_send(Method::POST, path, Some(&body.to_string()))
            .await
    }

    /// POSTs `body` as is, e.g. malformed JSON.
    pub async fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.must_send(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.must_send(Method::DELETE, path, None).await
    }

    /// Creates an app with a fresh id starting with `prefix` and returns the id.
    pub async fn create_app(&self, prefix: &str) -> String {
        let id = unique_app_id(prefix);
        self.try_create_app(&id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        id
    }

    /// Builds [`IMAGE`] running `sleep 3600` as `web` (201). A first build starts web=1.
    pub async fn deploy_sleeper(&self, app: &str) -> Reply {
        let procfile: Value = serde_json::from_str(SLEEPER_PROCFILE).expect("procfile is JSON");
        self.try_build(app, IMAGE, &procfile)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Scales web to `n` and expects 204.
    pub async fn scale_web(&self, app: &str, n: u32) {
        self.try_scale(app, "web", n)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
