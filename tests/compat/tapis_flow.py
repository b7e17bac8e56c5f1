"""The tapipy 25.4.0 flow of tests/compat/tapis.sh (run it through that script).

Drives a fresh Berth server's Tapis Pods dialect with the real, unmodified
tapipy client, plus plain `requests` where tapipy cannot see or cannot call
(envelope, Content-Type, list_files, download_from_pod), and asserts on what
Docker runs. Prints `ok - ...` / `not ok - ...` lines (details as `#   `
lines); exits 0 when it ran to the end, whatever the assertions said.

Environment: BERTH_URL, BERTH_SID, DOCKER_HOST, TAPIS_USER_A / TAPIS_PASS_A
(the pods' owner), TAPIS_USER_B / TAPIS_PASS_B (a second user).
"""
import json
import os
import subprocess
import sys
import time

import requests
from tapipy import errors as terrors
from tapipy.tapis import Debug, Tapis, TapisResult

URL = os.environ["BERTH_URL"].rstrip("/")
SID = os.environ["BERTH_SID"]
A, PA = os.environ["TAPIS_USER_A"], os.environ["TAPIS_PASS_A"]
B, PB = os.environ["TAPIS_USER_B"], os.environ["TAPIS_PASS_B"]

POD = "compatpod"  # the main pod
TPOD = "compattpod"  # a pod from a template
RPOD = "compatrespod"  # a pod with resource limits
FPOD = "compatfpod"  # a pod for the later upstream fields (secrets, PUT fields)
TMPL = "compattmpl"
IMAGE = "busybox:latest"
CMD = ["sh", "-c", "echo hello-from-pod; exec sleep 3600"]
WAIT = 60  # seconds for a status transition

# The pod object's fields in tapipy's bundled spec (PodResponseModel).
POD_FIELDS = [
    "pod_id", "image", "template", "description", "command", "arguments",
    "environment_variables", "status_requested", "volume_mounts",
    "time_to_stop_default", "time_to_stop_instance", "networking", "resources",
    "compute_queue", "time_to_stop_ts", "status", "status_container",
    "creation_ts", "update_ts", "start_instance_ts",
]
ENVELOPE = {"status", "message", "result", "version", "metadata"}

passed = failed = 0


def say(line):
    print(line, flush=True)


def ok(msg):
    global passed
    passed += 1
    say(f"ok - {msg}")


def not_ok(msg, detail=""):
    global failed
    failed += 1
    say(f"not ok - {msg}")
    for line in str(detail).splitlines()[:40]:
        say(f"#   {line}")


def check(msg, cond, detail=""):
    if cond:
        ok(msg)
    else:
        not_ok(msg, detail)
    return bool(cond)


