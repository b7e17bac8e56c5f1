#!/usr/bin/env bash
# The swarm runtime on a real 3-node Docker Swarm (../shared/recipes/swarm3:
# three dockerds in network namespaces on this machine), over Berth's Deis
# /v1 API with curl: deploy, scale to 6 across the nodes, kill a worker's
# dockerd and see every instance run again on the survivors, scale down,
# kill Berth with SIGKILL mid-scale and restart it (no duplicate, no orphan),
# destroy and leave no service behind; the router serving an app whose
# tasks run on several nodes; Deis tags placing tasks on labelled nodes;
# the nodes as `GET /v1/nodes` and `berth nodes` list them.
#
#   BERTH_BIN=target/debug/berth bash tests/swarm/scenario.sh
#
# Needs root (network namespaces) and the engine of scripts/engine.sh (the
# image is copied from it into every node). Output: `ok - ...` lines and one
# `N passed, M failed` line.
BERTH_BIN=${BERTH_BIN:-target/debug/berth}
# The compatibility tests' harness: die, ok, not_ok, check, finish.
source "$(dirname "$0")/../compat/lib.sh"
RECIPE=${SWARM_RECIPE:-$ROOT/../shared/recipes/swarm3}
export B=${SWARM_DIR:-/tmp/swarm3}
IMAGE=${SWARM_IMAGE:-local/berth-demo:latest}
# check_detail MSG DETAIL COMMAND...: check, showing DETAIL when it fails.
check_detail() {
  local msg=$1 DETAIL=$2
  shift 2
  check "$msg" "$@"
}
[[ -f $RECIPE/up.sh ]] || die "no swarm recipe at $RECIPE"
[[ -n ${DOCKER_HOST:-} ]] || eval "$(bash scripts/engine.sh)"
SOURCE_ENGINE=$DOCKER_HOST
# The demo app's image is built by the integration tests (the router's),
# which scripts/test.sh runs first.
docker image inspect "$IMAGE" >/dev/null 2>&1 ||
  die "no image $IMAGE in the engine: run \`cargo test -p berth --test integration router\` first"
D1="docker -H unix://$B/n1.sock"

WORK=$(mktemp -d /tmp/berth-swarm.XXXXXX)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  FAST=1 bash "$RECIPE/down.sh" 3 >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----------------------------------------------------------------- swarm ---
FAST=1 bash "$RECIPE/down.sh" 3 >/dev/null 2>&1
IMG_SRC=$SOURCE_ENGINE IMG=$IMAGE bash "$RECIPE/up.sh" 3 >"$WORK/up.log" 2>&1 ||
  die "the swarm did not come up: $(tail -5 "$WORK/up.log")"
# A lost node is noticed in about 3 s instead of 10.
$D1 swarm update --dispatcher-heartbeat 1s >/dev/null
echo "# swarm up: $($D1 node ls --format '{{.Hostname}}' | tr '\n' ' ')($((SECONDS - START)) s)"

# ---------------------------------------------------------------- server ---
# Berth runs in node1's network namespace: the node addresses (and the
# ports tasks publish there) are reachable from it, not from the host.
mkdir -p "$WORK/data"
# start_server: (re)starts Berth on the same data and sets URL and ROUTER.
start_server() {
  : >"$WORK/server.log"
  ip netns exec bn1 env DOCKER_HOST="unix://$B/n1.sock" "$BERTH_BIN" serve --runtime swarm \
    --listen 127.0.0.1:0 --router-listen 127.0.0.1:0 --data-dir "$WORK/data" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  local i
  URL=
  for ((i = 0; i < 600; i++)); do
    URL=$(grep -om1 '^listening on http://[0-9.:]*' "$WORK/server.log" | sed 's/^listening on //')
    [[ -n $URL ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $URL ]] || die "the server did not start: $(tail -20 "$WORK/server.log")"
  ROUTER=$(grep -om1 'router listening on http://[0-9.:]*' "$WORK/server.log" | sed 's/^router listening on //')
}
start_server
SID=$(cat "$WORK/data/server-id")
echo "# berth at $URL (router ${ROUTER:-none}), server id $SID"

