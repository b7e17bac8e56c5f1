#!/usr/bin/env bash
# Compatibility test: the real, unmodified Deis 1.9.1 CLI against a fresh Berth
# server, asserting on what the CLI prints (and its exit codes) and on what the
# Docker engine actually runs.
#
#   BERTH_BIN=target/debug/berth bash tests/compat/deis.sh
#
# BERTH_BIN defaults to target/release/berth. Without Python 2.7 / the client
# the test is SKIPPED (exit 0), or FAILS when CI is set. Output is TAP-like:
# `ok - ...` / `not ok - ...` lines, then exactly one `N passed, M failed` line.

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

setup_clients deis "the deis 1.9.1 client (Python 2.7)"
DEIS=${BERTH_CLIENTS_DIR:-$ROOT/.clients}/deis/bin/deis

# ---------------------------------------------------------------- server ---
make_work deis
mkdir -p "$WORK/cwd"
start_server

# --------------------------------------------------------------- helpers ---

# deis_as USER ARGS...: run the real CLI as USER (own HOME) from a directory
# that is not a git repository. Sets OUT (stdout+stderr, ANSI codes and the
# progress animation's backspaces stripped) and RC.
deis_as() {
  local user=$1
  shift
  mkdir -p "$WORK/home-$user"
  OUT=$(cd "$WORK/cwd" && HOME=$WORK/home-$user PYTHONWARNINGS=ignore DEIS_HIDE_PROGRESS=1 \
    timeout 300 "$DEIS" "$@" </dev/null 2>&1)
  RC=$?
  OUT=$(sed -r 's/\x1b\[[0-9;]*[A-Za-z]//g; s/\x08//g' <<<"$OUT")
  # Asserted once at the end: the client never crashes on a server response
  # and never warns about the API version (headers DEIS_API_VERSION etc.).
  grep -qE 'Traceback \(most recent call last\)|versions do not match' <<<"$OUT" &&
    TROUBLE+="\$ deis $*"$'\n'"$OUT"$'\n'
  return 0
}
TROUBLE=
# deis_ok USER ARGS...: run, and assert that it exits 0.
deis_ok() {
  deis_as "$@"
  DETAIL="exit code $RC; output:"$'\n'"$OUT" check "$1: deis ${*:2} exits 0" test "$RC" = 0
}
# deis_fails USER ARGS...: run, and assert that it exits non-zero.
deis_fails() {
  deis_as "$@"
  DETAIL="output:"$'\n'"$OUT" check "$1: deis ${*:2} fails" test "$RC" != 0
}

