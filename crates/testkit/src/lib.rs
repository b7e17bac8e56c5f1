//! What Berth's integration tests and `berth bench` share: a `berth serve`
//! child process on its own data dir ([`Server`]), a client of the `/v1`
//! API ([`Api`]), the docker CLI ([`docker`]), a headless browser
//! ([`browser`]) and polling until something holds ([`wait_until`]).

mod api;
pub mod browser;
pub mod docker;
mod server;
mod wait;

pub use api::{Api, IMAGE, PASSWORD, Reply, SLEEPER_PROCFILE, unique_app_id, unique_username};
pub use reqwest::Method;
pub use server::{Launch, Server, log_tail};
pub use wait::{try_wait_until, wait_until};
