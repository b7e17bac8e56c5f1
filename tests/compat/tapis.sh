#!/usr/bin/env bash
# Compatibility test: the real, unmodified Tapis Python SDK (`tapipy` 25.4.0)
# against a fresh Berth server's Tapis Pods dialect at /v3/pods (and /pods),
# asserting on what tapipy returns, on the raw HTTP answers where tapipy cannot
# see them (envelope, Content-Type, list_files / download_from_pod, which its
# bundled spec lacks), and on what the Docker engine actually runs.
#
#   BERTH_BIN=target/debug/berth bash tests/compat/tapis.sh
#
# BERTH_BIN defaults to target/release/berth. Without the client the test is
# SKIPPED (exit 0), or FAILS when CI is set. Output is TAP-like: `ok - ...` /
# `not ok - ...` lines, then exactly one `N passed, M failed` line.
#
# The flows are tests/compat/tapis_storage_flow.py (volumes, snapshots, the
# image allow-list; first) and tests/compat/tapis_flow.py, run with the py3 client venv;
# it prints the ok / not ok lines. Notes on the client (see CONTRACT.md):
# - `tenant_id` is passed, so tapipy never looks up /v3/sites or /v3/tenants.
# - tapipy decodes the token without verifying it; it needs a JWT with `exp`.
# - tapipy parses a body only when Content-Type is exactly application/json.

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || die "curl is needed"

setup_clients py3 "the tapipy 25.4.0 client (Python 3 venv)"
PY=${BERTH_CLIENTS_DIR:-$ROOT/.clients}/py3/bin/python

# ---------------------------------------------------------------- server ---
# The image allow-list is on (it is off by default): tapis_storage_flow.py,
# as the administrator the server makes at start, adds the images the pods
# of both flows use before anything else runs.
ADMIN=tapisadmin
PADMIN=tapisadmin-pw-3
export BERTH_TAPIS_IMAGE_ALLOW_LIST=on BERTH_ADMIN_USERNAME=$ADMIN BERTH_ADMIN_PASSWORD=$PADMIN
make_work tapis
start_server

# -------------------------------------------------------------- accounts ---
# Users are registered through the native (Deis-compatible) API; tapipy then
# gets its tokens from /v3/oauth2/tokens with the same credentials.
A=alice
B=bob
PA=alice-pw-1
PB=bob-pw-2
for u in "$A:$PA" "$B:$PB"; do
  code=$(curl -s -o "$WORK/reg.out" -w '%{http_code}' -X POST "$URL/v1/auth/register" \
    -d "username=${u%%:*}" -d "password=${u#*:}" -d "email=${u%%:*}@example.com")
  if [[ $code == 201 ]]; then
    ok "user ${u%%:*} registered through /v1/auth/register"
  else
    not_ok "user ${u%%:*} registered through /v1/auth/register" "HTTP $code: $(head -c 500 "$WORK/reg.out")"
  fi
done

# ------------------------------------------------------------------ flow ---
# Each flow prints the ok / not ok lines; they are counted here. The storage
# flow (volumes, snapshots, the image allow-list) goes first: it puts the
# pods' image on the allow-list.
export BERTH_URL=$URL BERTH_SID=$SID TAPIS_USER_A=$A TAPIS_PASS_A=$PA TAPIS_USER_B=$B TAPIS_PASS_B=$PB
export TAPIS_ADMIN=$ADMIN TAPIS_ADMIN_PASS=$PADMIN
export PYTHONWARNINGS=ignore PYTHONUNBUFFERED=1
for flow in tapis_storage_flow tapis_flow; do
  timeout 1200 "$PY" "tests/compat/$flow.py" 2>"$WORK/$flow.err" | tee "$WORK/$flow.out"
  rc=${PIPESTATUS[0]}
  PASSED=$((PASSED + $(grep -c '^ok - ' "$WORK/$flow.out")))
  FAILED=$((FAILED + $(grep -c '^not ok - ' "$WORK/$flow.out")))
  if [[ $rc == 0 ]]; then
    ok "the tapipy flow $flow.py ran to the end"
  else
    not_ok "the tapipy flow $flow.py ran to the end" "exit code $rc; stderr:"$'\n'"$(tail -n 30 "$WORK/$flow.err")"
  fi
done

# ------------------------------------------------------------------- end ---
left=$(docker ps -aq --filter "label=berth.server=$SID" | grep -c .)
if [[ $left == 0 ]]; then
  ok "no container of this server is left after every pod was deleted"
else
  not_ok "no container of this server is left after every pod was deleted" \
    "$(docker ps -a --filter "label=berth.server=$SID" --format '{{.ID}} {{.Names}} {{.Status}} {{.Labels}}')"
fi
finish
