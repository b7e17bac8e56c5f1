//! Berth's domain core. It knows no HTTP, no SQL and no container engine:
//! those sit behind the [`store::Store`] and [`runtime::Runtime`] traits.

pub mod access;
pub mod archive;
pub mod auth;
pub mod catalog;
pub mod certs;
pub mod change;
pub mod datasets;
pub mod error;
pub mod feed;
pub mod image;
pub mod instance_io;
pub mod jobs;
pub mod metrics;
pub mod model;
pub mod networking;
pub mod output_tail;
pub mod plan;
pub mod pods;
pub mod quota;
pub mod reconciler;
pub mod routing;
pub mod rules;
pub mod runtime;
pub mod service;
pub mod signals;
pub mod spec;
pub mod store;
pub mod templates;
pub mod traffic;
pub mod volume_files;
pub mod workload;

pub use error::{CoreError, CoreResult};
