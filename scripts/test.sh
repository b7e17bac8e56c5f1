#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine as root: engine and base
# image, lint, unit and integration tests (real dockerd, real SQLite), then
# the real Deis CLI against a fresh server. One debug build serves it all.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/engine.sh)"
export DOCKER_HOST

echo "== format and lints" >&2
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== unit and integration tests" >&2
cargo test --workspace

echo "== compatibility: the real deis 1.9.1 CLI" >&2
BERTH_BIN=target/debug/berth bash tests/compat/deis.sh

echo "== compatibility: the real tutum 0.7.5.1 CLI and python-tutum 0.7.5" >&2
BERTH_BIN=target/debug/berth bash tests/compat/tutum.sh

echo "== compatibility: the real rcabench 1.1.46 SDK" >&2
BERTH_BIN=target/debug/berth bash tests/compat/rcabench.sh

echo "== compatibility: the real tapipy 25.4.0" >&2
BERTH_BIN=target/debug/berth bash tests/compat/tapis.sh
