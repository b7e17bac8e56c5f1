#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine as root: engine and base
# image, lint, unit and integration tests (real dockerd, real SQLite), then
# every real client against a fresh server, schemathesis on the Tapis routes
# (tapipy's spec) and on every route (Berth's own OpenAPI document),
# and the swarm scenario on three real nodes. One debug build serves it all.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/engine.sh)"
export DOCKER_HOST
# The web console's browser test drives Debian's headless Chromium.
bash scripts/install-browser.sh

echo "== format and lints" >&2
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The core's modules import each other in one direction only.
python3 scripts/core-imports.py
python3 scripts/core-imports.py --top

echo "== unit and integration tests" >&2
cargo test --workspace

# Each client flow runs against its own fresh server; all run even if one
# fails, and the suite fails if any did.
failed=()
for flow in deis tutum rcabench tapis; do
  echo "== compatibility: the real $flow client" >&2
  BERTH_BIN=target/debug/berth bash "tests/compat/$flow.sh" || failed+=("$flow")
done
# schemathesis against the Tapis routes, driven by tapipy's own spec.
echo "== fuzz: schemathesis on tapipy's Tapis Pods spec" >&2
fuzz_start=$SECONDS
# Never skipped here: without schemathesis the suite fails.
CI=${CI:-1} BERTH_BIN=target/debug/berth bash tests/fuzz/tapis.sh || failed+=(fuzz-tapis)
echo "== fuzz took $((SECONDS - fuzz_start)) s" >&2
# schemathesis against every dialect, driven by Berth's own /openapi.json.
echo "== fuzz: schemathesis on Berth's own OpenAPI document" >&2
fuzz_start=$SECONDS
CI=${CI:-1} BERTH_BIN=target/debug/berth bash tests/fuzz/berth.sh || failed+=(fuzz-berth)
echo "== fuzz took $((SECONDS - fuzz_start)) s" >&2
# The swarm runtime on a real 3-node swarm (three dockerds in network
# namespaces, built by the recipe beside the project).
echo "== swarm: 3 nodes, deploy, scale, node loss, destroy" >&2
swarm_start=$SECONDS
BERTH_BIN=target/debug/berth bash tests/swarm/scenario.sh || failed+=(swarm)
echo "== swarm scenario took $((SECONDS - swarm_start)) s" >&2
if ((${#failed[@]})); then
  echo "flows failed: ${failed[*]}" >&2
  exit 1
fi
