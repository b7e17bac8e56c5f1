//! End-to-end tests of `berth serve` against a real Docker engine.
//!
//! Every test starts its own server on its own data dir and removes its
//! containers when it ends, so the tests run in parallel. The engine must be
//! up first: `eval "$(bash scripts/engine.sh)"`; without one every test fails.

mod bad_input;
mod builds;
mod concurrency;
mod console;
mod engine_restart;
mod events;
mod fair_use;
mod hardening;
mod harness;
mod isolation;
mod lifecycle;
mod memory;
mod nds_datasets;
mod nds_jobs;
mod pod_files;
mod pod_states;
mod restart;
mod router;
mod server_limits;
mod tapis;
mod tapis_volumes;
