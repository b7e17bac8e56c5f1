//! Runtime drivers. `docker` talks to one Docker Engine through bollard;
//! `fake` (feature `fake`, for tests) keeps containers in memory.

pub mod docker;
#[cfg(feature = "fake")]
pub mod fake;

pub use docker::{DockerRuntime, EnginePolicy};
#[cfg(feature = "fake")]
pub use fake::FakeRuntime;
