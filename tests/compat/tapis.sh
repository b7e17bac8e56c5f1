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
# The flow itself is tests/compat/tapis_flow.py, run with the py3 client venv;
# it prints the ok / not ok lines. Notes on the client (see CONTRACT.md):
# - `tenant_id` is passed, so tapipy never looks up /v3/sites or /v3/tenants.
# - tapipy decodes the token without verifying it; it needs a JWT with `exp`.
# - tapipy parses a body only when Content-Type is exactly application/json.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD

BERTH_BIN=${BERTH_BIN:-target/release/berth}
[[ $BERTH_BIN == /* ]] || BERTH_BIN=$ROOT/$BERTH_BIN
START=$SECONDS

die() { echo "tapis.sh: ERROR: $*" >&2; exit 1; }
[[ -x $BERTH_BIN ]] || die "no berth binary at $BERTH_BIN (build it, or set BERTH_BIN)"
command -v curl >/dev/null || die "curl is needed"

engine=$(bash scripts/engine.sh) || die "no Docker engine (scripts/engine.sh failed)"
eval "$engine"
export DOCKER_HOST

if ! bash scripts/install-clients.sh py3; then
  msg="the tapipy 25.4.0 client (Python 3 venv) could not be installed"
  if [[ -n ${CI:-} ]]; then
    echo "######## FAILED: $msg; CI is set, so this is an error ########" >&2
    exit 1
  fi
  echo "######## SKIPPED: $msg; tests/compat/tapis.sh did not run ########"
  exit 0
fi
PY=${BERTH_CLIENTS_DIR:-$ROOT/.clients}/py3/bin/python

# ---------------------------------------------------------------- server ---
WORK=$(mktemp -d /tmp/berth-tapis-compat.XXXXXX)
DATA=$WORK/data
SERVER_PID=
SID=

cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ -z $SID && -f $DATA/server-id ]] && SID=$(cat "$DATA/server-id")
  if [[ -n $SID ]]; then
    local ids
    ids=$(docker ps -aq --filter "label=berth.server=$SID")
    # shellcheck disable=SC2086  # a list of ids
    [[ -n $ids ]] && docker rm -f $ids >/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$DATA"
"$BERTH_BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
URL=
for ((i = 0; i < 600; i++)); do
  URL=$(grep -om1 'listening on http://[0-9.:]*' "$WORK/server.log" | sed 's/^listening on //')
  [[ -n $URL ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $URL ]]; then
  cat "$WORK/server.log" >&2
  die "the server did not start"
fi
SID=$(cat "$DATA/server-id") || die "no $DATA/server-id"
echo "# berth at $URL, server id $SID, DOCKER_HOST=$DOCKER_HOST"

# --------------------------------------------------------------- helpers ---
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() {
  FAILED=$((FAILED + 1))
  echo "not ok - $1"
  local line
  [[ -n ${2:-} ]] && while IFS= read -r line; do echo "#   $line"; done <<<"$2"
  return 0
}

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
# tapis_flow.py prints the ok / not ok lines; they are counted here.
export BERTH_URL=$URL BERTH_SID=$SID TAPIS_USER_A=$A TAPIS_PASS_A=$PA TAPIS_USER_B=$B TAPIS_PASS_B=$PB
export PYTHONWARNINGS=ignore PYTHONUNBUFFERED=1
timeout 1200 "$PY" tests/compat/tapis_flow.py 2>"$WORK/flow.err" | tee "$WORK/flow.out"
rc=${PIPESTATUS[0]}
PASSED=$((PASSED + $(grep -c '^ok - ' "$WORK/flow.out")))
FAILED=$((FAILED + $(grep -c '^not ok - ' "$WORK/flow.out")))
if [[ $rc == 0 ]]; then
  ok "the tapipy flow ran to the end"
else
  not_ok "the tapipy flow ran to the end" "exit code $rc; stderr:"$'\n'"$(tail -n 30 "$WORK/flow.err")"
fi

# ------------------------------------------------------------------- end ---
left=$(docker ps -aq --filter "label=berth.server=$SID" | grep -c .)
if [[ $left == 0 ]]; then
  ok "no container of this server is left after every pod was deleted"
else
  not_ok "no container of this server is left after every pod was deleted" \
    "$(docker ps -a --filter "label=berth.server=$SID" --format '{{.ID}} {{.Names}} {{.Status}} {{.Labels}}')"
fi
if ((FAILED)); then
  echo "# last lines of the server log:"
  tail -n 40 "$WORK/server.log" | sed 's/^/#   /'
fi
echo "# took $((SECONDS - START))s"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
