#!/usr/bin/env bash
# Fuzz test: schemathesis, driven by Berth's own document (/openapi.json),
# against a fresh server, one dialect (tag) at a time with that dialect's
# credentials, as a plain user. It asserts that no answer is a 5xx
# (`not_a_server_error`), that every status is one the document lists for the
# operation (`status_code_conformance`) and that every body matches the schema
# the document gives it (`response_schema_conformance`). The document is first
# checked against the OpenAPI 3.1 specification by openapi-spec-validator.
#
#   BERTH_BIN=target/debug/berth bash tests/fuzz/berth.sh [TAG…]
#
# TAGs default to all seven (berth deis tutum tapis rcabench nds console).
# BERTH_FUZZ_SECONDS (default 30) is the time schemathesis may spend per tag.
# BERTH_FUZZ_SEED replays a run's seed (default a fixed one; `random` lets
# schemathesis pick). Without schemathesis the test is SKIPPED (exit 0), or
# FAILS when CI is set. Output is TAP-like, then `N passed, M failed`.
#
# Operations left out, and why:
# - POST /v1/auth/tokens, POST /v1/auth/passwd, DELETE /v1/auth/cancel: they
#   end the fuzzing user's own credentials, after which every later case is a
#   401 and nothing else is exercised (tests/compat/deis.sh drives them).
# - GET /v1/events, GET /v1/apps/{id}/events: server-sent event streams that
#   stay open until the client leaves, so every case waits out the request
#   timeout and eats the time budget (crates/api/tests/dialects/metrics.rs
#   drives them).
# - POST /ui/api/logout: it ends the console session the fuzzer runs with,
#   after which every later console case is a 401
#   (crates/api/tests/dialects/console.rs tests it).
# - GET /ui/api/events: the console's event stream, endless like the two
#   above (the console's dialect and browser tests follow it).

# shellcheck source-path=SCRIPTDIR source=../compat/lib.sh
source "$(dirname "$0")/../compat/lib.sh"
command -v curl >/dev/null || die "curl is needed"

setup_clients fuzz "schemathesis (Python 3 venv)"
CLIENTS=${BERTH_CLIENTS_DIR:-$ROOT/.clients}
PY=$CLIENTS/fuzz/bin/python

# ---------------------------------------------------------------- server ---
ADMIN=fuzzadmin
export BERTH_TAPIS_IMAGE_ALLOW_LIST=on BERTH_ADMIN_USERNAME=$ADMIN BERTH_ADMIN_PASSWORD=fuzzadmin-pw-1
make_work fuzz-berth
start_server

# -------------------------------------------------------------- accounts ---
USER_NAME=fuzzer
USER_PASS=fuzzer-pw-1
code=$(curl -s -o "$WORK/reg.out" -w '%{http_code}' -X POST "$URL/v1/auth/register" \
  -d "username=$USER_NAME" -d "password=$USER_PASS" -d "email=$USER_NAME@example.com")
[[ $code == 201 ]] || die "registering $USER_NAME: HTTP $code: $(head -c 500 "$WORK/reg.out")"
TOKEN=$(curl -s -X POST "$URL/v1/auth/login" -d "username=$USER_NAME" -d "password=$USER_PASS" |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["token"])') || die "no token for $USER_NAME"
TAPIS_TOKEN=$(curl -s -X POST "$URL/v3/oauth2/tokens" -H 'Content-Type: application/json' \
  -d "{\"username\": \"$USER_NAME\", \"password\": \"$USER_PASS\", \"grant_type\": \"password\"}" |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["result"]["access_token"]["access_token"])') ||
  die "no Tapis token for $USER_NAME"
# The console's session: the cookie its login sets, and the CSRF token its
# answer carries, which every POST of the session must send.
CONSOLE_LOGIN=$(curl -s -D "$WORK/console-login.headers" -X POST "$URL/ui/api/login" \
  -H 'Content-Type: application/json' \
  -d "{\"username\": \"$USER_NAME\", \"password\": \"$USER_PASS\"}") ||
  die "the console's login failed"
