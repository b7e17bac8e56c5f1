# shellcheck shell=bash
# The harness shared by the compatibility tests; each one sources it with
#   source "$(dirname "$0")/lib.sh"
# and then calls, in order: setup_clients, make_work, start_server, and at the
# very end finish (whose status is the script's exit status).
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
COMPAT_NAME=$(basename "$0")

BERTH_BIN=${BERTH_BIN:-target/release/berth}
[[ $BERTH_BIN == /* ]] || BERTH_BIN=$ROOT/$BERTH_BIN
START=$SECONDS

die() { echo "$COMPAT_NAME: ERROR: $*" >&2; exit 1; }
[[ -x $BERTH_BIN ]] || die "no berth binary at $BERTH_BIN (build it, or set BERTH_BIN)"

# setup_clients CLIENT DESCRIPTION: bring up the engine and install CLIENT with
# scripts/install-clients.sh. A missing client skips the test, unless CI is set.
setup_clients() {
  local engine msg
  engine=$(bash scripts/engine.sh) || die "no Docker engine (scripts/engine.sh failed)"
  eval "$engine"
  export DOCKER_HOST

  if ! bash scripts/install-clients.sh "$1"; then
    msg="$2 could not be installed"
    if [[ -n ${CI:-} ]]; then
      echo "######## FAILED: $msg; CI is set, so this is an error ########" >&2
      exit 1
    fi
    echo "######## SKIPPED: $msg; tests/compat/$COMPAT_NAME did not run ########"
    exit 0
  fi
}

# ---------------------------------------------------------------- server ---
# make_work NAME: a fresh /tmp/berth-NAME-compat.* directory, removed on exit
# together with the server and its containers. A script that leaves more
# behind defines cleanup_extra, called before the directory goes.
make_work() {
  WORK=$(mktemp -d "/tmp/berth-$1-compat.XXXXXX")
  DATA=$WORK/data
  SERVER_PID=
  SID=
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ -z $SID && -f $DATA/server-id ]] && SID=$(cat "$DATA/server-id")
  if [[ -n $SID ]]; then
    local ids
    ids=$(docker ps -aq --filter "label=berth.server=$SID")
    # shellcheck disable=SC2086  # a list of ids
    [[ -n $ids ]] && docker rm -f $ids >/dev/null
    docker network prune -f --filter "label=berth.server=$SID" >/dev/null
  fi
  declare -F cleanup_extra >/dev/null && cleanup_extra
  rm -rf "$WORK"
}

# start_server: start berth on a free port; sets URL and SID.
start_server() {
  mkdir -p "$DATA"
  "$BERTH_BIN" serve --listen 127.0.0.1:0 --router-listen 127.0.0.1:0 --data-dir "$DATA" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  URL=
  local i
  for ((i = 0; i < 600; i++)); do
    URL=$(grep -om1 '^listening on http://[0-9.:]*' "$WORK/server.log" | sed 's/^listening on //')
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
}

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
# check MSG CONDITION...: a passing/failing assertion from a command's status.
check() {
  local msg=$1
  shift
  if "$@"; then ok "$msg"; else not_ok "$msg" "${DETAIL:-}"; fi
}

assert_eq() { # EXPECTED ACTUAL MSG
  DETAIL="expected: $1"$'\n'"actual:   $2" check "$3" test "$1" = "$2"
}
assert_contains() { # HAYSTACK NEEDLE MSG (NEEDLE is a fixed string)
  DETAIL="expected to find: $2"$'\n'"in:"$'\n'"$1" check "$3" grep -qF -- "$2" <<<"$1"
}
assert_matches() { # HAYSTACK ERE MSG (one line must match)
  DETAIL="expected a line matching: $2"$'\n'"in:"$'\n'"$1" check "$3" grep -qE -- "$2" <<<"$1"
}
lacks() { ! grep -qF -- "$2" <<<"$1"; }
assert_not_contains() { # HAYSTACK NEEDLE MSG
  DETAIL="expected NOT to find: $2"$'\n'"in:"$'\n'"$1" check "$3" lacks "$1" "$2"
}

# finish: the summary; its status is the test's exit status.
finish() {
  if ((FAILED)); then
    echo "# last lines of the server log:"
    tail -n 40 "$WORK/server.log" | sed 's/^/#   /'
  fi
  echo "# took $((SECONDS - START))s"
  echo "$PASSED passed, $FAILED failed"
  ((FAILED == 0))
}