# api METHOD PATH [JSON]: sets CODE and BODY (curl runs in node1's namespace).
TOKEN=
api() {
  local out
  out=$(ip netns exec bn1 curl -s -m 120 -X "$1" -H 'Content-Type: application/json' \
    ${TOKEN:+-H "Authorization: token $TOKEN"} ${3:+--data "$3"} -w '\n%{http_code}' "$URL$2")
  CODE=${out##*$'\n'}
  BODY=${out%$'\n'*}
}
# up_count APP: instances Berth reports up.
up_count() {
  api GET "/v1/apps/$1/containers"
  grep -o '"state":"up"' <<<"$BODY" | grep -c .
}
# wait_up APP N SECONDS: until N instances are up.
wait_up() {
  local t
  for ((t = 0; t < $3 * 5; t++)); do
    [[ $(up_count "$1") == "$2" ]] && return 0
    sleep 0.2
  done
  return 1
}
services() { $D1 service ls -q --filter "label=berth.server=$SID"; }
# running_nodes APP: the nodes of the app's running tasks, one line each.
running_nodes() {
  local s
  for s in $($D1 service ls -q --filter "label=berth.server=$SID" --filter "label=berth.app=$1"); do
    $D1 service ps "$s" --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' |
      grep ' Running' | awk '{print $1}'
  done
}

api POST /v1/auth/register '{"username":"ops","password":"s3cret-pass","email":"ops@example.com"}'
check_detail "register the first user (an administrator)" "$CODE $BODY" test "$CODE" = 201
api POST /v1/auth/login/ '{"username":"ops","password":"s3cret-pass"}'
TOKEN=$(grep -o '"token":"[^"]*"' <<<"$BODY" | cut -d'"' -f4)
check_detail "log in" "$CODE $BODY" test -n "$TOKEN"

# ---------------------------------------------------------------- deploy ---
api POST /v1/apps '{"id":"spread"}'
check_detail "create app spread" "$CODE $BODY" test "$CODE" = 201
api POST /v1/apps/spread/builds "{\"image\":\"$IMAGE\",\"procfile\":{\"worker\":\"sleep 100000\"}}"
check_detail "deploy: the build answers once its instance is up" "$CODE $BODY" test "$CODE" = 201
check_detail "a worker-only first build runs nothing yet" "$(services)" test -z "$(services)"

t0=$SECONDS
api POST /v1/apps/spread/scale '{"worker":6}'
check_detail "scale to 6 answers" "$CODE $BODY" test "$CODE" = 204
check_detail "6 instances up" "$BODY" wait_up spread 6 60
check_detail "6 swarm services, one per instance" "$(services)" test "$(services | grep -c .)" = 6
echo "# scale 0→6 until 6 up: $((SECONDS - t0)) s"
NODES=$(running_nodes spread | sort | uniq -c)
check_detail "the 6 tasks spread over at least 2 nodes" "$NODES" test "$(running_nodes spread | sort -u | grep -c .)" -ge 2
echo "# spread: $(tr '\n' ' ' <<<"$NODES")"
for n in 1 2 3; do
  echo "# node$n runs $($D1 node ps node$n --filter desired-state=running -q 2>/dev/null | grep -c .) tasks"
done

# ---------------------------------------------------------------- router ---
# The router reaches each task at its node's address and the port the task
# published its app port on (host mode), whichever node it runs on.
api POST /v1/apps '{"id":"front"}'
check_detail "create app front" "$CODE $BODY" test "$CODE" = 201
api POST /v1/apps/front/builds \
  "{\"image\":\"$IMAGE\",\"procfile\":{\"web\":\"/usr/local/bin/berth-demo-app\"}}"
check_detail "deploy the demo app" "$CODE $BODY" test "$CODE" = 201
api POST /v1/apps/front/scale '{"web":4}'
check_detail "scale web to 4 answers" "$CODE $BODY" test "$CODE" = 204
check_detail "4 web instances up" "$BODY" wait_up front 4 60
check_detail "the 4 web tasks spread over at least 2 nodes" "$(running_nodes front | sort | uniq -c)" \
  test "$(running_nodes front | sort -u | grep -c .)" -ge 2
# through N: N requests through the router; one `<code> <instance>` line each.
through() {
  local i
  for ((i = 0; i < $1; i++)); do
    ip netns exec bn1 curl -s -m 5 -H 'Host: front.berth.local' -w ' %{http_code}\n' "$ROUTER/" |
      sed -E 's/.*"instance":"([^"]*)".* ([0-9]+)$/\2 \1/; s/^ ?([0-9]+)$/\1 -/'
  done
}
# Until every instance is found healthy and in the table (4 instances answer).
for ((t = 0; t < 100; t++)); do
  [[ $(through 8 | awk '$1 == 200 {print $2}' | sort -u | grep -c .) == 4 ]] && break
  sleep 0.2
done
ANSWERS=$(through 40)
# Container hostnames (the demo's `instance`) are their ids' first 12 characters.
NODE_OF=$(for n in 1 2 3; do docker -H "unix://$B/n$n.sock" ps -q | sed "s/\$/ node$n/"; done)
ANSWER_NODES=$(awk '$1 == 200 {print $2}' <<<"$ANSWERS" | sort -u |
  while read -r h; do awk -v h="$h" '$1 == h {print $2}' <<<"$NODE_OF"; done | sort -u)
check_detail "40 requests through the router all answer 200" "$(sort <<<"$ANSWERS" | uniq -c)" \
  test "$(awk '$1 == 200' <<<"$ANSWERS" | grep -c .)" = 40
check_detail "the router's answers come from instances on at least 2 nodes" \
  "$(sort <<<"$ANSWERS" | uniq -c; echo "$NODE_OF")" test "$(grep -c . <<<"$ANSWER_NODES")" -ge 2
echo "# router answers by node: $(tr '\n' ' ' <<<"$ANSWER_NODES")"

# ------------------------------------------------------------- placement ---
# Deis tags are node-label constraints.
$D1 node update --label-add zone=a node2 >/dev/null
t0=$SECONDS
api POST /v1/apps/front/config '{"tags":{"zone":"a"}}'
check_detail "tags zone=a: the config change answers 201" "$CODE $BODY" test "$CODE" = 201
check_detail "tags zone=a: 4 web instances up" "$BODY" wait_up front 4 60
check_detail "tags zone=a: every task runs on node2 (labelled zone=a)" "$(running_nodes front | sort | uniq -c)" \
  test "$(running_nodes front | sort | uniq -c | awk '{print $1, $2}')" = "4 node2"
echo "# tags zone=a until 4 up on node2: $((SECONDS - t0)) s"
t0=$SECONDS
api POST /v1/apps/front/config '{"tags":{"zone":"nowhere"}}'
check_detail "tags no node matches: the config change fails naming the tags" "$CODE $BODY" \
  grep -q 'zone=nowhere' <<<"$BODY"
check_detail "tags no node matches: answered 400" "$CODE $BODY" test "$CODE" = 400
echo "# impossible tags until refused: $((SECONDS - t0)) s"
check_detail "tags no node matches: the app keeps running on node2" "$(running_nodes front | sort | uniq -c)" \
  test "$(running_nodes front | sort | uniq -c | awk '{print $1, $2}')" = "4 node2"
api DELETE /v1/apps/front
check_detail "destroy app front" "$CODE $BODY" test "$CODE" = 204

# ------------------------------------------------------------- node loss ---
VICTIM=$(running_nodes spread | grep -v '^node1$' | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')
[[ -n $VICTIM ]] || VICTIM=node2
t0=$SECONDS
kill -9 "$(cat "$B/n${VICTIM#node}/dockerd.pid")"
echo "# killed the dockerd of $VICTIM"
recovered() {
  [[ $(up_count spread) == 6 ]] &&
    [[ $(running_nodes spread | grep -c .) == 6 ]] &&
    ! running_nodes spread | grep -qx "$VICTIM"
}
# Recovered and still so a second later: the end state, not a moment of
# the move (once, the running tasks fell from 6 to 4 right after a first
# look found 6; not reproduced since).
for ((t = 0; t < 60; t++)); do recovered && sleep 1 && recovered && break; sleep 0.2; done
check_detail "all 6 instances run again on the survivors" \
  "$(running_nodes spread | sort | uniq -c; echo "$BODY")" recovered
echo "# node loss until 6 up on survivors: $((SECONDS - t0)) s"
api GET /v1/apps/spread
check_detail "synchronous calls still answer after the node loss" "$CODE $BODY" test "$CODE" = 200

# ----------------------------------------------------------------- nodes ---
# berth CLI in node1's namespace: `berth nodes` (administrators).
cli() { ip netns exec bn1 env BERTH_CONFIG="$WORK/cli.json" BERTH_PASSWORD=s3cret-pass "$BERTH_BIN" "$@"; }
cli login "$URL" --username ops >/dev/null 2>&1
node_state() { # NAME: the state `berth nodes --json` gives node NAME
  cli nodes --json | python3 -c 'import json,sys
for n in json.load(sys.stdin)["results"]:
    if n["name"] == sys.argv[1]: print(n["state"], n["role"], n["address"] or "-", n["tasks"])' "$1"
}
for ((t = 0; t < 50; t++)); do [[ $(node_state "$VICTIM") == down* ]] && break; sleep 0.2; done
NODE_TABLE=$(cli nodes)
echo "$NODE_TABLE" | sed 's/^/# /'
api GET /v1/nodes
check_detail "GET /v1/nodes lists the 3 nodes" "$CODE $BODY" test "$(grep -o '"name":"node[123]"' <<<"$BODY" | sort -u | grep -c .)" = 3
check_detail "berth nodes shows $VICTIM down, the others ready" "$NODE_TABLE" \
  test "$(awk 'NR > 1 {print $1, $2}' <<<"$NODE_TABLE" | sort | tr '\n' ' ')" = \
  "$(for n in node1 node2 node3; do [[ $n == "$VICTIM" ]] && echo "$n down" || echo "$n ready"; done | tr '\n' ' ')"
check_detail "node1 is the manager, at 10.99.0.11, running tasks" "$(node_state node1)" \
  grep -Eq '^ready manager 10\.99\.0\.11 [1-9]' <(node_state node1)

# --------------------------------------------------------------- SIGKILL ---
# Berth killed while a scale is under way, then started again on the same
# data (same port): it converges on the swarm's truth with no duplicate and
# no orphaned service.
t0=$SECONDS
api_async_pid=
( api POST /v1/apps/spread/scale '{"worker":9}' ) &
api_async_pid=$!
sleep 0.4
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
wait "$api_async_pid" 2>/dev/null
echo "# killed Berth (SIGKILL) $((SECONDS - t0)) s into a scale to 9; $(services | grep -c .) services then"
start_server
# The scale was stored before the kill unless the kill came first: then the
# app still wants 6. Either way, exactly that many must run.
api GET /v1/apps/spread
WANT=$(grep -o '"worker":[0-9]*' <<<"$BODY" | head -1 | cut -d: -f2)
check_detail "after SIGKILL and restart: the app wants 6 or 9 (as stored)" "$BODY" grep -Eqx '6|9' <<<"$WANT"
check_detail "after SIGKILL and restart: $WANT instances up" "$BODY" wait_up spread "$WANT" 60
for ((t = 0; t < 100; t++)); do [[ $(services | grep -c .) == "$WANT" ]] && break; sleep 0.2; done
check_detail "after SIGKILL and restart: exactly $WANT services, one per instance" "$(services)" \
  test "$(services | grep -c .)" = "$WANT"
api GET /v1/apps/spread/containers
check_detail "after SIGKILL and restart: instance numbers 1..$WANT, each once" "$BODY" \
  test "$(grep -o '"num":[0-9]*' <<<"$BODY" | sort -u | grep -c .)" = "$WANT"
echo "# SIGKILL until $WANT up: $((SECONDS - t0)) s"

# ------------------------------------------------------ scale down, destroy ---
t0=$SECONDS
api POST /v1/apps/spread/scale '{"worker":2}'
check_detail "scale down to 2 answers" "$CODE $BODY" test "$CODE" = 204
check_detail "2 instances up" "$BODY" wait_up spread 2 60
for ((t = 0; t < 100; t++)); do [[ $(services | grep -c .) == 2 ]] && break; sleep 0.2; done
check_detail "2 services left" "$(services)" test "$(services | grep -c .)" = 2
echo "# scale $WANT→2: $((SECONDS - t0)) s"
api DELETE /v1/apps/spread
check_detail "destroy the app" "$CODE $BODY" test "$CODE" = 204
for ((t = 0; t < 100; t++)); do [[ -z $(services) ]] && break; sleep 0.2; done
check_detail "no service is left" "$(services)" test -z "$(services)"

finish
