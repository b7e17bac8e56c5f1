//! What every dialect shares: the [`Dialect`] frame that gives each one its
//! error shape and credential forms, the authenticated [`Caller`], request
//! bodies and parameters read by type, the health check, the metrics and
//! the OpenAPI document.

pub mod auth;
pub mod body;
pub mod error;
pub mod events;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod params;

pub use auth::{Caller, Credentials, MaybeCaller, Peer};
pub use body::{FieldRules, Fields, Payload};
pub use error::{Dialect, DialectError};
pub use params::{Params, PathParams, parse_flag};
