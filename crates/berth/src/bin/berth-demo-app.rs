//! A small, fast HTTP app for the router's tests and benchmarks, packed into
//! an image by `berth_testkit::demo_image`. It listens on `$PORT` (5000) and
//! answers every path with who it is and what it was sent, as JSON; `/ws`
//! upgrades to an echo of whatever the client sends; `/stream` answers in
//! chunks; `/small` answers two bytes, for benchmarks. `START_DELAY_MS`
//! makes it wait before it opens its port, as a slow-booting app does.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5000);
    if let Some(delay) = std::env::var("START_DELAY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = term.recv() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .with_upgrades()
                .await;
        });
    }
}

async fn answer(mut request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_string();
    if path == "/small" {
        return Ok(Response::new(full("ok")));
    }
    if path == "/ws" {
        let upgrade = hyper::upgrade::on(&mut request);
        tokio::spawn(async move {
            if let Ok(upgraded) = upgrade.await {
                let mut io = TokioIo::new(upgraded);
                let mut buf = [0u8; 1024];
                while let Ok(n) = io.read(&mut buf).await {
                    if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        });
        let mut response = Response::new(full(""));
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        response
            .headers_mut()
            .insert("upgrade", "echo".parse().expect("static header"));
        response
            .headers_mut()
            .insert("connection", "upgrade".parse().expect("static header"));
        return Ok(response);
    }
    if path == "/stream" {
        let chunks =
            (1..=3).map(|n| Ok::<_, Infallible>(Frame::data(Bytes::from(format!("chunk {n}\n")))));
        let body = StreamBody::new(paced(chunks.collect()));
        return Ok(Response::new(body.boxed()));
    }
    let headers: serde_json::Map<String, serde_json::Value> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into()))
        .collect();
    let body = serde_json::json!({
        "instance": std::env::var("HOSTNAME").unwrap_or_default(),
        "release": std::env::var("DEIS_RELEASE").unwrap_or_default(),
        "greeting": std::env::var("GREETING").unwrap_or_default(),
        "method": request.method().as_str(),
        "path": path,
        "headers": headers,
    });
    Ok(Response::new(full(&body.to_string())))
}

fn full(text: &str) -> Body {
    Full::new(Bytes::from(text.to_string())).boxed()
}

/// A stream of ready frames, each after a short pause, so a client sees
/// them arrive one by one.
fn paced(
    frames: Vec<Result<Frame<Bytes>, Infallible>>,
) -> impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send + Sync {
    futures::stream::unfold(frames.into_iter(), |mut frames| async move {
        let next = frames.next()?;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Some((next, frames))
    })
}
