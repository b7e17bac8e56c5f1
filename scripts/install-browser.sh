#!/usr/bin/env bash
# Debian's Chromium and its chromedriver, for the web console's browser test
# (crates/berth/tests/integration/console.rs); installed with apt-get when
# missing. Only the test suite needs them, so scripts/start.sh does not.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
((${#missing[@]})) || exit 0
echo "install-browser.sh: installing ${missing[*]} (apt)" >&2
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