# ------------------------------------------------------------ formatting ---
def plain(x):
    """A TapisResult (tree) as plain JSON-able data."""
    if isinstance(x, TapisResult):
        return {k: plain(v) for k, v in vars(x).items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    return x


def show(x, n=1500):
    try:
        s = json.dumps(plain(x), indent=None, sort_keys=True, default=str)
    except Exception:  # noqa: BLE001
        s = repr(x)
    return s if len(s) <= n else s[:n] + "..."


def body_of(req):
    b = getattr(req, "body", None)
    if isinstance(b, bytes):
        b = b.decode("utf-8", "replace")
    return (b or "")[:600]


def http_detail(req, resp):
    out = []
    if req is not None:
        out.append(f"request:  {req.method} {req.url}")
        if body_of(req):
            out.append(f"body:     {body_of(req)}")
    if resp is not None:
        out.append(f"response: {resp.status_code} Content-Type={resp.headers.get('content-type')!r}")
        out.append(f"          {resp.text[:800]}")
    return "\n".join(out)


def err_detail(e):
    req = getattr(e, "request", None)
    resp = getattr(e, "response", None)
    if req is None and resp is None:
        return f"{type(e).__name__}: {e}"
    return f"{type(e).__name__}: {getattr(e, 'message', e)}\n" + http_detail(req, resp)


def status_of(e):
    resp = getattr(e, "response", None)
    return getattr(resp, "status_code", None)


# -------------------------------------------------------------- calling ---
class Call:
    """The outcome of one tapipy operation: result (plain data), the raw
    result object, the error (if any), and the HTTP exchange for details."""

    def __init__(self, raw=None, dbg=None, err=None):
        self.raw, self.dbg, self.err = raw, dbg, err
        self.data = plain(raw)

    @property
    def code(self):
        if self.err is not None:
            return status_of(self.err)
        return self.dbg.response.status_code if self.dbg else None

    def detail(self):
        if self.err is not None:
            return err_detail(self.err)
        if self.dbg is not None:
            return http_detail(self.dbg.request, self.dbg.response)
        return f"result: {show(self.raw)}"

    def get(self, *path, default=None):
        cur = self.data
        for p in path:
            if isinstance(cur, dict) and p in cur:
                cur = cur[p]
            elif isinstance(cur, list) and isinstance(p, int) and -len(cur) <= p < len(cur):
                cur = cur[p]
            else:
                return default
        return cur


def call(op, **kw):
    """Run a tapipy operation with _tapis_debug, never raising."""
    try:
        ret = op(_tapis_debug=True, **kw)
    except terrors.BaseTapyException as e:
        return Call(err=e)
    except Exception as e:  # noqa: BLE001 -- a client crash on a server answer
        return Call(err=e)
    if isinstance(ret, tuple) and len(ret) == 2 and isinstance(ret[1], Debug):
        return Call(ret[0], ret[1])
    return Call(ret)  # tapipy returns a bare str result without the debug data


def call_ok(msg, op, **kw):
    c = call(op, **kw)
    check(msg, c.err is None, c.detail())
    return c


def call_fails(msg, codes, op, **kw):
    c = call(op, **kw)
    check(f"{msg} (HTTP {'/'.join(map(str, codes))})", c.err is not None and c.code in codes,
          f"got {'success' if c.err is None else c.code}\n" + c.detail())
    return c


# ---------------------------------------------------------------- docker ---
def docker(*args, check_rc=False):
    p = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {p.stderr}")
    return p.stdout.strip()


def containers(pod, all_=False):
    args = ["ps", "-q", "--no-trunc", "--filter", f"label=berth.server={SID}",
            "--filter", f"label=berth.app={pod}"]
    if all_:
        args.insert(1, "-a")
    return [x for x in docker(*args).splitlines() if x]


def env_of(cid):
    out = docker("inspect", "-f", "{{json .Config.Env}}", cid)
    try:
        return dict(e.split("=", 1) for e in json.loads(out) or [])
    except Exception:  # noqa: BLE001
        return {}


def identity(cid):
    return docker("inspect", "-f", "{{.Id}} {{.State.StartedAt}}", cid)


def docker_state(pod):
    return docker("ps", "-a", "--filter", f"label=berth.server={SID}", "--filter",
                  f"label=berth.app={pod}", "--format", "{{.ID}} {{.Status}} {{.Labels}}")


def wait_gone(pod, timeout=30, quiet=3):
    """Wait until the pod has had no container at all for `quiet` seconds."""
    end = time.time() + timeout
    since = None
    while time.time() < end:
        if containers(pod, all_=True):
            since = None
        elif since is None:
            since = time.time()
        elif time.time() - since >= quiet:
            return True
        time.sleep(0.5)
    return not containers(pod, all_=True)


def wait_docker(pod, n, timeout=30):
    """Wait until the pod has exactly n running containers."""
    end = time.time() + timeout
    while True:
        ids = containers(pod)
        if len(ids) == n or time.time() > end:
            return ids
        time.sleep(0.5)


# -------------------------------------------------------------- raw HTTP ---
def raw(method, path, token=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["X-Tapis-Token"] = token
    try:
        return requests.request(method, URL + path, headers=headers, timeout=120,
                                allow_redirects=False, **kw)
    except Exception as e:  # noqa: BLE001
        r = requests.Response()
        r.status_code = 0
        r._content = f"request failed: {e}".encode()
        r.request = requests.Request(method, URL + path).prepare()
        return r


def rdetail(r):
    return http_detail(r.request, r)


def rjson(r):
    try:
        return r.json()
    except Exception:  # noqa: BLE001
        return None


def text_of(x):
    return json.dumps(plain(x), default=str) if not isinstance(x, str) else x


def find_key(x, pred):
    """Values v of every key k in the tree x with pred(k, v)."""
    out = []
    if isinstance(x, dict):
        for k, v in x.items():
            if pred(k, v):
                out.append(v)
            out += find_key(v, pred)
    elif isinstance(x, list):
        for v in x:
            out += find_key(v, pred)
    return out


# --------------------------------------------------------------- polling ---
def wait_status(t, pod, targets, timeout=WAIT, until=None, poll=0.5):
    """Poll get_pod every `poll` seconds until status is in targets (and
    until() holds). Returns (last Call, statuses seen in order)."""
    seen = []
    end = time.time() + timeout
    while True:
        c = call(t.pods.get_pod, pod_id=pod)
        st = c.get("status") if c.err is None else f"<{c.code}>"
        if not seen or seen[-1] != st:
            seen.append(st)
        if st in targets and (until is None or until()):
            return c, seen
        if time.time() > end:
            return c, seen
        time.sleep(poll)


def main():
    # ------------------------------------------------------------ tokens ---
    r = raw("GET", "/v3/pods")
    check("GET /v3/pods without a token is refused (401/403)", r.status_code in (401, 403), rdetail(r))
    check("the refusal is a JSON envelope with status error",
          (rjson(r) or {}).get("status") == "error" and r.headers.get("content-type") == "application/json",
          rdetail(r))
    r = raw("GET", "/v3/pods", token="not-a-jwt")
    check("a garbage X-Tapis-Token is refused (401/403)", r.status_code in (401, 403), rdetail(r))

    t = Tapis(base_url=URL, tenant_id="dev", username=A, password=PA)
    try:
        t.get_tokens()
        ok("tapipy get_tokens() succeeds")
    except Exception as e:  # noqa: BLE001
        not_ok("tapipy get_tokens() succeeds", err_detail(e))
    jwt = t.get_access_jwt() if t.access_token else None
    claims = getattr(t.access_token, "claims", None) or {}
    if not check("tapipy decoded the token as a JWT with exp (it keeps the token)", jwt and "exp" in claims,
                 f"access_token={show(t.access_token)}"):
        say("# without a token every further call is unauthenticated; stopping")
        return
    check("the token names the user", A in json.dumps(claims), f"claims: {claims}")
    check("expires_in of the token is in the future", t.access_token.expires_in().total_seconds() > 60,
          f"claims: {claims}")
    check("no refresh token (tapipy would go to the Tenants API)", t.refresh_token is None,
          f"refresh_token={show(t.refresh_token)}")

    r = raw("POST", "/v3/oauth2/tokens", data={"username": A, "password": PA, "grant_type": "password"})
    j = rjson(r) or {}
    check("POST /v3/oauth2/tokens form-encoded also works (200/201, access_token.access_token)",
          r.status_code in (200, 201) and isinstance(
              ((j.get("result") or {}).get("access_token") or {}).get("access_token"), str), rdetail(r))
    r = raw("POST", "/v3/oauth2/tokens", json={"username": A, "password": "wrong", "grant_type": "password"})
    check("a wrong password gets no token (400/401/403)", r.status_code in (400, 401, 403), rdetail(r))

    tb = Tapis(base_url=URL, tenant_id="dev", username=B, password=PB)
    try:
        tb.get_tokens()
        ok(f"{B} gets tokens too")
    except Exception as e:  # noqa: BLE001
        not_ok(f"{B} gets tokens too", err_detail(e))

    t2 = Tapis(base_url=URL, tenant_id="dev", access_token=jwt)
    call_ok("a client built with access_token=<jwt> can list pods", t2.pods.list_pods)
    r = raw("GET", "/v1/apps", headers={"Authorization": f"token {jwt}"})
    check("the Tapis token also works in the Deis header form (GET /v1/apps)", r.status_code == 200, rdetail(r))

    # ---------------------------------------------------------- envelope ---
    for path in ("/v3/pods", "/pods"):
        r = raw("GET", path, token=jwt)
        j = rjson(r)
        check(f"GET {path}: 200 with Content-Type exactly application/json",
              r.status_code == 200 and r.headers.get("content-type") == "application/json", rdetail(r))
        check(f"GET {path}: the envelope has {sorted(ENVELOPE)} and status success",
              isinstance(j, dict) and ENVELOPE <= set(j) and j.get("status") == "success"
              and isinstance(j.get("result"), list), rdetail(r))
    r = raw("GET", "/v3/pods/nosuchpod", token=jwt)
    j = rjson(r) or {}
    check("GET /v3/pods/nosuchpod: 404 envelope with status error and a message",
          r.status_code == 404 and j.get("status") == "error" and j.get("message")
          and r.headers.get("content-type") == "application/json", rdetail(r))
    call_fails("tapipy get_pod of an unknown pod raises NotFoundError", (404,), t.pods.get_pod, pod_id="nosuchpod")
    r = raw("POST", "/v3/pods", token=jwt, data="{not json", headers={"Content-Type": "application/json"})
    check("POST /v3/pods with a malformed JSON body: 400/422", r.status_code in (400, 422), rdetail(r))

    # ------------------------------------------------------------ images ---
    c = call_ok("get_images lists the images pods may use", t.pods.get_images)
    if c.err is None:
        check("get_images: a list of objects with `image`",
              isinstance(c.data, list) and all(isinstance(i, dict) and "image" in i for i in c.data),
              f"result: {show(c.data)}")

    # ----------------------------------------------------- create: rules ---
    call_fails("create_pod with an invalid pod_id (Bad_Pod) is refused", (400, 422),
               t.pods.create_pod, pod_id="Bad_Pod", image=IMAGE, command=CMD)
    call_fails("create_pod with a 2-character pod_id is refused", (400, 422),
               t.pods.create_pod, pod_id="ab", image=IMAGE, command=CMD)
    call_fails("create_pod with time_to_stop_default=100 (< 300) is refused", (400, 422),
               t.pods.create_pod, pod_id="compatbadttl", image=IMAGE, command=CMD, time_to_stop_default=100)
    call_fails("create_pod with a tapisvolume volume mount is refused", (400, 422),
               t.pods.create_pod, pod_id="compatbadvol", image=IMAGE, command=CMD,
               volume_mounts={"myvol": {"type": "tapisvolume", "mount_path": "/data"}})
    call_fails("create_pod with cpu_request > cpu_limit is refused", (400, 422),
               t.pods.create_pod, pod_id="compatbadres", image=IMAGE, command=CMD,
               resources={"cpu_request": 2000, "cpu_limit": 1000})
    for bad in ("compatbadttl", "compatbadvol", "compatbadres"):
        check(f"the refused pod {bad} does not exist", not containers(bad, all_=True)
              and call(t.pods.get_pod, pod_id=bad).code == 404, docker_state(bad))

    # ------------------------------------------------------------ create ---
    c = call_ok("create_pod from busybox:latest with a long-running command", t.pods.create_pod,
                pod_id=POD, image=IMAGE, command=CMD, description="compat pod",
                environment_variables={"FOO": "bar", "SPACED": "a b"})
    if c.err is None:
        d = c.data if isinstance(c.data, dict) else {}
        check("create_pod returns the pod object (pod_id, image, command, description)",
              d.get("pod_id") == POD and d.get("image") == IMAGE and d.get("command") == CMD
              and d.get("description") == "compat pod", f"result: {show(d)}")
        check("create_pod: environment_variables as given",
              d.get("environment_variables") == {"FOO": "bar", "SPACED": "a b"}, f"result: {show(d)}")
        check("create_pod: status_requested defaults to ON", d.get("status_requested") == "ON", f"result: {show(d)}")
        check("create_pod: time_to_stop_default defaults to 43200", d.get("time_to_stop_default") == 43200,
              f"result: {show(d)}")
        missing = [f for f in POD_FIELDS if f not in d]
        check("the pod object has every PodResponseModel field", not missing, f"missing: {missing}")
        check("create_pod: status is a Tapis status",
              d.get("status") in ("REQUESTED", "SPAWNER SETUP", "CREATING", "AVAILABLE"), f"result: {show(d)}")
    call_fails("a duplicate pod_id is refused", (400, 409, 422), t.pods.create_pod,
               pod_id=POD, image=IMAGE, command=CMD)

    c, seen = wait_status(t, POD, ("AVAILABLE",))
    if not check(f"the pod becomes AVAILABLE within {WAIT}s", c.get("status") == "AVAILABLE",
                 f"statuses seen: {seen}\n" + c.detail() + "\ndocker: " + docker_state(POD)):
        say("# the main pod never became AVAILABLE; the rest of the pod flow will fail")
    bad = [s for s in seen if s not in ("REQUESTED", "SPAWNER SETUP", "CREATING", "AVAILABLE")]
    check("on the way it only shows REQUESTED / SPAWNER SETUP / CREATING", not bad, f"statuses seen: {seen}")
    ids = wait_docker(POD, 1, timeout=5)
    check("docker runs exactly 1 container labelled berth.app=<pod_id>", len(ids) == 1, docker_state(POD))
    cid = ids[0] if ids else None
    env = env_of(cid) if cid else {}
    check("the container has FOO=bar and SPACED='a b' in its env",
          env.get("FOO") == "bar" and env.get("SPACED") == "a b", f"env: {env}")
    img = docker("inspect", "-f", "{{.Image}}", cid) if cid else ""
    want = docker("image", "inspect", "-f", "{{.Id}}", IMAGE)
    check("the container runs busybox:latest", img and img == want, f"container image {img}, {IMAGE} is {want}")

    # ------------------------------------------------------ get and list ---
    c = call_ok("get_pod", t.pods.get_pod, pod_id=POD)
    d = c.data if isinstance(c.data, dict) else {}
    check("get_pod: pod_id, image, command, AVAILABLE, ON",
          d.get("pod_id") == POD and d.get("image") == IMAGE and d.get("command") == CMD
          and d.get("status") == "AVAILABLE" and d.get("status_requested") == "ON", f"result: {show(d)}")
    url = ((d.get("networking") or {}).get("default") or {}).get("url") or ""
    check("get_pod: networking.default.url is <pod_id>.<domain>", url.startswith(POD + ".") and len(url) > len(POD) + 1,
          f"networking: {show(d.get('networking'))}")
    check("get_pod: creation_ts and start_instance_ts are set", bool(d.get("creation_ts")) and
          bool(d.get("start_instance_ts")), f"result: {show(d)}")
    c = call_ok("list_pods", t.pods.list_pods)
    check("list_pods lists the pod", isinstance(c.data, list) and POD in [p.get("pod_id") for p in c.data
                                                                        if isinstance(p, dict)],
          f"result: {show(c.data)}")
    c = call_ok(f"list_pods as {B}", tb.pods.list_pods)
    check(f"list_pods of {B} does not list {A}'s pod", c.err is None and POD not in text_of(c.data),
          f"result: {show(c.data)}")
    call_fails(f"{B} cannot get_pod {A}'s pod", (403, 404), tb.pods.get_pod, pod_id=POD)
    r = raw("GET", f"/pods/{POD}", token=jwt)
    check("GET /pods/<id> (no /v3) serves the same pod",
          r.status_code == 200 and ((rjson(r) or {}).get("result") or {}).get("pod_id") == POD, rdetail(r))

    # ------------------------------------------------------------ update ---
    before = identity(cid) if cid else ""
    c = call_ok("update_pod (description)", t.pods.update_pod, pod_id=POD, description="updated description")
    check("update_pod returns the updated pod", c.get("description") == "updated description", c.detail())
    c = call(t.pods.get_pod, pod_id=POD)
    check("get_pod shows the new description", c.get("description") == "updated description", c.detail())
    time.sleep(2)
    after = [identity(i) for i in containers(POD)]
    check("update_pod does not restart the container", after == [before], f"before: {before}\nafter:  {after}")

    # -------------------------------------------------------------- logs ---
    c = call_ok("get_pod_logs", t.pods.get_pod_logs, pod_id=POD)
    d = c.data if isinstance(c.data, dict) else {}
    check("get_pod_logs: logs is the container's stdout", "hello-from-pod" in str(d.get("logs")),
          f"result: {show(d)}")
    al = d.get("action_logs")
    check("get_pod_logs: action_logs is a non-empty list of strings",
          isinstance(al, list) and al and all(isinstance(x, str) for x in al), f"result: {show(d)}")

    # ------------------------------------------------------- credentials ---
    c = call_ok("get_pod_credentials", t.pods.get_pod_credentials, pod_id=POD)
    cu, cp = c.get("user_username"), c.get("user_password")
    check("credentials: user_username and user_password are non-empty strings",
          isinstance(cu, str) and cu and isinstance(cp, str) and cp, c.detail())
    c2 = call(t.pods.get_pod_credentials, pod_id=POD)
    check("credentials are stable across calls", c2.get("user_password") == cp and c2.get("user_username") == cu,
          c2.detail())
    check("the credentials are injected as env vars", cp and cp in env.values() and cu in env.values(),
          f"env: {env}")

    # ----------------------------------------------------------- derived ---
    c = call_ok("get_derived_pod", t.pods.get_derived_pod, pod_id=POD)
    check("get_derived_pod: the final definition (pod_id, image, command, env)",
          c.get("pod_id") == POD and c.get("image") == IMAGE and c.get("command") == CMD
          and c.get("environment_variables", "FOO") == "bar", c.detail())

    # -------------------------------------------------------------- exec ---
    def exec_text(c):
        return text_of(c.data) if c.err is None else ""

    c = call_ok("exec_pod_commands [[echo, hello-exec]]", t.pods.exec_pod_commands, pod_id=POD,
                commands=[["echo", "hello-exec"]])
    check("exec: the result carries the output", "hello-exec" in exec_text(c), c.detail())
    check("exec: tapipy parsed the result (no list of lists, not None)", isinstance(c.data, (dict, list)),
          c.detail())
    res = find_key(c.data, lambda k, v: k in ("execution_results", "results"))
    check("exec: per-command results with output, exit code and duration",
          any(isinstance(x, list) and x and all(isinstance(i, dict) for i in x)
              and any(k in json.dumps(x) for k in ("exit_code", "\"rc\"", "return_code", "exitcode"))
              and "dur" in json.dumps(x) for x in res), c.detail())
    c = call_ok("exec_pod_commands with one argv [echo, single-argv]", t.pods.exec_pod_commands, pod_id=POD,
                commands=["echo", "single-argv"])
    check("exec of one argv carries its output", "single-argv" in exec_text(c), c.detail())
    c = call_ok("exec_pod_commands does not go through a shell", t.pods.exec_pod_commands, pod_id=POD,
                commands=[["echo", "$HOME;|*"]])
    check("exec: `echo '$HOME;|*'` prints it literally", "$HOME;|*" in exec_text(c), c.detail())
    c = call_ok("exec_pod_commands runs a list of argvs in order", t.pods.exec_pod_commands, pod_id=POD,
                commands=[["sh", "-c", "echo first-cmd > /tmp/order.txt"], ["cat", "/tmp/order.txt"]])
    check("exec: the second command sees the first one's file", "first-cmd" in exec_text(c), c.detail())

    c = call(t.pods.exec_pod_commands, pod_id=POD, commands=[["sh", "-c", "echo bad-exec; exit 3"]],
             fail_on_non_success=True)
    codes3 = find_key(c.data, lambda k, v: v == 3 and any(s in k.lower() for s in ("exit", "code", "rc", "status")))
    check("exec of a failing command (exit 3): an error status, or a result with exit code 3",
          (c.err is not None and c.code in (400, 409, 422)) or (c.err is None and codes3), c.detail())
    c = call(t.pods.exec_pod_commands, pod_id=POD, commands=[["sh", "-c", "echo bad-exec; exit 3"]],
             fail_on_non_success=False)
    codes3 = find_key(c.data, lambda k, v: v == 3 and any(s in k.lower() for s in ("exit", "code", "rc", "status")))
    check("exec with fail_on_non_success=False: 2xx with the output and exit code 3",
          c.err is None and "bad-exec" in exec_text(c) and codes3, c.detail())
    c = call(t.pods.exec_pod_commands, pod_id=POD, commands=[["sleep", "5"]], command_timeout=1)
    check("exec with command_timeout=1 of `sleep 5` stops early and says so",
          (c.err is not None and c.code in (400, 408, 409, 422, 504)) or
          (c.err is None and "timeout" in exec_text(c).lower()), c.detail())
    call_fails(f"{B} cannot exec in {A}'s pod", (403, 404), tb.pods.exec_pod_commands, pod_id=POD,
               commands=[["echo", "x"]])

    # ------------------------------------------------------------- files ---
    content = b"hello from the tapis compat test\n"
    if cid:
        docker("exec", cid, "mkdir", "-p", "/tmp/tapis_acc_x")
    c = call_ok("upload_to_pod (multipart file + dest_path)", t.pods.upload_to_pod, pod_id=POD,
                file=("hello.txt", content), dest_path="/tmp/tapis_acc_x/hello.txt")
    got = docker("exec", cid, "cat", "/tmp/tapis_acc_x/hello.txt") if cid else ""
    check("the uploaded file is in the container at dest_path", got == content.decode().strip(),
          f"cat /tmp/tapis_acc_x/hello.txt -> {got!r}\nls: {docker('exec', cid or 'x', 'ls', '-laR', '/tmp/tapis_acc_x')}")

    r = raw("GET", f"/v3/pods/{POD}/list_files", token=jwt, params={"path": "/tmp/tapis_acc_x"})
    j = rjson(r) or {}
    check("GET list_files?path=/tmp/tapis_acc_x: 200 JSON listing hello.txt",
          r.status_code == 200 and r.headers.get("content-type") == "application/json" and "hello.txt" in r.text,
          rdetail(r))
    res = j.get("result")
    items = res if isinstance(res, list) else (find_key(res, lambda k, v: isinstance(v, list)) or [[]])[0]
    hello = [e for e in items if isinstance(e, dict) and e.get("name") == "hello.txt"]
    e = hello[0] if hello else {}
    need = ["name", "path", "type", "size", "last_modified", "native_permissions"]
    check(f"list_files: the hello.txt entry has {need}, size {len(content)}",
          all(k in e for k in need) and e.get("size") == len(content), f"entry: {e}\n" + rdetail(r))
    r = raw("GET", f"/v3/pods/{POD}/list_files/tmp/tapis_acc_x", token=jwt)
    check("GET list_files/tmp/tapis_acc_x (relative URL path) lists hello.txt",
          r.status_code == 200 and "hello.txt" in r.text, rdetail(r))
    r = raw("GET", f"/v3/pods/{POD}/list_files", token=jwt, params={"path": "/tmp/no/such/dir"})
    check("list_files of a missing path: 404", r.status_code == 404, rdetail(r))

    r = raw("GET", f"/v3/pods/{POD}/download_from_pod", token=jwt, params={"path": "/tmp/tapis_acc_x/hello.txt"})
    check("GET download_from_pod?path=...: 200 with the raw bytes", r.status_code == 200 and r.content == content,
          rdetail(r))
    check("download_from_pod: Content-Type application/octet-stream",
          r.headers.get("content-type") == "application/octet-stream", rdetail(r))
    r = raw("GET", f"/v3/pods/{POD}/download_from_pod/tmp/tapis_acc_x/hello.txt", token=jwt)
    check("GET download_from_pod/tmp/tapis_acc_x/hello.txt (URL path): the raw bytes",
          r.status_code == 200 and r.content == content, rdetail(r))
    r = raw("GET", f"/v3/pods/{POD}/download_from_pod", token=jwt, params={"path": "/tmp/tapis_acc_x/nope.txt"})
    check("download_from_pod of a missing file: 404", r.status_code == 404, rdetail(r))
    host_passwd = open("/etc/passwd", "rb").read()
    for p in ("/../../../../../etc/passwd", "../../../../../../etc/passwd"):
        r = raw("GET", f"/v3/pods/{POD}/download_from_pod", token=jwt, params={"path": p})
        check(f"download_from_pod?path={p} never serves the host's file",
              r.status_code != 200 or r.content != host_passwd or
              docker("exec", cid or "x", "cat", "/etc/passwd").encode() + b"\n" == host_passwd, rdetail(r))
    if cid:
        docker("exec", cid, "ln", "-sf", "/proc/1/root/etc/passwd", "/tmp/tapis_acc_x/escape")
    r = raw("GET", f"/v3/pods/{POD}/download_from_pod", token=jwt, params={"path": "/tmp/tapis_acc_x/escape"})
    check("download_from_pod through a symlink never serves the host's file",
          r.status_code != 200 or r.content != host_passwd, rdetail(r))
    r = raw("GET", f"/v3/pods/{POD}/download_from_pod", params={"path": "/tmp/tapis_acc_x/hello.txt"})
    check("download_from_pod without a token: 401/403", r.status_code in (401, 403), rdetail(r))

    # ------------------------------------------------------- permissions ---
    c = call_ok("get_pod_permissions", t.pods.get_pod_permissions, pod_id=POD)
    check(f"permissions list {A} as ADMIN", any(A in p and "ADMIN" in p for p in (c.get("permissions") or [])),
          c.detail())
    call_fails(f"{B} cannot read the permissions", (403, 404), tb.pods.get_pod_permissions, pod_id=POD)
    c = call_ok(f"set_pod_permission {B} READ", t.pods.set_pod_permission, pod_id=POD, user=B, level="READ")
    check(f"permissions now list {B} as READ",
          any(B in p and "READ" in p for p in (c.get("permissions") or [])), c.detail())
    c = call_ok(f"{B} (READ) can get_pod", tb.pods.get_pod, pod_id=POD)
    check(f"{B} sees the pod", c.get("pod_id") == POD, c.detail())
    call_fails(f"{B} (READ) cannot update_pod", (403,), tb.pods.update_pod, pod_id=POD, description="bob was here")
    call_fails(f"{B} (READ) cannot delete_pod", (403,), tb.pods.delete_pod, pod_id=POD)
    call_fails(f"{B} (READ) cannot grant himself ADMIN", (403,), tb.pods.set_pod_permission, pod_id=POD,
               user=B, level="ADMIN")
    call_ok(f"set_pod_permission {B} USER", t.pods.set_pod_permission, pod_id=POD, user=B, level="USER")
    c = call_ok(f"{B} (USER) can update_pod", tb.pods.update_pod, pod_id=POD, description="updated by bob")
    call_fails(f"{B} (USER) still cannot delete_pod", (403,), tb.pods.delete_pod, pod_id=POD)
    call_fails("set_pod_permission with an unknown level is refused", (400, 422), t.pods.set_pod_permission,
               pod_id=POD, user=B, level="GOD")
    call_fails(f"removing the last ADMIN ({A}) is refused", (400, 403, 409, 422), t.pods.delete_pod_permission,
               pod_id=POD, user=A)
    c = call_ok(f"delete_pod_permission {B}", t.pods.delete_pod_permission, pod_id=POD, user=B)
    check(f"permissions no longer list {B}", c.err is None and not any(B in p for p in (c.get("permissions") or [])),
          c.detail())
    call_fails(f"{B} cannot get_pod any more", (403, 404), tb.pods.get_pod, pod_id=POD)
    c = call(t.pods.get_pod, pod_id=POD)
    check("the pod still exists after all that", c.get("pod_id") == POD, c.detail())

    # ----------------------------------------------- stop, start, restart ---
    c = call_ok("stop_pod", t.pods.stop_pod, pod_id=POD)
    check("stop_pod: status_requested OFF", c.get("status_requested") == "OFF", c.detail())
    c, seen = wait_status(t, POD, ("STOPPED",))
    check(f"the pod becomes STOPPED within {WAIT}s", c.get("status") == "STOPPED", f"seen: {seen}\n" + c.detail())
    ids = wait_docker(POD, 0, timeout=10)
    check("docker runs no container of the pod when STOPPED", not ids, docker_state(POD))
    r = raw("POST", f"/v3/pods/{POD}/exec", token=jwt, json={"commands": [["echo", "x"]]})
    check("exec in a STOPPED pod fails with a 4xx", 400 <= r.status_code < 500, rdetail(r))

    c = call_ok("start_pod", t.pods.start_pod, pod_id=POD)
    check("start_pod: status_requested ON", c.get("status_requested") == "ON", c.detail())
    c, seen = wait_status(t, POD, ("AVAILABLE",), poll=0.05)
    check(f"the pod is AVAILABLE again within {WAIT}s", c.get("status") == "AVAILABLE", f"seen: {seen}\n" + c.detail())
    check("on the way back it never shows ERROR (the stop was Berth's own)",
          not {"ERROR", "COMPLETE"} & set(seen), f"seen: {seen}")
    ids = wait_docker(POD, 1, timeout=10)
    check("docker runs exactly 1 container of the pod again", len(ids) == 1, docker_state(POD))
    cid = ids[0] if ids else None
    check("the started container still has FOO=bar", cid and env_of(cid).get("FOO") == "bar",
          f"env: {env_of(cid) if cid else None}")
    before = identity(cid) if cid else ""
    c = call_ok("start_pod of a running pod is idempotent (200)", t.pods.start_pod, pod_id=POD)
    check("start_pod of a running pod: still AVAILABLE, ON", c.get("status") == "AVAILABLE"
          and c.get("status_requested") == "ON", c.detail())
    time.sleep(1)
    after = [identity(i) for i in containers(POD)]
    check("start_pod of a running pod leaves its container alone", after == [before],
          f"before: {before}\nafter:  {after}")

    def replaced():
        now = [identity(i) for i in containers(POD)]
        return len(now) == 1 and now[0] != before

    c = call_ok("restart_pod", t.pods.restart_pod, pod_id=POD)
    check("restart_pod: status_requested RESTART (or ON)", c.get("status_requested") in ("RESTART", "ON"), c.detail())
    c, seen = wait_status(t, POD, ("AVAILABLE",), until=replaced, poll=0.05)
    check("restart_pod never shows ERROR on the way", not {"ERROR", "COMPLETE"} & set(seen), f"seen: {seen}")
    after = [identity(i) for i in containers(POD)]
    check(f"after restart_pod the container is restarted or replaced and AVAILABLE within {WAIT}s",
          c.get("status") == "AVAILABLE" and len(after) == 1 and after[0] != before,
          f"seen: {seen}\nbefore: {before}\nafter:  {after}\n" + c.detail())
    c, _ = wait_status(t, POD, ("AVAILABLE",), timeout=15, until=lambda: call(
        t.pods.get_pod, pod_id=POD).get("status_requested") == "ON")
    check("after the restart status_requested is back to ON", c.get("status_requested") == "ON", c.detail())
    c = call(t.pods.get_pod_logs, pod_id=POD)
    acts = c.get("action_logs") or []
    check("action_logs record the actions (at least create, stop, start, restart)", len(acts) >= 4,
          f"action_logs: {acts}")

    fidelity(t, jwt)

    # ------------------------------------------------------ resources -----
    c = call_ok("create_pod with resources (cpu_limit 1000m, mem_limit 256Mi)", t.pods.create_pod, pod_id=RPOD,
                image=IMAGE, command=["sleep", "3600"],
                resources={"cpu_request": 250, "cpu_limit": 1000, "mem_request": 128, "mem_limit": 256})
    c, seen = wait_status(t, RPOD, ("AVAILABLE",))
    check("the resource-limited pod becomes AVAILABLE", c.get("status") == "AVAILABLE", f"seen: {seen}\n" + c.detail())
    rids = containers(RPOD)
    lim = docker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} "
                 "{{.HostConfig.CpuPeriod}}", rids[0]) if rids else ""
    mem, nano, quota, period = (lim.split() + ["0"] * 4)[:4]
    cpus = int(nano) / 1e9 if int(nano) else (int(quota) / int(period) if int(period) else 0)
    check("docker applies mem_limit 256Mi and cpu_limit 1 CPU",
          int(mem) == 256 * 1024 * 1024 and abs(cpus - 1.0) < 0.01, f"Memory NanoCpus CpuQuota CpuPeriod: {lim}")
    call_ok("delete the resource-limited pod", t.pods.delete_pod, pod_id=RPOD)

    # ---------------------------------------------------------- templates ---
    c = call_ok("add_template", t.pods.add_template, template_id=TMPL, description="compat template")
    check("add_template returns the template", c.get("template_id") == TMPL, c.detail())
    call_fails("a duplicate template_id is refused", (400, 409, 422), t.pods.add_template, template_id=TMPL)
    c = call_ok("list_templates", t.pods.list_templates)
    check("list_templates lists the template", TMPL in text_of(c.data), c.detail())
    c = call_ok("get_template", t.pods.get_template, template_id=TMPL)
    check("get_template: template_id and description", c.get("template_id") == TMPL
          and c.get("description") == "compat template", c.detail())
    c = call_ok("update_template", t.pods.update_template, template_id=TMPL, description="changed template")
    check("update_template changes the description", c.get("description") == "changed template", c.detail())
    pod_def = {"image": IMAGE, "command": ["sh", "-c", "echo from-template; exec sleep 3600"],
               "environment_variables": {"TMPL_VAR": "tmpl", "FOO": "from-template"},
               "description": "template description"}
    c = call_ok("add_template_tag v1", t.pods.add_template_tag, template_id=TMPL, pod_definition=pod_def,
                commit_message="first tag", tag="v1")
    check("add_template_tag: tag v1, tag_timestamp v1@..., the pod_definition",
          c.get("tag") == "v1" and str(c.get("tag_timestamp") or "").startswith("v1@")
          and c.get("pod_definition", "image") == IMAGE and c.get("commit_message") == "first tag", c.detail())
    c = call_ok("list_template_tags", t.pods.list_template_tags, template_id=TMPL)
    check("list_template_tags lists v1", isinstance(c.data, list) and "v1" in [x.get("tag") for x in c.data
                                                                               if isinstance(x, dict)], c.detail())
    c = call_ok("get_template_tag v1", t.pods.get_template_tag, template_id=TMPL, tag_id="v1")
    check("get_template_tag returns the v1 tag", '"v1"' in text_of(c.data) and "from-template" in text_of(c.data),
          c.detail())
    call_fails(f"{B} cannot see the template", (403, 404), tb.pods.get_template, template_id=TMPL)

    c = call_ok("create_pod from template compattmpl:v1 (user env wins)", t.pods.create_pod, pod_id=TPOD,
                template=f"{TMPL}:v1", environment_variables={"FOO": "from-pod"})
    c, seen = wait_status(t, TPOD, ("AVAILABLE",))
    check("the templated pod becomes AVAILABLE", c.get("status") == "AVAILABLE", f"seen: {seen}\n" + c.detail())
    c = call_ok("get_derived_pod of the templated pod", t.pods.get_derived_pod, pod_id=TPOD)
    check("derived: image and command from the template",
          c.get("image") == IMAGE and c.get("command") == pod_def["command"], c.detail())
    check("derived: env merged, the pod's FOO wins over the template's",
          c.get("environment_variables", "TMPL_VAR") == "tmpl"
          and c.get("environment_variables", "FOO") == "from-pod", c.detail())
    tids = wait_docker(TPOD, 1, timeout=5)
    tenv = env_of(tids[0]) if tids else {}
    check("docker runs the templated pod with TMPL_VAR=tmpl and FOO=from-pod",
          len(tids) == 1 and tenv.get("TMPL_VAR") == "tmpl" and tenv.get("FOO") == "from-pod",
          f"env: {tenv}\n" + docker_state(TPOD))
    c = call(t.pods.get_pod_logs, pod_id=TPOD)
    check("the templated pod runs the template's command", "from-template" in str(c.get("logs")), c.detail())
    call_ok("delete the templated pod", t.pods.delete_pod, pod_id=TPOD)

    c = call_ok("save_pod_as_template_tag", t.pods.save_pod_as_template_tag, pod_id_net=POD, template_id=TMPL,
                commit_message="from the pod", tag="frompod")
    check("save_pod_as_template_tag: tag frompod with the pod's image and command",
          c.get("tag") == "frompod" and c.get("pod_definition", "image") == IMAGE
          and c.get("pod_definition", "command") == CMD, c.detail())
    c = call(t.pods.list_template_tags, template_id=TMPL)
    check("list_template_tags now lists v1 and frompod", "frompod" in text_of(c.data) and "v1" in text_of(c.data),
          c.detail())
    call_ok("delete_template", t.pods.delete_template, template_id=TMPL)
    call_fails("get_template after delete", (404,), t.pods.get_template, template_id=TMPL)

    # ------------------------------------------------------------- delete ---
    call_fails(f"{B} cannot delete {A}'s pod", (403, 404), tb.pods.delete_pod, pod_id=POD)
    c = call_ok("delete_pod", t.pods.delete_pod, pod_id=POD)
    call_fails("get_pod after delete_pod", (404,), t.pods.get_pod, pod_id=POD)
    c = call(t.pods.list_pods)
    check("list_pods no longer lists the pod", c.err is None and POD not in text_of(c.data), c.detail())
    for p in (POD, TPOD, RPOD):
        check(f"docker has no container of {p} after delete_pod", wait_gone(p), docker_state(p))
    c = call_ok("a pod_id can be reused after delete", t.pods.create_pod, pod_id=POD, image=IMAGE,
                command=["sleep", "3600"])
    call_ok("and deleted again", t.pods.delete_pod, pod_id=POD)
    check(f"docker has no container of {POD} after deleting it again", wait_gone(POD), docker_state(POD))


