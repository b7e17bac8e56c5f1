//! Berth's in-process HTTP router.

pub mod tls;
