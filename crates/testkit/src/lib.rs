//! What Berth's integration tests and `berth bench` share: a `berth serve`
//! child process on its own data dir ([`Server`]), a client of the `/v1`
//! API ([`Api`]) and the docker CLI ([`docker`]).

mod api;
pub mod docker;
mod server;

pub use api::{Api, IMAGE, PASSWORD, Reply, SLEEPER_PROCFILE, unique_app_id, unique_username};
pub use reqwest::Method;
pub use server::{Launch, Server, log_tail};
