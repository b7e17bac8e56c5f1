//! The bench's HTTP load generator: a fixed number of keep-alive HTTP/1.1
//! connections, each sending one GET after another for a fixed time, with
//! every answer's latency recorded after a warm-up. It is the same client
//! for every target, so the targets' numbers compare.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// What to send, where, and for how long.
#[derive(Debug, Clone)]
pub struct Load {
    /// Connections are spread over these addresses in turn.
    pub targets: Vec<SocketAddr>,
    pub host: String,
    pub path: String,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What the timed part of one run saw.
#[derive(Debug)]
pub struct LoadReport {
    /// Answers with status 200, one latency each, sorted.
    pub latencies: Vec<Duration>,
    /// Failed requests and non-200 answers.
    pub errors: u64,
    pub elapsed: Duration,
}

impl LoadReport {
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `p` percent of the answers came.
    pub fn percentile(&self, p: f64) -> Duration {
        super::percentile(&self.latencies, p)
    }
}

impl Load {
    pub async fn run(&self) -> Result<LoadReport> {
        ensure!(!self.targets.is_empty(), "no address to send load to");
        let start = Instant::now();
        let timed_from = start + self.warmup;
        let until = timed_from + self.duration;
        let workers: Vec<_> = (0..self.connections)
            .map(|n| {
                let target = self.targets[n % self.targets.len()];
                let request = (self.host.clone(), self.path.clone());
                tokio::spawn(drive_connection(target, request, timed_from, until))
            })
            .collect();
        let mut report = LoadReport {
            latencies: Vec::new(),
            errors: 0,
            elapsed: self.duration,
        };
        for worker in workers {
            let (latencies, errors) = worker.await.context("a load connection panicked")?;
            report.latencies.extend(latencies);
            report.errors += errors;
        }
        report.latencies.sort_unstable();
        Ok(report)
    }
}

/// One connection's loop: reconnects after an error, counts it, and goes on
/// until `until`. Returns the timed latencies and the error count.
async fn drive_connection(
    target: SocketAddr,
    (host, path): (String, String),
    timed_from: Instant,
    until: Instant,
) -> (Vec<Duration>, u64) {
    let mut latencies = Vec::with_capacity(64 * 1024);
    let mut errors = 0;
    let mut sender: Option<SendRequest<Empty<Bytes>>> = None;
    while Instant::now() < until {
        let mut ready = match sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => match connect(target).await {
                Ok(s) => s,
                Err(_) => {
                    errors += u64::from(Instant::now() >= timed_from);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let request = Request::get(path.as_str())
            .header(hyper::header::HOST, host.as_str())
            .body(Empty::new())
            .expect("a GET with a valid path and host");
        let sent = Instant::now();
        let outcome = async {
            ready.ready().await?;
            let answer = ready.send_request(request).await?;
            let status = answer.status();
            answer.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        }
        .await;
        let took = sent.elapsed();
        let timed = sent >= timed_from && Instant::now() <= until;
        match outcome {
            Ok(status) if status == hyper::StatusCode::OK => {
                if timed {
                    latencies.push(took);
                }
                sender = Some(ready);
            }
            Ok(_) => {
                errors += u64::from(timed);
                sender = Some(ready);
            }
            Err(_) => errors += u64::from(timed),
        }
    }
    (latencies, errors)
}

async fn connect(target: SocketAddr) -> Result<SendRequest<Empty<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(target).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// One GET on a fresh connection: the status and the whole body.
pub async fn get_once(target: SocketAddr, host: &str, path: &str) -> Result<(u16, Bytes)> {
    let mut sender = connect(target).await?;
    let request = Request::get(path)
        .header(hyper::header::HOST, host)
        .body(Empty::new())?;
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        let answer = sender.send_request(request).await?;
        let status = answer.status().as_u16();
        let body = answer.into_body().collect().await?.to_bytes();
        Ok::<_, hyper::Error>((status, body))
    })
    .await
    .context("no answer within 5 s")??;
    Ok(answer)
}
