#!/usr/bin/env bash
# Starts the platform on a fresh Debian machine as root: Docker engine and
# base image, a release build, then `berth serve` (extra arguments go to it).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/engine.sh)"
export DOCKER_HOST
cargo build --release -p berth
exec target/release/berth serve "$@"
