#!/usr/bin/env bash
# Compatibility test: the real, unmodified Tutum clients of the application
# era — the `tutum` CLI 0.7.5.1 and the python-tutum 0.7.5 library it is built
# on — against a fresh Berth server's Tutum v1 dialect at /api/v1/. Asserts on
# what the clients print and return (and their exit codes), on the raw HTTP
# answers where the clients cannot see them, and on what the Docker engine
# actually runs.
#
#   BERTH_BIN=target/debug/berth bash tests/compat/tutum.sh
#
# BERTH_BIN defaults to target/release/berth. Without Python 2.7 / the client
# the test is SKIPPED (exit 0), or FAILS when CI is set. Output is TAP-like:
# `ok - ...` / `not ok - ...` lines, then exactly one `N passed, M failed` line.
#
# Notes on the client (read from its source, see CONTRACT.md):
# - In 0.7.5.1 applications are `tutum cluster ...` and the library class is
#   `tutum.Cluster` (endpoint /application); there is no tutum.Application.
# - `tutum login` reads the username with raw_input and the password with
#   getpass, which prefers /dev/tty: the CLI runs under `setsid` (no
#   controlling terminal) so that both come from stdin. Its first use
#   registers the account and stores no key; the second login stores it.
# - `tutum cluster run` is a create (POST /application/) followed at once by
#   POST /application/<uuid>/start/; both must answer 2xx with the object.

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || die "python3 is needed (JSON checks)"
command -v setsid >/dev/null || die "setsid (util-linux) is needed"

setup_clients tutum "the tutum 0.7.5.1 client (Python 2.7)"
CLIENT_DIR=${BERTH_CLIENTS_DIR:-$ROOT/.clients}/tutum
TUTUM=$CLIENT_DIR/bin/tutum
TPY=$CLIENT_DIR/bin/python
# The clients would otherwise read these from the caller's environment.
unset TUTUM_USER TUTUM_APIKEY TUTUM_BASE_URL

# ---------------------------------------------------------------- server ---
make_work tutum
mkdir -p "$WORK/cwd"
start_server
TB=$URL/api/v1/ # TUTUM_BASE_URL: it must end in /api/v1/

# --------------------------------------------------------------- helpers ---
one_of() { # VALUE CHOICES...
  local v=$1 c
  shift
  for c; do [[ $v == "$c" ]] && return 0; done
  return 1
}
assert_one_of() { # ACTUAL MSG CHOICES...
  local v=$1 msg=$2
  shift 2
  DETAIL="expected one of: $*"$'\n'"actual: $v" check "$msg" one_of "$v" "$@"
}
# eventually MSG SECONDS CONDITION...: CONDITION succeeds within SECONDS
# (polled). Conditions describe what they saw last in SEEN.
eventually() {
  local msg=$1 end=$((SECONDS + $2))
  shift 2
  SEEN=
  until "$@"; do
    if ((SECONDS >= end)); then
      not_ok "$msg" "not true within the deadline; last seen: $SEEN"
      return 0
    fi
    sleep 0.5
  done
  ok "$msg"
}

# holds MSG SECONDS CONDITION...: CONDITION stays true for SECONDS.
holds() {
  local msg=$1 end=$((SECONDS + $2))
  shift 2
  SEEN=
  while ((SECONDS < end)); do
    "$@" || { not_ok "$msg" "it stopped being true; seen: $SEEN"; return 0; }
    sleep 0.5
  done
  ok "$msg"
}

# jget EXPR [JSON]: a Python expression on d = JSON (default: $BODY). Strings
# print bare, everything else as JSON; "<not JSON>" or "<Error: ...>" if it fails.
JGET_PY='
import json, sys
try:
    d = json.loads(sys.stdin.read())
except Exception:
    print("<not JSON>"); sys.exit(0)
try:
    v = eval(sys.argv[1])
except Exception as e:
    print("<%s: %s>" % (type(e).__name__, e)); sys.exit(0)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
'
jget() { python3 -c "$JGET_PY" "$1" <<<"${2-$BODY}"; }

