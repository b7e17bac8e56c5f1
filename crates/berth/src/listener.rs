//! The HTTP listener, for the API and the router alike: accepts connections
//! up to a cap, gives each one a deadline for reading request headers (and
//! the API's requests one for reading their bodies), makes each connection's
//! service knowing the client's address, and on shutdown stops accepting,
//! lets answers in flight finish for a grace period, then closes whatever is
//! still open (follow streams never finish on their own).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use berth_router::tls::TlsAcceptor;
use hyper::body::{Body, Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// How much the listener lets clients hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; further clients wait in the accept queue.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body, from the end of its headers.
    pub body_timeout: Duration,
    /// How long answers in flight may take once shutdown begins.
    pub shutdown_grace: Duration,
}

/// One API connection's service: the app, told the client's address where
/// axum's `ConnectInfo` finds it.
#[derive(Clone)]
pub struct ApiConnection<A> {
    app: A,
    peer: SocketAddr,
    body_timeout: Duration,
}

impl<A> ApiConnection<A> {
    /// The maker [`serve`] takes: one service per client address, whose
    /// requests must arrive whole within `body_timeout`.
    pub fn maker(app: A, body_timeout: Duration) -> impl Fn(SocketAddr) -> Self
    where
        A: Clone,
    {
        move |peer| ApiConnection {
            app: app.clone(),
            peer,
            body_timeout,
        }
    }
}

impl<A> Service<hyper::Request<Incoming>> for ApiConnection<A>
where
    A: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    A::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = tower::util::Oneshot<A, Request>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let body_timeout = self.body_timeout;
        let mut req = req.map(|body| axum::body::Body::new(TimedBody::new(body, body_timeout)));
        req.extensions_mut().insert(ConnectInfo(self.peer));
        self.app.clone().oneshot(req)
    }
}

/// Serves on `listener`, each connection with the service `make` gives for
/// its client's address, until `shutdown` completes, then drains within
/// [`Limits::shutdown_grace`].
pub async fn serve<M, S, B>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    make: M,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) where
    M: Fn(SocketAddr) -> S,
    S: Service<hyper::Request<Incoming>, Response = hyper::Response<B>, Error = Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stopping, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, usually: give clients time to leave.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let (service, stop, tls) = (make(peer), stop.clone(), tls.clone());
        let header_timeout = limits.header_timeout;
        connections.spawn(async move {
            let _ = stream.set_nodelay(true);
            let Some(tls) = tls else {
                return connection(stream, peer, service, header_timeout, stop, slot).await;
            };
            // The handshake gets the same deadline as a request's headers.
            match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                Ok(Ok(stream)) => {
                    connection(stream, peer, service, header_timeout, stop, slot).await
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "shutdown grace period over; closing the connections still open"
        );
        connections.shutdown().await;
    }
}

/// One client connection, served until it closes or shutdown asks it to.
async fn connection<S, B, IO>(
    stream: IO,
    peer: SocketAddr,
    service: S,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) where
    S: Service<hyper::Request<Incoming>, Response = hyper::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        }
        _ = async { stop.wait_for(|stopping| *stopping).await.map(|_| ()) } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A request body that fails once its deadline passes, so a client that
/// sent its headers and then trickles (or withholds) the body is cut off.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            timeout,
        }
    }
}

/// The error a body past its deadline ends with.
#[derive(Debug)]
struct BodyTimedOut(Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for BodyTimedOut {}

impl hyper::body::Body for TimedBody {
    type Data = hyper::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimedOut(self.timeout).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
