//! The body type the router passes along, and the wrapper that counts a
//! request as in flight to its instance until its answer's body is done.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body, Frame, SizeHint};

use crate::Load;

/// Any body the router sends or answers with: streamed from a client or an
/// instance, or one of its own short pages.
pub type ProxyBody = BoxBody<Bytes, hyper::Error>;

pub(crate) fn full(text: impl Into<Bytes>) -> ProxyBody {
    Full::new(text.into())
        .map_err(|never| match never {})
        .boxed()
}

pub(crate) fn empty() -> ProxyBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// One request in flight to an instance; counted down when dropped.
pub(crate) struct InFlight(Arc<Load>);

impl InFlight {
    pub(crate) fn start(load: Arc<Load>) -> Self {
        load.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(load)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An instance's answer body that keeps its request in flight until the
/// last byte went out (or the client left).
pub(crate) struct Tracked {
    inner: ProxyBody,
    _in_flight: InFlight,
}

impl Tracked {
    pub(crate) fn wrap(inner: ProxyBody, in_flight: InFlight) -> ProxyBody {
        Tracked {
            inner,
            _in_flight: in_flight,
        }
        .boxed()
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
