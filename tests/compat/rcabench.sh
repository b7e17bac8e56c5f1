#!/usr/bin/env bash
# Compatibility test: the real, unmodified RCABench Python SDK (rcabench
# 1.1.46, openapi-generator client with strict pydantic models) against a
# fresh Berth server's RCABench containers dialect at /api/v2. The SDK drives
# everything it supports — auth, the catalog, search, builds and tasks; raw
# HTTP is used only where the SDK refuses to send bad input itself. A real
# image is built from a local git repository, checked in the Docker engine,
# and then deployed as a Deis app through Berth's /v1 API.
#
#   BERTH_BIN=target/debug/berth bash tests/compat/rcabench.sh
#
# BERTH_BIN defaults to target/release/berth. Without the SDK the test is
# SKIPPED (exit 0), or FAILS when CI is set. Output is TAP-like: `ok - ...` /
# `not ok - ...` lines, then exactly one `N passed, M failed` line.

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
command -v git >/dev/null || die "git is needed (builds clone with it)"
command -v curl >/dev/null || die "curl is needed"

setup_clients py3 "the rcabench 1.1.46 SDK (Python 3)"
PY=${BERTH_CLIENTS_DIR:-$ROOT/.clients}/py3/bin/python
unset RCABENCH_BASE_URL RCABENCH_USERNAME RCABENCH_PASSWORD

# ---------------------------------------------------------------- server ---
make_work rcabench
# Image names unique to this run, so runs sharing an engine never collide.
RUN=$(basename "$WORK" | tr -dc 'a-z0-9' | tail -c 7)
IMAGE=berth-compat-$RUN/hello
BROKEN_IMAGE=berth-compat-$RUN/broken
# A copy of the base image under a name of this run's: the build that must be
# refused targets it, never the shared busybox:latest.
BASE_IMAGE=berth-compat-$RUN/base

cleanup_extra() {
  docker image rm -f "$IMAGE:1.0.0" "$BASE_IMAGE:latest" >/dev/null 2>&1
}

docker tag busybox:latest "$BASE_IMAGE:latest" || die "cannot tag busybox:latest"
# The builds below clone repositories on this host, which the operator must allow.
export BERTH_BUILD_ALLOW_LOCAL_SOURCES=true
start_server

# --------------------------------------------------------------- helpers ---
# tally: echo a TAP stream from the SDK script and count its results.
tally() {
  local line
  while IFS= read -r line; do
    echo "$line"
    case $line in
      "ok - "*) PASSED=$((PASSED + 1)) ;;
      "not ok - "*) FAILED=$((FAILED + 1)) ;;
    esac
  done
}

# ------------------------------------------------------- git repositories ---
# A repository with a good Dockerfile on branch main, and one whose build fails.
SRC=$WORK/src
mkdir -p "$SRC/app" "$SRC/broken"
printf 'FROM busybox:latest\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\nCMD ["sleep", "3600"]\n' >"$SRC/app/Dockerfile"
echo "hello from berth $RUN" >"$SRC/app/hello.txt"
printf 'FROM busybox:latest\nRUN echo about to fail && exit 3\n' >"$SRC/broken/Dockerfile"
if ! { git -C "$SRC" init -q -b main && git -C "$SRC" add . &&
  git -C "$SRC" -c user.name=compat -c user.email=compat@example.com commit -qm "compat sources"; }; then
  die "cannot make the git repository"
fi

# ----------------------------------------------------------- SDK session ---
STATE=$WORK/state.json
cat >"$WORK/sdk.py" <<'PY'
"""Drives Berth through the rcabench SDK; prints ok/not ok lines."""
import json
import sys
import time
import traceback
import urllib.request

from rcabench.client import RCABenchClient
from rcabench.openapi import (
    ApiClient, ApiException, AuthenticationApi, BuildOptions, Configuration, ContainersApi,
    ContainerType, CreateContainerReq, CreateContainerVersionReq, CreateParameterConfigReq,
    FilterOperator, LoginReq, PageSize, ParameterCategory, ParameterType, RegisterReq, SearchContainerReq,
    SearchFilter, SortDirection, SortOption, StatusType, SubmitBuildContainerReq, TasksApi,
)

URL, SRC, IMAGE, BROKEN_IMAGE, BASE_IMAGE, STATE = sys.argv[1:7]