# api METHOD PATH [JSON]: curl as $AUTHH (default: alice's ApiKey header).
# Sets CODE and BODY.
api() {
  local args=(-s -o "$WORK/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json')
  [[ -n ${AUTHH-$ALICE_AUTH} ]] && args+=(-H "Authorization: ${AUTHH-$ALICE_AUTH}")
  (($# >= 3)) && args+=(--data "$3")
  CODE=$(curl "${args[@]}" "$URL$2")
  BODY=$(cat "$WORK/body" 2>/dev/null)
}
ALICE_AUTH=
assert_code() { # EXPECTED... MSG: the last api call's CODE is one of EXPECTED
  local args=("$@") msg=${*: -1}
  unset 'args[${#args[@]}-1]'
  DETAIL="expected HTTP ${args[*]}, got $CODE: $BODY" check "$msg" one_of "$CODE" "${args[@]}"
}

# tutum_as USER ARGS...: run the real CLI as USER (own HOME), stdin from $IN,
# with no controlling terminal. Sets OUT (stdout+stderr) and RC.
tutum_as() {
  local user=$1
  shift
  mkdir -p "$WORK/home-$user"
  OUT=$(cd "$WORK/cwd" && printf '%s' "${IN:-}" |
    HOME=$WORK/home-$user TUTUM_BASE_URL=$TB PYTHONWARNINGS=ignore \
      timeout 300 setsid -w "$TUTUM" "$@" 2>&1)
  RC=$?
  # Asserted once at the end: no call crashed, hit a 5xx or got non-JSON.
  grep -qE 'Traceback \(most recent call last\)|JSON Parse Error|Status 5[0-9][0-9] ' <<<"$OUT" &&
    TROUBLE+="\$ tutum $*"$'\n'"$OUT"$'\n'
  return 0
}
TROUBLE=
tutum_ok() { # USER ARGS...: run, and assert that it exits 0.
  tutum_as "$@"
  DETAIL="exit code $RC; output:"$'\n'"$OUT" check "$1: tutum ${*:2} exits 0" test "$RC" = 0
}
tutum_fails() { # RC USER ARGS...: run, and assert that it exits with RC.
  local want=$1
  shift
  tutum_as "$@"
  DETAIL="exit code $RC; output:"$'\n'"$OUT" check "$1: tutum ${*:2} exits $want" test "$RC" = "$want"
}
last_line() { tail -n 1 <<<"$1"; }

# tlib NAME PYTHON: run PYTHON with the real python-tutum library, configured
# as alice through its module attributes (HOME without ~/.tutum). U is
# $LIB_UUID. Sets OUT and RC, and asserts that it exits 0.
LIB_PRELUDE='
import os, sys, json, time
import tutum
from tutum.api.exceptions import TutumApiError, TutumAuthError
tutum.base_url = os.environ["TB"]
tutum.user = os.environ["TU"]
tutum.apikey = os.environ["TK"]
U = os.environ.get("LIB_UUID", "")
'
LIB_UUID=
tlib() {
  mkdir -p "$WORK/home-lib"
  OUT=$(cd "$WORK/cwd" && HOME=$WORK/home-lib PYTHONWARNINGS=ignore TB=$TB TU=$A TK=$KEY \
    LIB_UUID=$LIB_UUID timeout 300 "$TPY" -c "$LIB_PRELUDE$2" 2>&1)
  RC=$?
  DETAIL="exit code $RC; output:"$'\n'"$OUT" check "library: $1" test "$RC" = 0
}
val() { sed -n "s/^$1=//p" <<<"$OUT" | head -n 1; } # KEY: KEY=value from OUT

# containers APP [docker ps args...]: ids of the app's running containers.
containers() {
  local app=$1
  shift
  docker ps -q --no-trunc --filter "label=berth.server=$SID" --filter "label=berth.app=$app" "$@"
}
count() { "$@" | grep -c .; }
env_of() { docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1"; }
has_env() { env_of "$1" | grep -qxF -- "$2"; }
# host_port ID PORT/PROTO: the host port the engine published it on.
host_port() { docker port "$1" "$2" 2>/dev/null | head -n 1 | sed 's/.*://'; }
# running_is APP N / all_is APP N: N running / existing containers of APP.
running_is() {
  local n
  n=$(count containers "$1")
  SEEN="$n running containers of $1"
  [[ $n == "$2" ]]
}
all_is() {
  local n
  n=$(count containers "$1" -a)
  SEEN="$n containers (any state) of $1"
  [[ $n == "$2" ]]
}
# state_is KIND UUID STATES...: GET /api/v1/KIND/UUID/ has one of STATES.
state_is() {
  local kind=$1 uuid=$2 s
  shift 2
  api GET "/api/v1/$kind/$uuid/"
  s=$(jget "d.get('state')")
  SEEN="HTTP $CODE, state $s"
  one_of "$s" "$@"
}
# terminated_or_gone KIND UUID: Terminated, or GET answers 404.
terminated_or_gone() {
  state_is "$@" Terminated || [[ $CODE == 404 ]]
}
# identities APP: sorted "id startedAt" of the app's running containers.
identities() {
  local id
  for id in $(containers "$1"); do docker inspect -f '{{.Id}} {{.State.StartedAt}}' "$id"; done | sort
}
changed_from() { # APP BEFORE N: N running containers, none of them in BEFORE
  local now id
  now=$(identities "$1")
  SEEN="before:"$'\n'"$2"$'\n'"now:"$'\n'"$now"
  [[ $(count echo "$now") == "$3" ]] || return 1
  while read -r id; do grep -qxF -- "$id" <<<"$2" && return 1; done <<<"$now"
  return 0
}

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
DATE_RE='^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \+0000$'
WAIT=${BERTH_COMPAT_WAIT:-90} # seconds to wait for the engine to converge

A=alice
B=bob
PA=alice-pw-1
PB=bob-pw-2
APP=tweb       # made with the CLI
LIB=tlib       # made with the library
CAPP=tcurl     # made with plain HTTP (image_tag)
NAPP=tnative   # made with the native API
NOSUCH=0b7cd0c5-63f1-4b4d-9a6e-1a2b3c4d5e6f

# ------------------------------------------------------------------ auth ---
# First `tutum login`: GET /auth/ (Basic) is 401, so the CLI asks for an email
# and registers (POST /register/ -> 201). It stores no key yet.
IN=$A$'\n'$PA$'\n'$A@example.com$'\n' tutum_ok $A login
assert_contains "$OUT" "Account created" "the first tutum login registers $A (POST /register/ -> 201)"
IN=$A$'\n'$PA$'\n' tutum_ok $A login
assert_contains "$OUT" "Login succeeded!" "the second tutum login succeeds (GET /auth/ with Basic -> 200)"
cfg=$(cat "$WORK/home-$A/.tutum" 2>/dev/null)
assert_matches "$cfg" "^user = $A\$" "login writes ~/.tutum with user = $A"
KEY=$(sed -n 's/^apikey = //p' <<<"$cfg")
DETAIL=".tutum:"$'\n'"$cfg" check "login writes ~/.tutum with an apikey" test -n "$KEY"
ALICE_AUTH="ApiKey $A:$KEY"

IN=$A$'\n'wrong-password$'\n'x@example.com$'\n' tutum_fails 2 $A login
assert_contains "$OUT" "Wrong username and/or password" \
  "a wrong password: the CLI's register fallback is refused with 'A user with that username already exists.'"
assert_not_contains "$OUT" "Account created" "a wrong password creates no account"
assert_eq "$cfg" "$(cat "$WORK/home-$A/.tutum" 2>/dev/null)" "a failed login leaves ~/.tutum alone"

IN=$B$'\n'$PB$'\n'$B@example.com$'\n' tutum_ok $B login
assert_contains "$OUT" "Account created" "a second user registers"
IN=$B$'\n'$PB$'\n' tutum_ok $B login
assert_contains "$OUT" "Login succeeded!" "the second user logs in"
KEYB=$(sed -n 's/^apikey = //p' "$WORK/home-$B/.tutum" 2>/dev/null)
BOB_AUTH="ApiKey $B:$KEYB"

AUTHH="Basic $(printf '%s' "$A:$PA" | base64)" api GET "/api/v1/auth/"
assert_code 200 "GET /api/v1/auth/ with Basic user:password -> 200"
assert_eq "$A" "$(jget "d['objects'][0]['username']")" "GET /api/v1/auth/ returns objects[0].username"
KEY2=$(jget "d['objects'][0]['key']")
AUTHH="ApiKey $A:$KEY2" api GET /api/v1/application/
assert_code 200 "the key from GET /api/v1/auth/ works as an ApiKey"
AUTHH="Basic $(printf '%s' "$A:nope" | base64)" api GET "/api/v1/auth/"
assert_code 401 "GET /api/v1/auth/ with a wrong password -> 401"
api GET "/api/v1/application/"
assert_code 200 "Authorization: ApiKey user:key -> 200"
AUTHH="ApiKey $A:not-the-key" api GET "/api/v1/application/"
assert_code 401 "a wrong ApiKey -> 401"
assert_contains "$(jget "sorted(d)")" '"error"' "the 401 body is {\"error\": ...}"
AUTHH='' api GET "/api/v1/application/"
assert_code 401 "no Authorization -> 401"
AUTHH="Basic $(printf '%s' "$A:$KEY" | base64)" api GET "/api/v1/application/"
assert_code 200 "Basic user:key -> 200"
AUTHH="Basic $(printf '%s' "$A:$PA" | base64)" api GET "/api/v1/application/"
assert_code 200 "Basic user:password -> 200"
AUTHH='' api POST "/api/v1/register/" "{\"username\": \"$A\", \"password1\": \"x1\", \"password2\": \"x1\", \"email\": \"a@x.org\"}"
assert_code 400 409 "POST /register/ with a taken username -> 400/409"
AUTHH="token $KEY" api GET "/v1/apps"
assert_code 200 "the Tutum key is a Berth token (GET /v1/apps with Authorization: token KEY)"

# ------------------------------------------------------ cluster (the CLI) ---
tutum_ok $A cluster run busybox:latest -n $APP -p 80/tcp -e FOO=bar -e BAZ=qux -r 'httpd -f -vv -p 80'
UUID=$(last_line "$OUT")
assert_matches "$UUID" "$UUID_RE" "cluster run prints the new uuid (create, then start/)"
eventually "the app reaches Running" "$WAIT" state_is application "$UUID" Running
eventually "docker runs 1 container of $APP" "$WAIT" running_is $APP 1
C1=$(containers $APP | head -n 1)
check "its env has FOO=bar" has_env "$C1" FOO=bar
check "its env has BAZ=qux" has_env "$C1" BAZ=qux
P1=$(host_port "$C1" 80/tcp)
DETAIL="docker port: $(docker port "$C1" 2>&1)" check "port 80/tcp is published on the host" test -n "$P1"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/tutum-probe-1")
assert_eq 404 "$code" "busybox httpd answers on the published port (404 for a missing file)"

# shown_uuid UUID LIST: an ERE for UUID's short form exactly as the CLI's
# table shows it. Its tabulate reads a column of short uuids such as 51e37432
# or 12345678 as numbers (and prints inf, or the number) when every one reads
# so; the column is read here from LIST, the API path the table comes from,
# and rendered with the CLI's own tabulate.
SHOWN_UUID_PY='
import json, sys
from tabulate import tabulate
objects = json.load(sys.stdin)["objects"]
cells = tabulate([[o["uuid"][:8]] for o in objects], tablefmt="plain").split("\n")
print(cells[[o["uuid"] for o in objects].index(sys.argv[1])].strip())
'
shown_uuid() {
  local cell
  cell=$(curl -s -H "Authorization: $ALICE_AUTH" "$URL$2" | "$TPY" -c "$SHOWN_UUID_PY" "$1") || return 1
  sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$cell"
}

tutum_ok $A cluster ps
assert_matches "$OUT" "^$APP +$(shown_uuid "$UUID" /api/v1/application/) +.*Running +busybox:latest +XS \(1\) +.*ago" \
  "cluster ps shows $APP Running, busybox:latest, XS (1), deployed ... ago"
tutum_ok $A cluster ps -q
assert_matches "$OUT" "^$UUID\$" "cluster ps -q prints the long uuid"
tutum_ok $A cluster ps -s Running
assert_matches "$OUT" "^$APP " "cluster ps -s Running lists $APP (?state=Running)"
tutum_ok $A cluster ps -s Stopped
assert_not_contains "$OUT" "$APP" "cluster ps -s Stopped does not list $APP"

tutum_ok $A cluster inspect $APP
assert_eq "$UUID" "$(jget "d['uuid']" "$OUT")" "cluster inspect NAME (?unique_name=) shows the uuid"
assert_eq "$APP Running busybox:latest XS 1 1" \
  "$(jget "' '.join(str(d[k]) for k in ['unique_name','state','image_name','container_size','target_num_containers','current_num_containers'])" "$OUT")" \
  "cluster inspect shows unique_name, state, image_name, size and counts"
assert_eq '[["BAZ", "qux"], ["FOO", "bar"]]' \
  "$(jget "sorted([e['key'], e['value']] for e in d['container_envvars'] if e['key'] in ('FOO', 'BAZ'))" "$OUT")" \
  "cluster inspect shows container_envvars as {key, value}"
assert_eq "httpd -f -vv -p 80" "$(jget "d['run_command']" "$OUT")" "cluster inspect shows the run_command"
assert_eq "/api/v1/application/$UUID/" "$(jget "d['resource_uri']" "$OUT")" "resource_uri ends in the uuid"
assert_matches "$(jget "d['deployed_datetime']" "$OUT")" "$DATE_RE" "deployed_datetime is like 'Sun, 23 Mar 2014 18:12:11 +0000'"
assert_eq "1" "$(jget "len(d['containers'])" "$OUT")" "cluster inspect lists 1 container"
assert_eq "80 tcp" "$(jget "' '.join(str(p[k]) for p in d['container_ports'] for k in ['inner_port','protocol'])" "$OUT")" \
  "the app's container_ports show 80/tcp (outer ports are per container)"
# link_variables as the seed example writes them: the container's unique
# name upper-cased with its dash (TWEB-1_PORT...), and <NAME>_TUTUM_API_URL.
assert_eq "TWEB-1_PORT TWEB-1_PORT_80_TCP TWEB-1_PORT_80_TCP_ADDR TWEB-1_PORT_80_TCP_PORT TWEB-1_PORT_80_TCP_PROTO TWEB_TUTUM_API_URL" \
  "$(jget "' '.join(sorted(d['link_variables']))" "$OUT")" "link_variables are named TWEB-1_PORT... and TWEB_TUTUM_API_URL"
assert_eq "$P1 $URL/api/v1/application/$UUID/" \
  "$(jget "d['link_variables']['TWEB-1_PORT_80_TCP_PORT'] + ' ' + d['link_variables']['TWEB_TUTUM_API_URL']" "$OUT")" \
  "link_variables carry the published port and the application's API URL"
tutum_ok $A cluster inspect "${UUID:0:8}"
assert_eq "$UUID" "$(jget "d['uuid']" "$OUT")" "cluster inspect SHORT-UUID (?uuid__startswith=) finds the app"
tutum_ok $A cluster inspect "$UUID"
assert_eq "$UUID" "$(jget "d['uuid']" "$OUT")" "cluster inspect LONG-UUID (GET detail) finds the app"

# containers of the app
tutum_ok $A container ps -q -i "$UUID"
CU1=$(last_line "$OUT")
assert_matches "$CU1" "$UUID_RE" "container ps -q -i LONG-UUID (?application__uuid=) prints the container uuid"
tutum_ok $A container ps -i $APP
assert_matches "$OUT" "^$APP-1 +$(shown_uuid "$CU1" "/api/v1/container/?application__unique_name=$APP") +.*Running +busybox:latest +httpd -f -vv -p 80 +XS +.*:$P1->80/tcp" \
  "container ps -i NAME shows $APP-1 with its short uuid, Running with its command, size and port ..:$P1->80/tcp"
tutum_ok $A container ps -i "${UUID:0:8}"
assert_eq 1 "$(grep -c "^$APP-1 " <<<"$OUT")" "container ps -i SHORT-UUID (?application__uuid__startswith=) lists $APP-1 once"
tutum_ok $A container ps
assert_matches "$OUT" "^$APP-1 " "container ps (all) lists $APP-1"
tutum_ok $A container inspect $APP-1
assert_eq "$CU1" "$(jget "d['uuid']" "$OUT")" "container inspect NAME (?unique_name=) shows its uuid"
assert_eq "Running busybox:latest XS" "$(jget "' '.join(str(d[k]) for k in ['state','image_name','container_size'])" "$OUT")" \
  "container inspect shows state, image_name and container_size"
assert_eq "80 tcp $P1" "$(jget "' '.join(str(p[k]) for p in d['container_ports'] for k in ['inner_port','protocol','outer_port'])" "$OUT")" \
  "container inspect: container_ports has the real outer_port"
assert_contains "$(jget "sorted(d)" "$OUT")" '"exit_code"' "container inspect has exit_code"
assert_contains "$(jget "sorted(d)" "$OUT")" '"public_dns"' "container inspect has public_dns"
assert_matches "$(jget "d['deployed_datetime']" "$OUT")" "$DATE_RE" "the container's deployed_datetime has the Tutum date format"
tutum_ok $A container inspect "${CU1:0:8}"
assert_eq "$CU1" "$(jget "d['uuid']" "$OUT")" "container inspect SHORT-UUID finds it"
tutum_ok $A container logs $APP-1
assert_contains "$OUT" "url:/tutum-probe-1" "container logs shows the container's output"
tutum_ok $A cluster logs $APP
assert_contains "$OUT" "url:/tutum-probe-1" "cluster logs shows the containers' output"

# crash recovery settings (PATCH autorestart/autoreplace/autodestroy); the
# stops below must hold although autorestart is ALWAYS.
tutum_ok $A cluster inspect $APP
assert_eq "OFF OFF OFF" "$(jget "' '.join(d[k] for k in ['autorestart','autoreplace','autodestroy'])" "$OUT")" \
  "autorestart, autoreplace and autodestroy default to OFF"
tutum_ok $A cluster set --autorestart ALWAYS --autoreplace ON_FAILURE $APP
assert_eq "$UUID" "$(last_line "$OUT")" "cluster set prints the uuid"
tutum_ok $A cluster inspect $APP
assert_eq "ALWAYS ON_FAILURE OFF" "$(jget "' '.join(d[k] for k in ['autorestart','autoreplace','autodestroy'])" "$OUT")" \
  "cluster set changed autorestart and autoreplace only"

# scale
tutum_ok $A cluster scale $APP 2
assert_eq "$UUID" "$(last_line "$OUT")" "cluster scale prints the uuid (PATCH target_num_containers)"
eventually "docker runs 2 containers of $APP" "$WAIT" running_is $APP 2
eventually "the app is Running again after scaling" "$WAIT" state_is application "$UUID" Running
ports=$(for id in $(containers $APP); do host_port "$id" 80/tcp; done | sort -u | grep -c .)
assert_eq 2 "$ports" "each container has its own published port"
bad=
for id in $(containers $APP); do has_env "$id" FOO=bar || bad+="${id:0:12} "; done
DETAIL="without FOO=bar: $bad" check "both containers have FOO=bar" test -z "$bad"
tutum_ok $A container ps -i $APP
assert_matches "$OUT" "^$APP-1 +.*Running" "container ps lists $APP-1 Running"
assert_matches "$OUT" "^$APP-2 +.*Running" "container ps lists $APP-2 Running"
tutum_ok $A cluster ps
assert_matches "$OUT" "^$APP +.*XS \(2\)" "cluster ps shows XS (2)"

# one container stopped and started
tutum_ok $A container inspect $APP-2
CU2=$(jget "d['uuid']" "$OUT")
tutum_ok $A container stop $APP-2
assert_eq "$CU2" "$(last_line "$OUT")" "container stop prints the container uuid"
eventually "docker runs 1 container of $APP after container stop" "$WAIT" running_is $APP 1
eventually "the container is Stopped" "$WAIT" state_is container "$CU2" Stopped
eventually "the app is Partly running" "$WAIT" state_is application "$UUID" "Partly running"
holds "the stopped container stays stopped (autorestart ALWAYS does not undo a stop)" 5 running_is $APP 1
tutum_ok $A container ps -i $APP -s Stopped
assert_matches "$OUT" "^$APP-2 +.*Stopped" "container ps -s Stopped lists $APP-2"
assert_not_contains "$OUT" "$APP-1" "container ps -s Stopped does not list $APP-1"
tutum_fails 3 $A container stop $APP-2
assert_contains "$OUT" "Status 400" "stopping a stopped container -> 400"
tutum_ok $A container start $APP-2
assert_eq "$CU2" "$(last_line "$OUT")" "container start prints the container uuid"
eventually "docker runs 2 containers of $APP after container start" "$WAIT" running_is $APP 2
eventually "the app is Running after container start" "$WAIT" state_is application "$UUID" Running

# the whole app stopped and started
tutum_ok $A cluster stop $APP
assert_eq "$UUID" "$(last_line "$OUT")" "cluster stop prints the uuid"
eventually "docker runs no container of $APP after cluster stop" "$WAIT" running_is $APP 0
eventually "the app is Stopped" "$WAIT" state_is application "$UUID" Stopped
holds "the stopped app stays stopped (autorestart ALWAYS)" 5 running_is $APP 0
tutum_ok $A cluster ps -s Stopped
assert_matches "$OUT" "^$APP +.*Stopped" "cluster ps -s Stopped lists $APP"
tutum_ok $A cluster start $APP
assert_eq "$UUID" "$(last_line "$OUT")" "cluster start prints the uuid"
eventually "docker runs 2 containers of $APP after cluster start" "$WAIT" running_is $APP 2
eventually "the app is Running after cluster start" "$WAIT" state_is application "$UUID" Running

# redeploy: new containers, same count
before=$(identities $APP)
tutum_ok $A cluster redeploy $APP
assert_eq "$UUID" "$(last_line "$OUT")" "cluster redeploy prints the uuid (body {\"tag\": null})"
eventually "redeploy replaces both containers" "$WAIT" changed_from $APP "$before" 2
eventually "the app is Running after redeploy" "$WAIT" state_is application "$UUID" Running

# terminate one container: the app's target goes down by one
tutum_ok $A container inspect $APP-2
CU2=$(jget "d['uuid']" "$OUT") # redeploy made new containers
tutum_ok $A container terminate $APP-2
assert_eq "$CU2" "$(last_line "$OUT")" "container terminate prints the container uuid"
eventually "docker has 1 container of $APP after container terminate" "$WAIT" all_is $APP 1
eventually "the container is Terminated (or 404)" "$WAIT" terminated_or_gone container "$CU2"
tutum_ok $A cluster inspect $APP
assert_eq 1 "$(jget "d['target_num_containers']" "$OUT")" "terminating a container lowers target_num_containers to 1"

# unknown identifiers
tutum_fails 3 $A cluster inspect $NOSUCH
assert_contains "$OUT" "Cannot find a cluster" "cluster inspect of an unknown uuid fails"
tutum_fails 3 $A container inspect $NOSUCH
assert_contains "$OUT" "Cannot find a container" "container inspect of an unknown uuid fails"
tutum_fails 3 $A cluster inspect no-such-app
api GET "/api/v1/application/$NOSUCH/"
assert_code 404 "GET an unknown application uuid -> 404"
api POST "/api/v1/application/$NOSUCH/start/"
assert_code 404 "start an unknown application uuid -> 404"
api GET "/api/v1/container/$NOSUCH/"
assert_code 404 "GET an unknown container uuid -> 404"
api DELETE "/api/v1/container/$NOSUCH/"
assert_code 404 "DELETE an unknown container uuid -> 404"

# ------------------------------------------------------------- isolation ---
tutum_ok $B cluster ps
assert_not_contains "$OUT" "$APP" "another user's cluster ps does not list $APP"
tutum_ok $B container ps
assert_not_contains "$OUT" "$APP-1" "another user's container ps does not list $APP-1"
tutum_fails 3 $B cluster inspect "$UUID"
tutum_fails 3 $B cluster stop $APP
AUTHH=$BOB_AUTH api GET "/api/v1/application/$UUID/"
assert_code 404 "another user GETs the app's uuid -> 404"
AUTHH=$BOB_AUTH api POST "/api/v1/application/$UUID/stop/"
assert_code 404 "another user stops the app -> 404"
AUTHH=$BOB_AUTH api GET "/api/v1/container/$CU1/"
assert_code 404 "another user GETs its container -> 404"
check "the app still runs" running_is $APP 1

# ---------------------------------------------------- native <-> Tutum ---
AUTHH="token $KEY" api GET "/v1/apps"
assert_eq "$UUID" "$(jget "[a['uuid'] for a in d['results'] if a['id'] == '$APP'][0]")" \
  "the Tutum app is in GET /v1/apps with id $APP and the same uuid"
AUTHH="token $KEY" api POST "/v1/apps" "{\"id\": \"$NAPP\"}"
assert_code 201 "native: POST /v1/apps $NAPP with the Tutum key as token -> 201"
NUUID=$(jget "d['uuid']")
AUTHH="token $KEY" api POST "/v1/apps/$NAPP/builds" '{"image": "busybox:latest", "procfile": {"web": "sleep 3600"}}'
assert_code 201 "native: build $NAPP -> 201"
AUTHH="token $KEY" api POST "/v1/apps/$NAPP/scale" '{"web": 1}'
assert_code 204 "native: scale $NAPP web=1 -> 204"
tutum_ok $A cluster ps
assert_matches "$OUT" "^$NAPP +$(shown_uuid "$NUUID" /api/v1/application/) +.*Running +busybox:latest +" "cluster ps lists the native app Running"
tutum_ok $A cluster inspect $NAPP
assert_eq "$NUUID" "$(jget "d['uuid']" "$OUT")" "cluster inspect shows the native app's uuid"
tutum_ok $A container ps -i $NAPP
assert_matches "$OUT" "^$NAPP-1 +.*Running +busybox:latest" "container ps lists the native app's container Running"
AUTHH="token $KEY" api DELETE "/v1/apps/$NAPP"
assert_code 204 "native: DELETE /v1/apps/$NAPP -> 204"
eventually "no container of the native app is left" "$WAIT" all_is $NAPP 0

# -------------------------------------------------------- cluster terminate ---
tutum_ok $A cluster terminate $APP
assert_eq "$UUID" "$(last_line "$OUT")" "cluster terminate prints the uuid (DELETE answers with the object, not 204)"
eventually "no container of $APP is left" "$WAIT" all_is $APP 0
eventually "the app is Terminated" "$WAIT" state_is application "$UUID" Terminated
tutum_ok $A cluster ps
assert_matches "$OUT" "^$APP +$(shown_uuid "$UUID" /api/v1/application/) +.*Terminated" "cluster ps still lists $APP as Terminated"
tutum_fails 3 $A cluster start $APP
assert_contains "$OUT" "Status 400" "starting a terminated app -> 400"

# Without -n the CLI sends no name: the server names the app after the image.
tutum_ok $A cluster run busybox:latest -r 'sleep 3600'
DUUID=$(last_line "$OUT")
assert_matches "$DUUID" "$UUID_RE" "cluster run without a name prints the new uuid"
tutum_ok $A cluster inspect "$DUUID"
DAPP=$(jget "d['unique_name']" "$OUT")
assert_eq busybox "$(jget "d['name']" "$OUT")" "without a name, the name is the image's name (busybox)"
assert_matches "$DAPP" "^busybox" "... and so is the unique_name ($DAPP)"
eventually "docker runs 1 container of $DAPP" "$WAIT" running_is "$DAPP" 1
tutum_ok $A cluster terminate "$DUUID"
eventually "no container of $DAPP is left" "$WAIT" all_is "$DAPP" 0

# -------------------------------------------------- the python library ---
tlib "Cluster.create(...).save() then start()" '
a = tutum.Cluster.create(image="busybox:latest", name="'$LIB'", container_size="S",
    target_num_containers=2, run_command="httpd -f -p 8080",
    container_ports=[{"protocol": "tcp", "inner_port": 8080}],
    container_envvars=[{"key": "LIBVAR", "value": "lib-value"}])
print("saved=%s" % a.save())
print("uuid=%s" % a.uuid)
print("name=%s" % a.unique_name)
print("started=%s" % a.start())
print("state=%s" % a.state)
'
assert_eq True "$(val saved)" "library: save() of a new Cluster returns True (POST /application/)"
LIB_UUID=$(val uuid)
LIB_UUID=${LIB_UUID:-<none>}
assert_matches "$LIB_UUID" "$UUID_RE" "library: the saved Cluster has its uuid"
assert_eq $LIB "$(val name)" "library: unique_name is the given name"
assert_eq True "$(val started)" "library: start() returns True"
eventually "library: the app reaches Running" "$WAIT" state_is application "$LIB_UUID" Running
eventually "library: docker runs 2 containers of $LIB" "$WAIT" running_is $LIB 2
bad=
for id in $(containers $LIB); do
  has_env "$id" LIBVAR=lib-value || bad+="${id:0:12}:env "
  [[ -n $(host_port "$id" 8080/tcp) ]] || bad+="${id:0:12}:port "
done
DETAIL="missing: $bad" check "library: both containers have LIBVAR=lib-value and 8080/tcp published" test -z "$bad"

tlib "Cluster.list filters and fetch" '
def ids(**kw): return ",".join(sorted(x.uuid for x in tutum.Cluster.list(**kw)))
print("by_unique_name=%s" % ids(unique_name="'$LIB'"))
print("by_name=%s" % ids(name="'$LIB'"))
print("by_uuid=%s" % ids(uuid=U))
print("by_prefix=%s" % ids(uuid__startswith=U[:8]))
print("running=%s" % (U in ids(state="Running")))
print("stopped=%s" % (U in ids(state="Stopped")))
a = tutum.Cluster.fetch(U)
print("fetched=%s %s %s %s %s" % (a.uuid, a.state, a.container_size, a.target_num_containers, a.current_num_containers))
print("env=%s" % json.dumps([[e["key"], e["value"]] for e in a.container_envvars if e["key"] == "LIBVAR"]))
print("refreshed=%s" % a.refresh())
'
assert_eq "$LIB_UUID" "$(val by_unique_name)" "library: list(unique_name=) finds exactly the app"
assert_eq "$LIB_UUID" "$(val by_name)" "library: list(name=) finds exactly the app"
assert_eq "$LIB_UUID" "$(val by_uuid)" "library: list(uuid=) finds exactly the app"
assert_eq "$LIB_UUID" "$(val by_prefix)" "library: list(uuid__startswith=) finds exactly the app"
assert_eq True "$(val running)" "library: list(state=Running) has the app"
assert_eq False "$(val stopped)" "library: list(state=Stopped) does not"
assert_eq "$LIB_UUID Running S 2 2" "$(val fetched)" "library: fetch() has uuid, state, size and counts"
assert_eq '[["LIBVAR", "lib-value"]]' "$(val env)" "library: container_envvars round-trips"
assert_eq True "$(val refreshed)" "library: refresh() returns True"

tlib "scale down with target_num_containers + save() (PATCH)" '
a = tutum.Cluster.fetch(U)
a.target_num_containers = 1
print("saved=%s" % a.save())
print("target=%s" % a.target_num_containers)
'
assert_eq True "$(val saved)" "library: save() of a change returns True"
assert_eq 1 "$(val target)" "library: the answer has target_num_containers 1"
eventually "library: docker runs 1 container of $LIB after scaling down" "$WAIT" running_is $LIB 1

tlib "Container.list, fetch, logs, stop, start" '
cs = [c for c in tutum.Container.list(application__uuid=U) if c.state not in ("Terminating", "Terminated")]
print("live=%s" % " ".join(sorted("%s:%s" % (c.unique_name, c.state) for c in cs)))
c = tutum.Container.fetch(cs[0].uuid)
print("cuuid=%s" % c.uuid)
print("logs_type=%s" % type(c.logs).__name__)
print("by_name=%s" % ",".join(x.uuid for x in tutum.Container.list(unique_name=c.unique_name)))
print("by_app_name=%s" % (c.uuid in [x.uuid for x in tutum.Container.list(application__unique_name="'$LIB'")]))
print("by_app_prefix=%s" % (c.uuid in [x.uuid for x in tutum.Container.list(application__uuid__startswith=U[:8])]))
print("by_prefix=%s" % ",".join(x.uuid for x in tutum.Container.list(uuid__startswith=c.uuid[:8])))
print("stopped=%s" % c.stop())
'
assert_eq "$LIB-1:Running" "$(val live)" "library: Container.list(application__uuid=) has $LIB-1 Running only"
LIB_C=$(val cuuid)
assert_one_of "$(val logs_type)" "library: Container.logs is a string" str unicode
assert_eq "$LIB_C" "$(val by_name)" "library: Container.list(unique_name=) finds it"
assert_eq True "$(val by_app_name)" "library: Container.list(application__unique_name=) has it"
assert_eq True "$(val by_app_prefix)" "library: Container.list(application__uuid__startswith=) has it"
assert_eq "$LIB_C" "$(val by_prefix)" "library: Container.list(uuid__startswith=) finds it"
assert_eq True "$(val stopped)" "library: Container.stop() returns True"
eventually "library: docker runs no container of $LIB after Container.stop()" "$WAIT" running_is $LIB 0
eventually "library: the container is Stopped" "$WAIT" state_is container "$LIB_C" Stopped
tlib "Container.start()" '
c = tutum.Container.fetch("'"$LIB_C"'")
print("started=%s" % c.start())
'
assert_eq True "$(val started)" "library: Container.start() returns True"
eventually "library: docker runs 1 container of $LIB after Container.start()" "$WAIT" running_is $LIB 1

tlib "Cluster stop, start, logs" '
a = tutum.Cluster.fetch(U)
print("stopped=%s" % a.stop())
print("state=%s" % a.state)
'
assert_eq True "$(val stopped)" "library: Cluster.stop() returns True"
assert_one_of "$(val state)" "library: stop() answers with state Stopping/Stopped" Stopping Stopped
eventually "library: the app is Stopped" "$WAIT" state_is application "$LIB_UUID" Stopped
eventually "library: docker runs no container of $LIB" "$WAIT" running_is $LIB 0
tlib "Cluster.start()" '
a = tutum.Cluster.fetch(U)
print("started=%s" % a.start())
print("logs_type=%s" % type(a.logs).__name__)
'
assert_eq True "$(val started)" "library: Cluster.start() returns True"
assert_one_of "$(val logs_type)" "library: Cluster.logs is a string" str unicode
eventually "library: the app is Running again" "$WAIT" state_is application "$LIB_UUID" Running
eventually "library: docker runs 1 container of $LIB again" "$WAIT" running_is $LIB 1

tlib "errors: bad key, unknown uuid, get_auth" '
try:
    tutum.Cluster.fetch("'$NOSUCH'")
    print("unknown=no error")
except TutumApiError as e:
    print("unknown=%s" % str(e).split(" (")[0])
user, key = tutum.auth.get_auth("'$A'", "'$PA'")
print("auth_user=%s" % user)
tutum.apikey = key
print("auth_key_works=%s" % (U in [x.uuid for x in tutum.Cluster.list()]))
tutum.apikey = "wrong"
try:
    tutum.Cluster.list()
    print("badkey=no error")
except TutumAuthError:
    print("badkey=TutumAuthError")
'
assert_eq "Status 404" "$(val unknown)" "library: fetch() of an unknown uuid raises TutumApiError (404)"
assert_eq "$A" "$(val auth_user)" "library: auth.get_auth(user, password) returns the user"
assert_eq True "$(val auth_key_works)" "library: ... and a key that works"
assert_eq TutumAuthError "$(val badkey)" "library: a wrong apikey raises TutumAuthError"

tlib "Cluster.delete() (terminate)" '
a = tutum.Cluster.fetch(U)
print("deleted=%s" % a.delete())
print("uuid_after=%s" % a.uuid)
print("state=%s" % a.state)
'
assert_eq True "$(val deleted)" "library: delete() returns True"
assert_eq "$LIB_UUID" "$(val uuid_after)" "library: DELETE answers with the object (the uuid is kept)"
assert_one_of "$(val state)" "library: DELETE answers with state Terminating/Terminated" Terminating Terminated
eventually "library: no container of $LIB is left" "$WAIT" all_is $LIB 0
eventually "library: the app is Terminated" "$WAIT" state_is application "$LIB_UUID" Terminated
tlib "start() of a terminated app raises a 400" '
a = tutum.Cluster.fetch(U)
try:
    a.start()
    print("start=no error")
except TutumApiError as e:
    print("start=%s" % str(e).split(" (")[0])
'
assert_eq "Status 400" "$(val start)" "library: start() of a Terminated app raises TutumApiError (400)"

# ------------------------------------------- the HTTP dialect with curl ---
api POST "/api/v1/application/" "{\"image_tag\": \"busybox:latest\", \"name\": \"$CAPP\", \"entrypoint\": \"sleep\", \"run_command\": \"3600\"}"
assert_code 202 "POST /application/ with image_tag -> 202, as the seed documents"
CUUID=$(jget "d['uuid']")
assert_matches "$CUUID" "$UUID_RE" "the create answer has the uuid"
assert_eq "$CAPP XS 1" "$(jget "'%s %s %s' % (d['unique_name'], d['container_size'], d['target_num_containers'])")" \
  "defaults: container_size XS, target_num_containers 1"
eventually "create alone deploys: the app reaches Running" "$WAIT" state_is application "$CUUID" Running
eventually "docker runs 1 container of $CAPP" "$WAIT" running_is $CAPP 1
assert_eq '["3600"] ["sleep"]' "$(docker inspect -f '{{json .Config.Cmd}} {{json .Config.Entrypoint}}' "$(containers $CAPP | head -n 1)")" \
  "the container's entrypoint is the entrypoint and its command the run_command"
api POST "/api/v1/application/$CUUID/start/"
assert_code 202 "start/ of a Running app -> 202 (what tutum cluster run does right after create)"
api GET "/api/v1/application/"
assert_code 200 "GET /application/ -> 200"
assert_eq '["limit", "next", "offset", "previous", "total_count"]' "$(jget "sorted(d['meta'])")" \
  "the list has meta {limit, next, offset, previous, total_count}"
for f in uuid__startswith=${CUUID:0:8} uuid=$CUUID name=$CAPP unique_name=$CAPP state=Running; do
  api GET "/api/v1/application/?$f"
  assert_eq "$CUUID" "$(jget "','.join(o['uuid'] for o in d['objects'] if o['unique_name'] in ('$CAPP', '$APP', '$LIB'))")" \
    "?$f selects $CAPP (and none of the other apps)"
done
api GET "/api/v1/application/?unique_name=$CAPP"
assert_eq 1 "$(jget "d['meta']['total_count']")" "meta.total_count counts the filtered objects"
api GET "/api/v1/application/$CUUID/"
assert_eq '[]' "$(jget "[k for k in ['uuid','unique_name','name','state','image_name','container_size','current_num_containers','deployed_datetime','web_public_dns','target_num_containers','resource_uri','container_envvars','containers','container_ports','run_command','entrypoint','autorestart','autoreplace','autodestroy'] if k not in d]")" \
  "the detail has every field the clients read"
assert_matches "$(jget "d['containers'][0]")" "^/api/v1/container/[0-9a-f-]{36}/\$" "containers are /api/v1/container/<uuid>/ URIs"
assert_matches "$(jget "d['started_datetime']")" "$DATE_RE" "started_datetime has the Tutum date format"
TAG_URI=$(jget "d['image_tag']")
api GET "$TAG_URI"
assert_code 200 "the image_tag link $TAG_URI resolves -> 200"
assert_eq "busybox:latest latest /api/v1/image/busybox/" "$(jget "' '.join(d[k] for k in ['full_name','name','image'])")" \
  "the image tag names its full name, tag and image"
api GET "/api/v1/image/busybox/"
assert_eq "busybox $TAG_URI" "$(jget "d['name'] + ' ' + ' '.join(d['imagetag_set'])")" "the image lists its tags"
api GET "/api/v1/image/busybox/tag/no-such-tag/"
assert_code 404 "an image tag the engine lacks -> 404"
api POST "/api/v1/application/" '{"image_tag": "busybox:latest", "name": "Human Readable", "target_num_containers": 0}'
assert_code 202 "POST /application/ with a human-readable name -> 202"
HUUID=$(jget "d['uuid']")
assert_eq "Human Readable|human-readable" "$(jget "d['name'] + '|' + d['unique_name']")" \
  "the given name is kept as name; unique_name is its slug"
api DELETE "/api/v1/application/$HUUID/"
assert_code 202 "DELETE the human-readable app -> 202"
api PATCH "/api/v1/application/$CUUID/" '{"target_num_containers": 2}'
assert_code 202 "PATCH target_num_containers -> 202"
assert_eq 2 "$(jget "d['target_num_containers']")" "the PATCH answer has the new target"
eventually "docker runs 2 containers of $CAPP" "$WAIT" running_is $CAPP 2
api PATCH "/api/v1/application/$CUUID/" ''
assert_code 200 202 "PATCH with an empty body (what the CLI sends for 'scale 0') -> 2xx"
api GET "/api/v1/container/?application__uuid=$CUUID"
assert_eq "$CAPP-1 $CAPP-2" "$(jget "' '.join(sorted(o['unique_name'] for o in d['objects']))")" \
  "GET /container/?application__uuid= lists $CAPP-1 and $CAPP-2"
CC2=$(jget "[o['uuid'] for o in d['objects'] if o['unique_name'] == '$CAPP-2'][0]")
assert_eq "2 $CAPP.berth.local" "$(jget "'%d %s' % (len(d['objects']), ' '.join(sorted(set(o.get('web_public_dns') for o in d['objects']))))")" \
  "containers carry web_public_dns, their application's"
api GET "/api/v1/container/$CC2/logs/"
assert_code 200 "GET /container/<uuid>/logs/ -> 200"
assert_one_of "$(jget "type(d['logs']).__name__")" "container logs are {\"logs\": \"<string>\"}" str
api GET "/api/v1/application/$CUUID/logs/"
assert_one_of "$(jget "type(d['logs']).__name__")" "app logs are {\"logs\": \"<string>\"}" str
api POST "/api/v1/application/$CUUID/stop/"
assert_code 202 "POST /application/<uuid>/stop/ -> 202"
assert_one_of "$(jget "d.get('state')")" "the stop answer has state Stopping/Stopped" Stopping Stopped
eventually "the app is Stopped" "$WAIT" state_is application "$CUUID" Stopped
eventually "docker runs no container of $CAPP" "$WAIT" running_is $CAPP 0
api POST "/api/v1/application/$CUUID/stop/"
assert_code 400 "stop/ of a Stopped app -> 400 (wrong state)"
api POST "/api/v1/application/$CUUID/start/"
assert_code 202 "POST /application/<uuid>/start/ -> 202"
eventually "the app is Running" "$WAIT" state_is application "$CUUID" Running
eventually "docker runs 2 containers of $CAPP again" "$WAIT" running_is $CAPP 2
api POST "/api/v1/container/$CC2/stop/"
assert_code 202 "POST /container/<uuid>/stop/ -> 202"
eventually "the container is Stopped" "$WAIT" state_is container "$CC2" Stopped
eventually "the app is Partly running" "$WAIT" state_is application "$CUUID" "Partly running"
api POST "/api/v1/container/$CC2/start/"
assert_code 202 "POST /container/<uuid>/start/ -> 202"
eventually "the container is Running" "$WAIT" state_is container "$CC2" Running
eventually "the app is Running with both containers" "$WAIT" state_is application "$CUUID" Running
api DELETE "/api/v1/container/$CC2/"
assert_code 202 "DELETE /container/<uuid>/ -> 202"
api GET "/api/v1/application/$CUUID/"
assert_eq 1 "$(jget "d['target_num_containers']")" "terminating a container lowers the app's target to 1"
eventually "docker has 1 container of $CAPP left" "$WAIT" all_is $CAPP 1
# The CLI offers --autodestroy OFF|ON_FAILURE|ALWAYS (the same choices as
# --autorestart): each must be accepted and read back.
tutum_ok $A cluster set --autodestroy ON_FAILURE $CAPP
assert_eq "$CUUID" "$(last_line "$OUT")" "cluster set --autodestroy ON_FAILURE (a CLI choice) prints the uuid"
api GET "/api/v1/application/$CUUID/"
assert_eq ON_FAILURE "$(jget "d['autodestroy']")" "autodestroy reads back ON_FAILURE"
api DELETE "/api/v1/application/$CUUID/"
assert_code 202 "DELETE /application/<uuid>/ -> 202"
assert_one_of "$(jget "d.get('state')")" "the DELETE answer has state Terminating/Terminated" Terminating Terminated
eventually "no container of $CAPP is left" "$WAIT" all_is $CAPP 0
eventually "the app is Terminated" "$WAIT" state_is application "$CUUID" Terminated
api GET "/api/v1/application/?uuid=$CUUID"
assert_eq Terminated "$(jget "d['objects'][0]['state']")" "the terminated app is still listed, as Terminated"
assert_matches "$(jget "d['objects'][0]['destroyed_datetime']")" "$DATE_RE" "destroyed_datetime is set"
api DELETE "/api/v1/application/$CUUID/"
assert_code 400 "DELETE of a Terminated app -> 400"
assert_contains "$(jget "sorted(d)")" '"error"' "the 400 body is {\"error\": ...}"

# ------------------------------------------------------------------- end ---
assert_eq "" "$TROUBLE" "no CLI call crashed, got a 5xx or a non-JSON answer"
assert_eq 0 "$(count docker ps -aq --filter "label=berth.server=$SID")" "no container of this server is left"
finish