CONSOLE_SESSION=$(sed -n 's/^[Ss]et-[Cc]ookie: berth_session=\([^;]*\);.*/\1/p' "$WORK/console-login.headers")
[[ -n $CONSOLE_SESSION ]] || die "no console session cookie: $(cat "$WORK/console-login.headers")"
CONSOLE_CSRF=$("$PY" -c 'import json, sys; print(json.load(sys.stdin)["csrf"])' <<<"$CONSOLE_LOGIN") ||
  die "no CSRF token in the console's login answer: $CONSOLE_LOGIN"
ok "a plain user's tokens and console session"

curl -sf "$URL/openapi.json" -o "$WORK/openapi.json" || die "no /openapi.json"
if out=$("$CLIENTS/fuzz/bin/python" -m openapi_spec_validator "$WORK/openapi.json" 2>&1); then
  ok "/openapi.json is a valid OpenAPI 3.1 document (openapi-spec-validator)"
else
  not_ok "/openapi.json is a valid OpenAPI 3.1 document (openapi-spec-validator)" "$(head -n 40 <<<"$out")"
fi

# credentials TAG: the headers a client of that dialect sends, one a line.
credentials() {
  case $1 in
    console) printf '%s\n' "Cookie: berth_session=$CONSOLE_SESSION" "X-CSRF-Token: $CONSOLE_CSRF" ;;
    berth) echo "X-Berth-Fuzz: anonymous" ;;
    deis) echo "Authorization: token $TOKEN" ;;
    tutum) echo "Authorization: ApiKey $USER_NAME:$TOKEN" ;;
    tapis) echo "X-Tapis-Token: $TAPIS_TOKEN" ;;
    rcabench | nds) echo "Authorization: Bearer $TOKEN" ;;
    *) die "unknown tag $1" ;;
  esac
}

# ------------------------------------------------------------------- run ---
SECONDS_BUDGET=${BERTH_FUZZ_SECONDS:-30}
FUZZ_SEED=${BERTH_FUZZ_SEED:-20261205}
seed_args=()
[[ $FUZZ_SEED != random ]] && seed_args=(--seed "$FUZZ_SEED")
TAGS=("$@")
[[ ${#TAGS[@]} == 0 ]] && TAGS=(berth deis tutum tapis rcabench nds console)
for tag in "${TAGS[@]}"; do
  run_start=$SECONDS
  header_args=()
  while IFS= read -r line; do header_args+=(--header "$line"); done < <(credentials "$tag")
  out=$WORK/schemathesis-$tag.out
  # From $WORK: schemathesis keeps a cache of failing cases (.schemathesis/)
  # in the current directory, which goes with the run. One worker: with two,
  # both threads can reach Hypothesis's first `ast.parse` of a source file at
  # once, which Python 3.11 does not survive ("SystemError: AST constructor
  # recursion depth mismatch", a tool error that fails the run).
  (cd "$WORK" && PYTHONWARNINGS=ignore \
    timeout $((SECONDS_BUDGET + 60)) "$CLIENTS/fuzz/bin/schemathesis" run "$WORK/openapi.json" \
    --url "$URL" \
    --include-tag "$tag" \
    --exclude-path-regex '^/v1/(auth/(tokens|passwd|cancel)|(apps/\{id\}/)?events)$|^/ui/api/(logout|events)$' \
    "${header_args[@]}" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --max-examples 20 \
    --max-time "$SECONDS_BUDGET" \
    --request-timeout 30 \
    --workers 1 \
    --generation-database none \
    --no-color \
    "${seed_args[@]}" >"$out" 2>&1)
  rc=$?
  echo "# $tag: schemathesis took $((SECONDS - run_start))s (exit $rc)"
  grep -E '^(Seed|  Tested|  [0-9]+ generated)|^ *(✅|❌|⏭)' "$out" | sed 's/^/#   /'
  if [[ $rc == 0 ]]; then
    ok "$tag: no 5xx, no undocumented status, no body off its schema"
  else
    not_ok "$tag: no 5xx, no undocumented status, no body off its schema" \
      "$(sed -n '/FAILURES\|ERRORS/,$p' "$out" | head -n 300)"
  fi
done

# ------------------------------------------------------------------- end ---
finish
