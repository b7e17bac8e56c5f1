//! Runtime drivers. `docker` talks to one Docker Engine through bollard;
//! `swarm` runs every instance as a service of a Docker Swarm (through its
//! manager, reusing the Docker driver for images, networks and the
//! manager's own containers); `fake` (feature `fake`, for tests) keeps
//! containers in memory.

pub mod docker;
#[cfg(feature = "fake")]
pub mod fake;
pub mod swarm;

pub use docker::{DockerRuntime, EnginePolicy};
#[cfg(feature = "fake")]
pub use fake::FakeRuntime;
pub use swarm::SwarmRuntime;
