//! Runtime drivers. `docker` talks to one Docker Engine through bollard.

pub mod docker;

pub use docker::DockerRuntime;