def ok(msg):
    print(f"ok - {msg}", flush=True)


def not_ok(msg, detail=""):
    print(f"not ok - {msg}", flush=True)
    for line in str(detail).splitlines():
        print(f"#   {line}", flush=True)


def check(msg, cond, detail=""):
    ok(msg) if cond else not_ok(msg, detail)


def step(msg, fn):
    """Runs fn; a raised exception (e.g. a strict-model ValidationError) fails the step."""
    try:
        result = fn()
        ok(msg)
        return result
    except Exception:
        not_ok(msg, traceback.format_exc())
        return None


def status_of(fn):
    try:
        fn()
        return 200
    except ApiException as e:
        return e.status


def raw(method, path, token, body=None):
    """Plain HTTP for input the SDK's own validation would refuse to send."""
    req = urllib.request.Request(URL + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


anon = ApiClient(Configuration(host=URL))
auth = AuthenticationApi(anon)

# ------------------------------------------------------------------ auth
reg = step("register alice (201, strict UserInfo)", lambda: auth.register_user(
    request=RegisterReq(username="alice", password="alice-password", email="alice@example.com")))
check("register returns the user with an integer id",
      reg is not None and isinstance(reg.data.id, int) and reg.data.username == "alice", reg)
step("register bob", lambda: auth.register_user(
    request=RegisterReq(username="bob", password="bob-password", email="bob@example.com")))
check("a duplicate username is 409", status_of(lambda: auth.register_user(
    request=RegisterReq(username="alice", password="another-pw", email="x@example.com"))) == 409)
check("a bad password is 401", status_of(lambda: auth.login(
    request=LoginReq(username="alice", password="wrong-password"))) == 401)
check("no token is 401", status_of(lambda: ContainersApi(anon).list_containers()) == 401)

alice = RCABenchClient(base_url=URL, username="alice", password="alice-password")
api_client = step("RCABenchClient logs in", lambda: alice.__enter__())
if api_client is None:
    sys.exit(0)
token = RCABenchClient._sessions[alice.instance_key].access_token
login = auth.login(request=LoginReq(username="alice", password="alice-password"))
check("login data has token, expires_at and user",
      login.data.token and login.data.expires_at and login.data.user.username == "alice", login)
containers = ContainersApi(api_client)
tasks = TasksApi(api_client)

# ------------------------------------------------------------ containers
first = step("create a container with a first version (201)", lambda: containers.create_container(
    request=CreateContainerReq(
        name="algo-a", type=ContainerType.Algorithm, is_public=True, readme="# Algo A",
        version=CreateContainerVersionReq(name="1.0.0", image_ref="busybox:latest",
                                          command="sleep 3600"))))
algo_id = first.data.id if first else 0
check("the container has an int id, type and status as strings",
      first is not None and isinstance(algo_id, int) and first.data.type == "algorithm"
      and first.data.status == "enabled" and first.data.is_public is True, first)
check("a duplicate container name is 409", status_of(lambda: containers.create_container(
    request=CreateContainerReq(name="algo-a", type=ContainerType.Algorithm))) == 409)
bench = step("create a private benchmark", lambda: containers.create_container(
    request=CreateContainerReq(name="bench-b", type=ContainerType.Benchmark, is_public=False)))
step("create a public pedestal", lambda: containers.create_container(
    request=CreateContainerReq(name="pedestal-c", type=ContainerType.Pedestal, is_public=True)))
for i in range(12):
    containers.create_container(request=CreateContainerReq(
        name=f"page-{i:02d}", type=ContainerType.Algorithm, is_public=True))

v2 = step("add a version (201)", lambda: containers.create_container_version(
    algo_id, request=CreateContainerVersionReq(
        name="1.1.0", image_ref="docker.io/opspai/detector:v2", command="run --fast",
        github_link="https://github.com/example/detector",
        env_vars=[CreateParameterConfigReq(key="THRESHOLD", type=ParameterType.Fixed,
                                           category=ParameterCategory.EnvVars,
                                           default_value="0.5")])))
check("the version has an int id and usage", v2 is not None and isinstance(v2.data.id, int)
      and v2.data.usage == 0 and v2.data.image_ref == "docker.io/opspai/detector:v2", v2)
check("a version name that is not semver is 400", status_of(
    lambda: containers.create_container_version(algo_id, request=CreateContainerVersionReq(
        name="one", image_ref="busybox"))) == 400)
check("a duplicate version name is 409", status_of(
    lambda: containers.create_container_version(algo_id, request=CreateContainerVersionReq(
        name="1.1.0", image_ref="busybox"))) == 409)
check("an unparsable image_ref is 400", status_of(
    lambda: containers.create_container_version(algo_id, request=CreateContainerVersionReq(
        name="2.0.0", image_ref="Not An Image"))) == 400)

got = step("get the container (200)", lambda: containers.get_container_by_id(algo_id))
names = [v.name for v in got.data.versions] if got else []
check("get shows the readme and both versions, newest first",
      got is not None and got.data.readme == "# Algo A" and names == ["1.1.0", "1.0.0"], got)
check("an unknown container is 404", status_of(lambda: containers.get_container_by_id(999999)) == 404)

page = step("list containers (200)", lambda: containers.list_containers(page=1, size=PageSize.Small))
check("list pages by 10: 15 containers, 2 pages",
      page is not None and len(page.data.items) == 10 and page.data.pagination.total == 15
      and page.data.pagination.total_pages == 2, page and page.data.pagination)
page2 = containers.list_containers(page=2, size=PageSize.Small)
check("page 2 has the other 5", len(page2.data.items) == 5 and page2.data.pagination.page == 2)
bench_only = containers.list_containers(type=ContainerType.Benchmark)
check("the type filter is honoured", [c.name for c in bench_only.data.items] == ["bench-b"],
      bench_only.data.items)
public = containers.list_containers(size=PageSize.Large, is_public=False, status=StatusType.Enabled)
check("the is_public and status filters are honoured",
      [c.name for c in public.data.items] == ["bench-b"], public.data.items)

versions = step("list versions (200)", lambda: containers.list_container_versions(algo_id, page=1, size=10))
check("list versions has both, newest first",
      versions is not None and [v.name for v in versions.data.items] == ["1.1.0", "1.0.0"]
      and versions.data.pagination.total == 2, versions)
detail = step("get a version (200)", lambda: containers.get_container_version_by_id(algo_id, v2.data.id))
extra = detail.data.additional_properties if detail else {}
check("the version detail has command, github_link and env_vars as JSON text",
      detail is not None and detail.data.command == "run --fast"
      and detail.data.github_link == "https://github.com/example/detector"
      and json.loads(detail.data.env_vars)[0]["key"] == "THRESHOLD", detail)
check("the image_ref is parsed into registry/namespace/repository/tag",
      (extra.get("registry"), extra.get("namespace"), extra.get("repository"), extra.get("tag"))
      == ("docker.io", "opspai", "detector", "v2"), extra)

# --------------------------------------------------------------- search
def search(**kw):
    return containers.search_containers(request=SearchContainerReq(page=1, size=50, **kw))


found = step("search by keyword (200)", lambda: search(keyword="algo"))
check("keyword matches a substring of the name",
      found is not None and [c.name for c in found.data.items] == ["algo-a"], found)
check("name matches a part of the name, as AegisLab's like",
      [c.name for c in search(name="ench-").data.items] == ["bench-b"])
named = search(name="algo")
check("applied_filters shows name like",
      [(f.var_field, f.operator) for f in named.data.applied_filters]
      == [("name", FilterOperator.Like)], named.data.applied_filters)
check("image matches a part of a version's image",
      [c.name for c in search(image="opspai/detector").data.items] == ["algo-a"])
check("image does not match a version's tag",
      search(image="detector:v2").data.items == [])
check("tag matches a version's whole tag",
      [c.name for c in search(tag="v2").data.items] == ["algo-a"]
      and search(tag="v").data.items == [])
check("command matches a part of a version's command",
      [c.name for c in search(command="fast").data.items] == ["algo-a"]
      and search(command="no-such-command").data.items == [])
check("image, tag and command hold for one version",
      search(image="busybox", tag="v2").data.items == []
      and [c.name for c in search(image="busybox", tag="latest", command="sleep").data.items]
      == ["algo-a"])
check("project_id is accepted",
      [c.name for c in search(name="bench", project_id=1).data.items] == ["bench-b"])
code, body = raw("POST", "/api/v2/containers/search", token,
                 {"name": "pedestal", "group_by": ["type"]})
check("group_by is accepted; the answer has no groups",
      code == 200 and [c["name"] for c in body["data"]["items"]] == ["pedestal-c"]
      and "groups" not in body["data"], body)
check("no match gives empty items", search(keyword="no-such-thing").data.items == [])
typed = search(filters=[SearchFilter(field="type", operator=FilterOperator.Equal, value="2")])
check("filter type eq 2 finds the pedestal", [c.name for c in typed.data.items] == ["pedestal-c"],
      typed.data.items)
check("applied_filters echoes the filter",
      typed.data.applied_filters[0].var_field == "type"
      and typed.data.applied_filters[0].operator == FilterOperator.Equal)
in_filter = search(filters=[SearchFilter(field="name", operator=FilterOperator.In,
                                         values=["algo-a", "pedestal-c"])])
check("filter name in [..]", sorted(c.name for c in in_filter.data.items) == ["algo-a", "pedestal-c"])
sorted_desc = search(keyword="page-", sort=[SortOption(field="name", direction=SortDirection.DESC)])
check("sort by name desc", [c.name for c in sorted_desc.data.items][:2] == ["page-11", "page-10"]
      and sorted_desc.data.applied_sort[0].direction == SortDirection.DESC, sorted_desc.data.items)
paged = containers.search_containers(request=SearchContainerReq(
    keyword="page-", page=2, size=5, sort=[SortOption(field="name", direction=SortDirection.ASC)]))
check("search pages", [c.name for c in paged.data.items] == [f"page-{i:02d}" for i in range(5, 10)]
      and paged.data.pagination.total == 12 and paged.data.pagination.total_pages == 3,
      paged.data.items)
check("an unknown filter field is 400", status_of(lambda: search(
    filters=[SearchFilter(field="password", operator=FilterOperator.Equal, value="x")])) == 400)
code, body = raw("POST", "/api/v2/containers/search", token,
                 {"filters": [{"field": "name", "operator": "regex", "value": ".*"}]})
check("an unknown operator is 400 in the envelope", code == 400 and body.get("code") == 400
      and "data" not in body, body)
code, body = raw("POST", "/api/v2/containers/search", token,
                 {"keyword": "' OR 1=1 --", "filters": [{"field": "name", "operator": "like",
                                                          "value": "%' OR '1'='1"}]})
check("SQL in search values is only data", code == 200 and body["data"]["items"] == [], body)

# ---------------------------------------------------------- visibility
bob = RCABenchClient(base_url=URL, username="bob", password="bob-password")
bob_containers = ContainersApi(bob.__enter__())
check("another user cannot see a private container",
      status_of(lambda: bob_containers.get_container_by_id(bench.data.id)) == 404)
bob_list = bob_containers.list_containers(size=PageSize.Large)
check("another user lists public containers only",
      "bench-b" not in [c.name for c in bob_list.data.items] and bob_list.data.pagination.total == 14,
      bob_list.data.pagination)
check("another user cannot add a version to a public container",
      status_of(lambda: bob_containers.create_container_version(
          algo_id, request=CreateContainerVersionReq(name="9.9.9", image_ref="busybox"))) == 403)


# --------------------------------------------------------------- builds
def wait_task(task_id, seconds=300):
    deadline = time.time() + seconds
    while True:
        t = tasks.get_task_by_id(task_id).data
        if t.state in ("completed", "error", "cancelled") or time.time() > deadline:
            return t
        time.sleep(1)


submitted = step("submit a build from a local git repository (200)", lambda: containers.build_container_image(
    request=SubmitBuildContainerReq(
        image_name=IMAGE, tag="1.0.0", github_repository=SRC, github_branch="main",
        sub_path="app", build_options=BuildOptions(context_dir=".", dockerfile_path="Dockerfile"))))
check("the build answers task, trace and group ids at once",
      submitted is not None and submitted.data.task_id and submitted.data.trace_id
      and submitted.data.group_id, submitted)
built = wait_task(submitted.data.task_id) if submitted else None
check("the build task ends completed", built is not None and built.state == "completed",
      built and "\n".join(built.logs or []))
check("the task log streams the engine's build output",
      built is not None and any("Successfully built" in l for l in built.logs), built and built.logs)
hello = search(name="hello").data.items
hello_id = hello[0].id if hello else 0
hello_versions = containers.list_container_versions(hello_id).data.items if hello_id else []
check("the build made container hello with version 1.0.0 whose image_ref is the image",
      [(v.name, v.image_ref) for v in hello_versions] == [("1.0.0", f"{IMAGE}:1.0.0")], hello_versions)
check("the task's result names that version",
      built is not None and (built.additional_properties.get("result") or {}).get("version_id")
      == (hello_versions[0].id if hello_versions else None), built)

broken = containers.build_container_image(request=SubmitBuildContainerReq(
    image_name=BROKEN_IMAGE, github_repository="file://" + SRC,
    build_options=BuildOptions(dockerfile_path="broken/Dockerfile")))
failed = wait_task(broken.data.task_id)
check("a broken Dockerfile ends in state error", failed.state == "error", failed)
check("with the engine's message in the log",
      any("returned a non-zero code: 3" in l for l in failed.logs), failed.logs)
check("a build from a repository that does not exist ends in error", wait_task(
    containers.build_container_image(request=SubmitBuildContainerReq(
        image_name=BROKEN_IMAGE, github_repository=SRC + "/missing")).data.task_id).state == "error")
check("a build path leaving the repository is 400", status_of(lambda: containers.build_container_image(
    request=SubmitBuildContainerReq(image_name=IMAGE, github_repository=SRC,
                                    build_options=BuildOptions(context_dir="../..")))) == 400)
check("a build may not replace an engine image Berth did not build (403)",
      status_of(lambda: containers.build_container_image(request=SubmitBuildContainerReq(
          image_name=BASE_IMAGE, tag="latest", github_repository=SRC, sub_path="app"))) == 403)
rebuilt = containers.build_container_image(request=SubmitBuildContainerReq(
    image_name=IMAGE, tag="1.0.0", github_repository=SRC, sub_path="app",
    build_options=BuildOptions(force_rebuild=True)))
again = wait_task(rebuilt.data.task_id)
hello_after = containers.list_container_versions(hello_id).data.items if hello_id else []
check("its owner may rebuild a recorded image; the version is updated, not duplicated",
      again.state == "completed" and [v.name for v in hello_after] == ["1.0.0"], again)
listed = tasks.list_tasks(page=1, size=10)
check("list tasks shows the builds", listed.data.pagination.total == 4, listed.data.pagination)

json.dump({"token": token, "image": f"{IMAGE}:1.0.0"}, open(STATE, "w"))
PY

tally < <("$PY" "$WORK/sdk.py" "$URL" "$SRC" "$IMAGE" "$BROKEN_IMAGE" "$BASE_IMAGE" "$STATE" 2>&1)

# ------------------------------------------------- engine and Deis checks ---
if [[ -f $STATE ]]; then
  TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$STATE")
  image_exists() { docker image inspect "$1" &>/dev/null; }
  DETAIL="docker image inspect $IMAGE:1.0.0 failed" check "the image exists in the engine" \
    image_exists "$IMAGE:1.0.0"
  assert_eq "" "$(docker images -q "$BROKEN_IMAGE")" "the broken build left no image"

  deis() { # METHOD PATH [JSON]: sets CODE and BODY
    BODY=$(curl -s -o - -w '\n%{http_code}' -X "$1" "$URL$2" -H "Authorization: token $TOKEN" \
      -H 'Content-Type: application/json' ${3:+-d "$3"})
    CODE=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
  }
  deis POST /v1/apps '{"id": "rcabench-built"}'
  DETAIL=$BODY assert_eq 201 "$CODE" "a Deis app is created with the same token"
  deis POST /v1/apps/rcabench-built/builds "{\"image\": \"$IMAGE:1.0.0\"}"
  DETAIL=$BODY assert_eq 201 "$CODE" "a Deis build from the built image is accepted"
  running=$(docker ps --filter "label=berth.server=$SID" --filter label=berth.app=rcabench-built \
    --format '{{.Image}} {{.State}}')
  assert_eq "$IMAGE:1.0.0 running" "$running" "docker runs the Deis app from the built image"
else
  not_ok "the SDK session wrote no state; engine and Deis checks skipped"
fi

# ------------------------------------------------------------------- end ---
finish
