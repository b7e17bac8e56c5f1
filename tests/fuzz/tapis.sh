#!/usr/bin/env bash
# Fuzz test: schemathesis, driven by tapipy's own Tapis Pods spec
# (tapipy/resources/openapi_v3-pods.yml, tapipy 25.4.0), against a fresh Berth
# server's Tapis routes at /v3 (the spec's paths start with /pods), as a plain
# user with a valid X-Tapis-Token. It asserts that no answer is a 5xx
# (`not_a_server_error`), that every status is documented
# (`status_code_conformance`) and that every JSON body matches its schema
# (`response_schema_conformance`).
#
#   BERTH_BIN=target/debug/berth bash tests/fuzz/tapis.sh
#
# BERTH_FUZZ_SECONDS (default 90) is the time schemathesis may spend; the whole
# script stays under three minutes. BERTH_FUZZ_SEED replays a run's seed (default
# a fixed one; `random` lets schemathesis pick, and each run prints its own).
# Without schemathesis the test is SKIPPED (exit 0), or
# FAILS when CI is set. Output is TAP-like, then `N passed, M failed`.
#
# tests/fuzz/tapis_hooks.py is what the run adds to the spec, each with its
# reason: the error statuses Berth (and the real Pods service) answer, which
# the generated spec leaves out (it lists only 200 and 422 everywhere), and
# two request bodies that make a real pod and volume to fuzz the routes on.
# Operations left out of the run, and why:
# - /traefik-config, /healthcheck, /error-handler/{status}: the Pods
#   service's own plumbing (its proxy's configuration, its probe, its error
#   page), not part of the API a client drives; Berth has /healthz instead.
# - /pods/jupyter/*: TACC's Jupyter launcher, a family Berth does not serve
#   (docs/tapis.md).

# shellcheck source-path=SCRIPTDIR source=../compat/lib.sh
source "$(dirname "$0")/../compat/lib.sh"
command -v curl >/dev/null || die "curl is needed"

setup_clients fuzz "schemathesis (Python 3 venv) and the tapipy spec"
CLIENTS=${BERTH_CLIENTS_DIR:-$ROOT/.clients}
SPEC=$(echo "$CLIENTS"/py3/lib/python3*/site-packages/tapipy/resources/openapi_v3-pods.yml)
[[ -f $SPEC ]] || die "no tapipy spec at $SPEC"

# ---------------------------------------------------------------- server ---
# The image allow-list is on, so a fuzzed image name is refused (400) rather
# than pulled from a registry; only busybox:latest, which the pod example
# runs, is on it.
ADMIN=fuzzadmin
export BERTH_TAPIS_IMAGE_ALLOW_LIST=on BERTH_ADMIN_USERNAME=$ADMIN BERTH_ADMIN_PASSWORD=fuzzadmin-pw-1
make_work fuzz-tapis
start_server

# -------------------------------------------------------------- accounts ---
# tapis_token USER PASSWORD: a Tapis access token from /v3/oauth2/tokens.
tapis_token() {
  curl -s -X POST "$URL/v3/oauth2/tokens" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$2\", \"grant_type\": \"password\"}" |
    "$CLIENTS/fuzz/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["result"]["access_token"]["access_token"])'
}
# The administrator puts the pod example's image on the allow-list.
ADMIN_TOKEN=$(tapis_token "$ADMIN" "$BERTH_ADMIN_PASSWORD") || die "no Tapis token for $ADMIN"
code=$(curl -s -o "$WORK/image.out" -w '%{http_code}' -X POST "$URL/v3/pods/images" \
  -H "X-Tapis-Token: $ADMIN_TOKEN" -H 'Content-Type: application/json' -d '{"image": "busybox:latest"}')
[[ $code == 200 ]] || die "allowing busybox:latest: HTTP $code: $(head -c 500 "$WORK/image.out")"
# The fuzzer is a plain user (no administrator), as a tapipy user would be.
USER_NAME=fuzzer
USER_PASS=fuzzer-pw-1
code=$(curl -s -o "$WORK/reg.out" -w '%{http_code}' -X POST "$URL/v1/auth/register" \
  -d "username=$USER_NAME" -d "password=$USER_PASS" -d "email=$USER_NAME@example.com")
[[ $code == 201 ]] || die "registering $USER_NAME: HTTP $code: $(head -c 500 "$WORK/reg.out")"
TOKEN=$(tapis_token "$USER_NAME" "$USER_PASS") || die "no Tapis token for $USER_NAME"
ok "a plain user's Tapis token from /v3/oauth2/tokens"

# ------------------------------------------------------------------- run ---
SECONDS_BUDGET=${BERTH_FUZZ_SECONDS:-90}
# A fixed seed by default, so that the suite's verdict is the same run after
# run; `BERTH_FUZZ_SEED=random` explores new cases.
FUZZ_SEED=${BERTH_FUZZ_SEED:-20261205}
seed_args=()
[[ $FUZZ_SEED != random ]] && seed_args=(--seed "$FUZZ_SEED")
run_start=$SECONDS
# From $WORK: schemathesis keeps a cache of failing cases (.schemathesis/) in
# the current directory, which goes with the run.
(cd "$WORK" && SCHEMATHESIS_HOOKS=$ROOT/tests/fuzz/tapis_hooks.py PYTHONWARNINGS=ignore \
  timeout $((SECONDS_BUDGET + 60)) "$CLIENTS/fuzz/bin/schemathesis" run "$SPEC" \
  --url "$URL/v3" \
  --header "X-Tapis-Token: $TOKEN" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance \
  --exclude-path-regex '^/(traefik-config|healthcheck|error-handler/)|^/pods/jupyter/' \
  --max-examples 25 \
  --max-time "$SECONDS_BUDGET" \
  --request-timeout 30 \
  --workers 2 \
  --generation-database none \
  --no-color \
  "${seed_args[@]}" >"$WORK/schemathesis.out" 2>&1)
rc=$?
echo "# schemathesis took $((SECONDS - run_start))s (exit $rc)"
grep -E '^(Seed|  Tested|  [0-9]+ generated)|^ *(✅|❌|⏭)' "$WORK/schemathesis.out" | sed 's/^/#   /'
if [[ $rc == 0 ]]; then
  ok "schemathesis finds no 5xx, no undocumented status, no body off its schema"
else
  not_ok "schemathesis finds no 5xx, no undocumented status, no body off its schema" \
    "$(sed -n '/FAILURES\|ERRORS/,$p' "$WORK/schemathesis.out" | head -n 300)"
fi

# ------------------------------------------------------------------- end ---
# Pods the run made keep their containers until the server goes; cleanup (at
# exit) kills it and removes every container with this server's label.
finish