def fidelity(t, jwt):
    """The fields of later upstream versions that tapipy 25.4.0's bundled
    spec lacks (tapipy drops them before sending, so they go as raw HTTP):
    secret_map, template_overrides, and PUT of image/arguments/compute_queue;
    then status_requested through tapipy's update_pod, and the delete answer."""
    # ------------------------------------------------ fidelity: secrets ---
    secret = "s3cret-" + os.urandom(6).hex()
    r = raw("POST", "/v3/pods", token=jwt, json={
        "pod_id": FPOD, "image": IMAGE, "command": ["sleep", "3600"],
        "environment_variables": {"DB_PASS": "${pods:secrets:db}", "PLAIN": "p"},
        "secret_map": {"db": secret}})
    check("create a pod with secret_map (raw POST): 200", r.status_code == 200, rdetail(r))
    r = raw("POST", "/v3/pods", token=jwt, json={"pod_id": FPOD + "x", "image": IMAGE, "gpus": 1})
    check("an unknown pod field is refused: 400 in the Tapis envelope",
          r.status_code == 400 and (rjson(r) or {}).get("status") == "error"
          and "gpus" in str((rjson(r) or {}).get("message")), rdetail(r))
    c, seen = wait_status(t, FPOD, ("AVAILABLE",))
    check("the secret pod becomes AVAILABLE", c.get("status") == "AVAILABLE", f"seen: {seen}\n" + c.detail())
    check("get_pod echoes secret_map with the value hidden",
          c.get("secret_map") == {"db": "********"} and secret not in text_of(c.data), c.detail())
    check("get_pod: ${pods:secrets:db} is not an unresolved pattern",
          "${pods:secrets:db}" not in text_of((c.dbg.response.json() if c.dbg else {}).get("metadata")),
          c.detail())
    ids = wait_docker(FPOD, 1, timeout=10)
    env = env_of(ids[0]) if ids else {}
    check("the container gets the secret in its environment", env.get("DB_PASS") == secret,
          f"env: {env}")
    c = call_ok("get_derived_pod", t.pods.get_derived_pod, pod_id=FPOD)
    check("get_derived_pod shows the pattern, not the value",
          c.get("environment_variables", "DB_PASS") == "${pods:secrets:db}" and secret not in text_of(c.data),
          c.detail())
    r = raw("GET", f"/v3/pods/{FPOD}/derived", token=jwt, params={"resolve_secrets": "true"})
    check("derived?resolve_secrets=true shows the pod's admin the value",
          r.status_code == 200 and ((rjson(r) or {}).get("result") or {}).get(
              "environment_variables", {}).get("DB_PASS") == secret, rdetail(r))

    # --------------------------------------------- fidelity: PUT fields ---
    r = raw("PUT", f"/v3/pods/{FPOD}", token=jwt, json={
        "image": IMAGE, "arguments": ["3500"], "compute_queue": "default", "command": ["sleep"]})
    res = (rjson(r) or {}).get("result") or {}
    check("PUT image, arguments, compute_queue and command (raw): 200 and echoed",
          r.status_code == 200 and res.get("arguments") == ["3500"] and res.get("command") == ["sleep"],
          rdetail(r))
    r = raw("PUT", f"/v3/pods/{FPOD}", token=jwt, json={"description": "x", "colour": "red"})
    check("PUT with an unknown field: 400", r.status_code == 400 and "colour" in r.text, rdetail(r))
    c = call_ok("update_pod status_requested=OFF", t.pods.update_pod, pod_id=FPOD, status_requested="OFF")
    check("update_pod OFF: status_requested OFF", c.get("status_requested") == "OFF", c.detail())
    c, seen = wait_status(t, FPOD, ("STOPPED",))
    check("update_pod OFF: the pod becomes STOPPED", c.get("status") == "STOPPED", f"seen: {seen}\n" + c.detail())
    c = call_ok("update_pod status_requested=ON", t.pods.update_pod, pod_id=FPOD, status_requested="ON")
    check("update_pod ON: status_requested ON", c.get("status_requested") == "ON", c.detail())
    c, seen = wait_status(t, FPOD, ("AVAILABLE",), poll=0.05)
    check("update_pod ON: AVAILABLE again, never ERROR on the way",
          c.get("status") == "AVAILABLE" and not {"ERROR", "COMPLETE"} & set(seen), f"seen: {seen}\n" + c.detail())
    check("status_container.phase is Running", c.get("status_container", "phase") == "Running", c.detail())
    ids = wait_docker(FPOD, 1, timeout=10)
    cmd = docker("inspect", "-f", "{{json .Config.Cmd}}", ids[0]) if ids else ""
    check("the PUT command and arguments run after the start", cmd.strip() == '["3500"]'
          and docker("inspect", "-f", "{{json .Config.Entrypoint}}", ids[0]).strip() == '["sleep"]',
          f"cmd: {cmd}")
    check("and the secret is still in its environment", ids and env_of(ids[0]).get("DB_PASS") == secret,
          docker_state(FPOD))

    # ------------------------------------------------- fidelity: delete ---
    c = call_ok("delete_pod of the secret pod", t.pods.delete_pod, pod_id=FPOD)
    r_text = c.dbg.response.text if c.dbg else ""
    check("delete_pod answers result \"\"", c.raw == "" or (rjson_text(r_text) or {}).get("result") == "",
          c.detail())
    check(f"docker has no container of {FPOD} after delete_pod", wait_gone(FPOD), docker_state(FPOD))


def rjson_text(text):
    try:
        return json.loads(text)
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        import traceback

        not_ok("the flow crashed", traceback.format_exc())
        sys.exit(2)
    say(f"# tapis_flow.py: {passed} passed, {failed} failed")
