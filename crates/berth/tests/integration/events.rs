//! The change feed over HTTP: `/v1/events` shows its follower the changes
//! of their own apps as the engine carries them out, and nothing of
//! another user's apps.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::harness::{Api, Server, unique_username};

/// An open `text/event-stream` and what arrived of it so far.
struct Follower {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    pending: String,
    /// The `id:` of the last event read.
    last_id: Option<String>,
}

impl Follower {
    async fn open(server: &Server, api: &Api, path: &str) -> Follower {
        Follower::reopen(server, api, path, None).await
    }

    /// Opens the stream as a reconnecting `EventSource` would, with the
    /// id of the last event it saw.
    async fn reopen(server: &Server, api: &Api, path: &str, last_id: Option<&str>) -> Follower {
        let token = api.token().expect("a logged-in client");
        let mut request = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a plain HTTP client builds")
            .get(format!("{}{path}", server.url))
            .header("Authorization", format!("token {token}"));
        if let Some(id) = last_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("the event stream opens");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        Follower {
            body: response.bytes_stream().boxed(),
            pending: String::new(),
            last_id: None,
        }
    }

    /// The next event's data, or `None` if none arrives within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.pending.find("\n\n") {
                let event: String = self.pending.drain(..end + 2).collect();
                if let Some(id) = event.lines().find_map(|l| l.strip_prefix("id: ")) {
                    self.last_id = Some(id.to_string());
                }
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if !data.is_empty() {
                    return Some(serde_json::from_str(&data.join("\n")).expect("data is JSON"));
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await;
            match chunk {
                Ok(Some(chunk)) => self.pending.push_str(&String::from_utf8_lossy(
                    &chunk.expect("the stream goes on"),
                )),
                Ok(None) => panic!("the event stream ended"),
                Err(_) => return None,
            }
        }
    }

    /// Whether the server ends the stream within `wait` (events on the
    /// way are read and dropped).
    async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return true,
                Err(_) => return false,
            }
        }
    }

    /// Events until one satisfies `found`; panics after `wait` without one.
    async fn until(&mut self, wait: Duration, found: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(event) = self.next(left).await else {
                panic!("no event like that within {wait:?}; saw {seen:#?}");
            };
            let done = found(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follower_sees_their_apps_scale_and_another_user_sees_none_of_it() {
    let server = Server::start().await;
    // The first user is an administrator and sees every app: keep these ordinary.
    Api::sign_up(&server.url, &unique_username("admin")).await;
    let (alice, _) = Api::sign_up(&server.url, &unique_username("alice")).await;
    let (bob, _) = Api::sign_up(&server.url, &unique_username("bob")).await;
    let app = alice.create_app("feed").await;
    alice.deploy_sleeper(&app).await;

    let mut everything = Follower::open(&server, &alice, "/v1/events").await;
    let mut one_app = Follower::open(&server, &alice, &format!("/v1/apps/{app}/events")).await;
    let mut outsider = Follower::open(&server, &bob, "/v1/events").await;
    alice.scale_web(&app, 3).await;

    let wait = Duration::from_secs(30);
    for follower in [&mut everything, &mut one_app] {
        let mut seen = follower
            .until(wait, |e| {
                e["type"] == "scaled" && e["structure"]["web"] == 3
            })
            .await;
        let up = |seen: &[Value], instance: &str| {
            seen.iter()
                .any(|e| e["type"] == "instance" && e["instance"] == instance && e["state"] == "up")
        };
        while !(up(&seen, "web.2") && up(&seen, "web.3")) {
            seen.extend(follower.until(wait, |e| e["type"] == "instance").await);
        }
        assert!(seen.iter().all(|e| e["app"] == app.as_str()), "{seen:#?}");
    }

    // Bob's stream works (he sees his own app) but carried nothing of alice's.
    let own = bob.create_app("mine").await;
    let seen = outsider.until(wait, |e| e["type"] == "app_created").await;
    assert_eq!(seen.len(), 1, "bob saw more than his app: {seen:#?}");
    assert_eq!(seen[0]["app"], own.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follower_that_reconnects_with_its_last_event_id_gets_what_it_missed() {
    let server = Server::start().await;
    Api::sign_up(&server.url, &unique_username("admin")).await;
    let (alice, _) = Api::sign_up(&server.url, &unique_username("alice")).await;
    let app = alice.create_app("replay").await;
    alice.deploy_sleeper(&app).await;
    let path = format!("/v1/apps/{app}/events");
    let wait = Duration::from_secs(30);

    let mut follower = Follower::open(&server, &alice, &path).await;
    alice.scale_web(&app, 2).await;
    let seen = follower
        .until(wait, |e| {
            e["type"] == "instance" && e["instance"] == "web.2" && e["state"] == "up"
        })
        .await;
    let release = seen.last().expect("an event")["release"].clone();
    assert!(release.as_i64().is_some_and(|r| r > 0), "{seen:#?}");
    let last_id = follower.last_id.clone().expect("events carry an id");
    drop(follower);

    // Changed while nobody follows: the reconnecting follower gets it first.
    alice.scale_web(&app, 3).await;
    let mut again = Follower::reopen(&server, &alice, &path, Some(&last_id)).await;
    let missed = again
        .until(wait, |e| {
            e["type"] == "instance" && e["instance"] == "web.3" && e["state"] == "up"
        })
        .await;
    assert!(
        missed
            .iter()
            .any(|e| e["type"] == "scaled" && e["structure"]["web"] == 3),
        "{missed:#?}"
    );
    assert!(
        !missed
            .iter()
            .any(|e| e["instance"] == "web.2" && e["state"] == "up"),
        "nothing from before the last id again: {missed:#?}"
    );
    let newer = again.last_id.expect("ids");
    assert!(newer.parse::<u64>().expect("a number") > last_id.parse::<u64>().expect("a number"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_ends_once_its_token_is_regenerated() {
    let server = Server::start().await;
    Api::sign_up(&server.url, &unique_username("admin")).await;
    let (alice, _) = Api::sign_up(&server.url, &unique_username("alice")).await;
    let mut follower = Follower::open(&server, &alice, "/v1/events").await;
    let first = alice.create_app("before").await;
    let seen = follower
        .until(Duration::from_secs(10), |e| e["type"] == "app_created")
        .await;
    assert_eq!(seen.last().expect("an event")["app"], first.as_str());

    let reply = alice.post("/v1/auth/tokens", &serde_json::json!({})).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let token = reply.body["token"].as_str().expect("a new token");
    // The next change finds the stream's token gone, and ends it rather
    // than sending anything more on the old credential.
    alice.with_token(token).create_app("after").await;
    assert!(
        follower.ends_within(Duration::from_secs(10)).await,
        "the stream outlived its token"
    );
}
