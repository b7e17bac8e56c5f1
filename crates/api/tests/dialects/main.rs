//! The API's answers, dialect by dialect, with no container engine: the real
//! router over a temp SQLite store and the in-memory runtime. Each module
//! pins one dialect's success envelopes and its 4xx shapes.

mod app;
mod certs;
mod console;
mod deis;
mod deis_seed;
mod images;
mod limits;
mod metrics;
mod nds;
mod nodes;
mod openapi;
mod quotas;
mod rcabench;
mod refusals;
mod routes_doc;
mod security;
mod shares;
mod tapis;
mod tapis_fuzz;
mod tapis_networking;
mod tapis_pods;
mod tapis_volumes;
mod tutum;