# containers APP [docker ps args...]: ids of the app's running containers.
containers() {
  local app=$1
  shift
  docker ps -q --no-trunc --filter "label=berth.server=$SID" --filter "label=berth.app=$app" "$@"
}
count() { "$@" | grep -c .; }
label() { docker inspect -f "{{index .Config.Labels \"$2\"}}" "$1"; }
# release_labels IDS...: the distinct berth.release labels of the containers.
release_labels() { local id; for id in "$@"; do label "$id" berth.release; done | sort -u | paste -sd' '; }
env_of() { docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1"; }
# identity ID: what changes when a container is (re)started or replaced.
identity() { docker inspect -f '{{.Id}} {{.State.StartedAt}}' "$1"; }
# web_identities APP: "num identity" lines of the app's running web containers.
web_identities() {
  local id
  for id in $(containers "$1" --filter label=berth.proc=web); do
    echo "$(label "$id" berth.num) $(identity "$id")"
  done | sort
}
# assert_web APP N RELEASE ENV_LINE: exactly N running web containers, all of
# release RELEASE (the berth.release label) and all with ENV_LINE in their env.
assert_web() {
  local app=$1 n=$2 rel=$3 envline=$4 ids id bad=
  mapfile -t ids < <(containers "$app" --filter label=berth.proc=web)
  assert_eq "$n" "${#ids[@]}" "docker runs $n web containers of $app"
  assert_eq "$(seq 1 "$n" | paste -sd' ')" \
    "$(for id in "${ids[@]}"; do label "$id" berth.num; done | sort -n | paste -sd' ')" \
    "their berth.num labels are 1..$n"
  ((n)) || return 0
  assert_eq "$rel" "$(release_labels "${ids[@]}")" "they all carry berth.release=$rel"
  for id in "${ids[@]}"; do env_of "$id" | grep -qxF -- "$envline" || bad+="${id:0:12} "; done
  DETAIL="containers without $envline in their env: $bad" check "they all have $envline in their env" test -z "$bad"
}

A=alice
B=bob
PA=alice-pw-1
PB=bob-pw-2
APP=compat-app

# ------------------------------------------------------------------ auth ---
deis_ok $A register "$URL" --username=$A --password=$PA --email=$A@example.com
assert_contains "$OUT" "Registered $A" "register prints Registered $A"
assert_contains "$OUT" "Logged in as $A" "register logs in"
deis_ok $A login "$URL" --username=$A --password=$PA
assert_contains "$OUT" "Logged in as $A" "login prints Logged in as $A"
deis_fails $A login "$URL" --username=$A --password=wrong
deis_ok $B register "$URL" --username=$B --password=$PB --email=$B@example.com
assert_contains "$OUT" "Logged in as $B" "the second user is registered and logged in"
deis_fails carol register "$URL" --username=$A --password=x --email=x@example.com

# ------------------------------------------------------------------ apps ---
deis_ok $A apps:create $APP --no-remote
assert_contains "$OUT" "created $APP" "apps:create prints the app id"
deis_fails $A apps:create $APP --no-remote
deis_ok $A apps:list
assert_matches "$OUT" "^$APP\$" "apps:list lists $APP"
deis_ok $B apps:list
assert_not_contains "$OUT" "$APP" "apps:list of another user does not list $APP"
deis_ok $A apps:info -a $APP
assert_contains "$OUT" "=== $APP Application" "apps:info prints the header"
assert_contains "$OUT" "\"id\": \"$APP\"" "apps:info shows the id"
assert_contains "$OUT" "\"owner\": \"$A\"" "apps:info shows the owner"
assert_contains "$OUT" "=== $APP Domains" "apps:info lists domains too"

# ---------------------------------------------------------------- config ---
deis_ok $A config:set FOO=bar BAZ=1 -a $APP
assert_contains "$OUT" "done, v2" "config:set reports release v2 (Deis-Release header)"
assert_contains "$OUT" "FOO: bar" "config:set echoes FOO"
assert_contains "$OUT" "BAZ: 1" "config:set echoes BAZ"
assert_contains "$OUT" "DEIS_APP: $APP" "config:set echoes DEIS_APP, as Deis's answer carried it"
assert_contains "$OUT" "DEIS_RELEASE: v2" "config:set echoes the new release's DEIS_RELEASE"
deis_ok $A config:list -a $APP
assert_matches "$OUT" "^FOO +bar$" "config:list shows FOO"
assert_matches "$OUT" "^BAZ +1$" "config:list shows BAZ"
deis_ok $A config:unset BAZ -a $APP
assert_contains "$OUT" "done, v3" "config:unset reports release v3"
deis_ok $A config:list -a $APP
assert_not_contains "$OUT" "BAZ" "config:list no longer shows BAZ"
assert_matches "$OUT" "^FOO +bar$" "config:list still shows FOO"
assert_not_contains "$OUT" "DEIS_APP" "config:list shows only what was set"

# ---------------------------------------------------------- build, scale ---
deis_ok $A builds:create busybox:latest -a $APP '--procfile={"web": "sleep 3600"}'
assert_contains "$OUT" "done, v4" "builds:create reports release v4"
deis_ok $A builds:list -a $APP
assert_contains "$OUT" "=== $APP Builds" "builds:list prints the header"
deis_ok $A ps:scale web=2 -a $APP
assert_contains "$OUT" "web.1 up (v4)" "ps:scale lists web.1 up (v4)"
assert_contains "$OUT" "web.2 up (v4)" "ps:scale lists web.2 up (v4)"
assert_web $APP 2 4 FOO=bar
assert_eq "" "$(for id in $(containers $APP); do env_of "$id"; done | grep '^BAZ=')" \
  "no container has the unset BAZ in its env"
deis_ok $A ps:list -a $APP
assert_matches "$OUT" '^web\.1 up \(v4\)$' "ps:list prints web.1 up (v4)"
assert_matches "$OUT" '^web\.2 up \(v4\)$' "ps:list prints web.2 up (v4)"

# ps:restart in its three forms: [ARG] -> which of web.1 / web.2 must restart.
for form in ":both" "web:both" "web.1:1"; do
  arg=${form%%:*} which=${form#*:}
  before=$(web_identities $APP)
  deis_ok $A ps:restart ${arg:+"$arg"} -a $APP
  assert_contains "$OUT" "web.2 up (v4)" "ps:restart ${arg:-(app)} lists the processes"
  assert_web $APP 2 4 FOO=bar
  after=$(web_identities $APP)
  for n in 1 2; do
    b=$(grep "^$n " <<<"$before") a=$(grep "^$n " <<<"$after")
    if [[ $which == both || $which == "$n" ]]; then
      DETAIL="before: $b"$'\n'"after:  $a" check "ps:restart ${arg:-(app)} restarted web.$n" test "$a" != "$b"
    else
      assert_eq "$b" "$a" "ps:restart ${arg:-(app)} left web.$n alone"
    fi
  done
done

# ------------------------------------------------------------- logs, run ---
deis_ok $A logs -a $APP
assert_contains "$OUT" "created initial release" "logs show the app's creation"
deis_ok $A logs -a $APP -n 1
assert_eq 1 "$(count echo "$OUT")" "logs -n 1 prints one line"
deis_ok $A run -a $APP -- echo hello
assert_matches "$OUT" '^hello$' "run echo hello prints hello"
deis_as $A run -a $APP -- 'echo bye; exit 3'
assert_eq 3 "$RC" "run of a command exiting 3 makes the CLI exit 3"
assert_matches "$OUT" '^bye$' "run prints the failing command's output"
assert_eq 2 "$(count containers $APP -a)" "run leaves no one-off container behind"

# -------------------------------------------------------------- releases ---
deis_ok $A config:set FOO=qux -a $APP
assert_contains "$OUT" "done, v5" "config:set on a running app reports v5"
assert_web $APP 2 5 FOO=qux
deis_ok $A releases:list -a $APP
for v in 1 2 3 4 5; do assert_matches "$OUT" "^v$v " "releases:list shows v$v"; done
assert_not_contains "$OUT" "v6" "releases:list shows nothing beyond v5"
deis_ok $A releases:info v4 -a $APP
assert_contains "$OUT" '"version": 4' "releases:info v4 shows version 4"
deis_fails $A releases:info v99 -a $APP
deis_ok $A rollback v4 -a $APP
assert_contains "$OUT" "done, v6" "rollback v4 creates v6"
assert_web $APP 2 6 FOO=bar
deis_ok $A releases:list -a $APP
assert_matches "$OUT" "^v6 " "releases:list shows v6"
deis_ok $A ps:list -a $APP
assert_matches "$OUT" '^web\.1 up \(v6\)$' "ps:list prints web.1 up (v6) after the rollback"

# --------------------------------------------------------------- domains ---
deis_ok $A domains:add example.com -a $APP
deis_ok $A domains:list -a $APP
assert_matches "$OUT" '^example\.com$' "domains:list shows example.com"
deis_ok $A domains:remove example.com -a $APP
deis_ok $A domains:list -a $APP
assert_contains "$OUT" "No domains" "domains:list is empty after domains:remove"

# ----------------------------------------------------------------- perms ---
deis_fails $B apps:info -a $APP
deis_ok $A perms:create $B -a $APP
deis_ok $A perms:list -a $APP
assert_contains "$OUT" "\"$B\"" "perms:list shows $B"
deis_ok $B apps:info -a $APP
assert_contains "$OUT" "\"id\": \"$APP\"" "the granted user sees the app"
deis_ok $B apps:list
assert_matches "$OUT" "^$APP\$" "apps:list of the granted user lists $APP"
deis_ok $A perms:delete $B -a $APP
deis_fails $B apps:info -a $APP
deis_ok $A perms:list -a $APP
assert_not_contains "$OUT" "\"$B\"" "perms:list no longer shows $B"

# ------------------------------------------------------------------ keys ---
# deis 1.9.1 parses keys with ^(ssh-...|ecdsa-[^ ]+): ssh-ed25519 keys are
# rejected by the client itself ("Could not parse SSH public key"), so RSA.
command -v ssh-keygen >/dev/null ||
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-client; } >&2
ssh-keygen -q -t rsa -b 2048 -N '' -C compat-key -f "$WORK/id_rsa"
deis_ok $A keys:list
assert_contains "$OUT" "No keys found" "keys:list is empty at first"
deis_ok $A keys:add "$WORK/id_rsa.pub"
assert_contains "$OUT" "Uploading compat-key to Deis...done" "keys:add uploads the key"
deis_ok $A keys:list
assert_contains "$OUT" "=== $A Keys" "keys:list shows the owner"
assert_contains "$OUT" "compat-key ssh-rsa AAAAB3N" "keys:list shows the key"
deis_ok $A keys:remove compat-key
deis_ok $A keys:list
assert_contains "$OUT" "No keys found" "keys:list is empty after keys:remove"

# ----------------------------------------------------------------- certs ---
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=shop.example.com \
  -addext subjectAltName=DNS:shop.example.com,DNS:www.example.com \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
openssl genrsa -out "$WORK/other.key" 2048 2>/dev/null
deis_ok $A certs:list
assert_contains "$OUT" "No certs" "certs:list is empty at first"
deis_fails $A certs:add "$WORK/tls.crt" "$WORK/other.key"
assert_contains "$OUT" "The key does not match the certificate" "certs:add refuses a key of another certificate"
deis_ok $A certs:add "$WORK/tls.crt" "$WORK/tls.key"
assert_contains "$OUT" "shop.example.com" "certs:add names the common name it read"
deis_ok $A certs:add "$WORK/tls.crt" "$WORK/tls.key" --common-name=www.example.com
deis_ok $A certs:list
assert_matches "$OUT" '^shop\.example\.com +[0-9]{4}-' "certs:list shows shop.example.com and its expiry"
assert_matches "$OUT" '^www\.example\.com ' "certs:list shows www.example.com"
assert_not_contains "$OUT" "PRIVATE KEY" "certs:list shows no key"
deis_ok $B certs:list
assert_contains "$OUT" "No certs" "another user does not see the certs"
deis_fails $B certs:remove shop.example.com
deis_ok $A certs:remove shop.example.com
deis_ok $A certs:remove www.example.com
deis_ok $A certs:list
assert_contains "$OUT" "No certs" "certs:list is empty after certs:remove"

# --------------------------------------------------------- limits, tags ---
# limits_of ID: "memory-bytes cpu-shares" as the engine enforces them.
limits_of() { docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}' "$1"; }
# web_limits APP: the distinct limits of the app's running web containers.
web_limits() { local id; for id in $(containers "$1" --filter label=berth.proc=web); do limits_of "$id"; done | sort -u | paste -sd'|'; }
LAPP=compat-limits
deis_ok $A apps:create $LAPP --no-remote
deis_ok $A builds:create busybox:latest -a $LAPP '--procfile={"web": "sleep 3600"}'
assert_contains "$OUT" "done, v2" "builds:create of $LAPP reports v2"
deis_ok $A ps:scale web=2 -a $LAPP
default_limits=$(web_limits $LAPP)
deis_ok $A limits:set web=64M -a $LAPP
assert_contains "$OUT" "done, v3" "limits:set reports release v3"
assert_matches "$OUT" "^web +64M$" "limits:set prints the memory limit"
assert_web $LAPP 2 3 DEIS_RELEASE=v3
assert_eq "67108864 ${default_limits#* }" "$(web_limits $LAPP)" "docker runs the web containers with 64M of memory"
deis_ok $A limits:set --cpu web=512 -a $LAPP
assert_contains "$OUT" "done, v4" "limits:set --cpu reports release v4"
assert_web $LAPP 2 4 DEIS_APP=$LAPP
assert_eq "67108864 512" "$(web_limits $LAPP)" "docker runs them with 64M and 512 CPU shares"
deis_ok $A limits:list -a $LAPP
assert_matches "$OUT" "^web +64M$" "limits:list shows the memory limit"
assert_matches "$OUT" "^web +512$" "limits:list shows the CPU shares"
deis_fails $A limits:set web=1k -a $LAPP
assert_contains "$OUT" "memory" "limits:set refuses a memory size too small to run"
deis_fails $A limits:set --cpu web=lots -a $LAPP
deis_ok $A limits:unset web -a $LAPP
assert_contains "$OUT" "done, v5" "limits:unset reports release v5"
deis_ok $A limits:unset --cpu web -a $LAPP
assert_contains "$OUT" "done, v6" "limits:unset --cpu reports release v6"
assert_contains "$OUT" "Unlimited" "limits:unset leaves the app unlimited"
assert_web $LAPP 2 6 DEIS_RELEASE=v6
assert_eq "$default_limits" "$(web_limits $LAPP)" "after limits:unset docker runs them with the server's defaults again"
deis_ok $A tags:list -a $LAPP
assert_contains "$OUT" "No tags defined" "tags:list is empty at first"
deis_ok $A tags:set environ=prod rack=1 -a $LAPP
assert_contains "$OUT" "done, v7" "tags:set reports release v7"
assert_matches "$OUT" "^environ +prod$" "tags:set echoes environ"
deis_ok $A tags:list -a $LAPP
assert_matches "$OUT" "^environ +prod$" "tags:list shows environ"
assert_matches "$OUT" "^rack +1$" "tags:list shows rack"
deis_ok $A tags:unset rack -a $LAPP
assert_contains "$OUT" "done, v8" "tags:unset reports release v8"
deis_ok $A tags:list -a $LAPP
assert_matches "$OUT" "^environ +prod$" "tags:list still shows environ"
assert_not_contains "$OUT" "rack" "tags:list no longer shows rack"
deis_ok $A releases:list -a $LAPP
assert_matches "$OUT" "^v8 " "releases:list shows each limits and tags change as a release"
deis_ok $A apps:destroy -a $LAPP --confirm=$LAPP
assert_eq 0 "$(count containers $LAPP -a)" "after apps:destroy $LAPP has no containers"

# ----------------------------------------------------------------- users ---
deis_ok $A users:list
assert_matches "$OUT" "^$B\$" "users:list (an administrator's) lists $B"

# ----------------------------------------------------- scale 0, destroy ---
deis_ok $A ps:scale web=0 -a $APP
assert_eq 0 "$(count containers $APP -a)" "after ps:scale web=0 the app has no containers"
deis_ok $A ps:scale web=1 -a $APP
assert_web $APP 1 6 FOO=bar
deis_ok $A apps:destroy -a $APP --confirm=$APP
assert_eq 0 "$(count containers $APP -a)" "after apps:destroy no container has the app's label"
deis_fails $A apps:info -a $APP
deis_ok $A apps:list
assert_not_contains "$OUT" "$APP" "apps:list no longer lists $APP"

# ---------------------------------------------------------- auth:cancel ---
deis_ok $B auth:cancel --username=$B --password=$PB --yes
assert_contains "$OUT" "Account cancelled" "auth:cancel cancels the account"
deis_fails $B login "$URL" --username=$B --password=$PB
deis_ok $A login "$URL" --username=$A --password=$PA

# ------------------------------------------------------------------- end ---
assert_eq "" "$TROUBLE" "no CLI call crashed (traceback) or warned about the API version"
finish
