// Berth console: a hash-routed page over /ui/api. Data is rendered with
// textContent only; every change request carries the session's CSRF token;
// a server-sent event stream redraws what changed without a reload.
"use strict";

const state = { user: null, csrf: null, view: null, app: null, page: 1, size: 50, events: null, logs: null, logsFor: null, scaleFor: null };
window.consoleLoadedAt = Date.now();

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c ?? ""));
  return node;
}

function say(text, bad) {
  const s = $("status");
  s.textContent = text || "";
  s.className = bad ? "bad" : "";
}

async function api(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") {
    init.headers["X-CSRF-Token"] = state.csrf || "";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
  }
  const res = await fetch("/ui/api" + path, init);
  if (res.status === 401 && path !== "/login") {
    showLogin();
    throw new Error("log in first");
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error) || res.statusText);
  return data;
}

/// Runs an action from a form or button, disabling it while it runs.
async function act(control, what, run) {
  control.disabled = true;
  say(what + "…");
  try {
    await run();
    say(what + ": done");
  } catch (e) {
    say(what + ": " + e.message, true);
  } finally {
    control.disabled = false;
  }
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function row(...cells) {
  return el("tr", {}, ...cells.map((c) => el("td", {}, c)));
}

function structureText(structure) {
  const parts = Object.entries(structure || {}).map(([t, n]) => t + "=" + n);
  return parts.length ? parts.join(" ") : "none";
}

function badge(text) {
  return el("span", { class: "badge " + String(text).toLowerCase() }, text);
}

// ---- session ----

function showLogin() {
  state.user = null;
  state.csrf = null;
  closeStreams();
  $("nav").hidden = true;
  $("who").hidden = true;
  showView("login");
  $("login-username").focus();
}

function loggedIn(session) {
  state.user = session.user;
  state.csrf = session.csrf;
  $("nav").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = session.user.username;
  for (const a of document.querySelectorAll(".admin-only")) a.hidden = !session.user.admin;
  openEvents();
  route();
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act($("login-submit"), "Logging in", async () => {
    const session = await api("POST", "/login", {
      username: $("login-username").value,
      password: $("login-password").value,
    });
    $("login-password").value = "";
    if (!location.hash || location.hash === "#/login") location.hash = "#/apps";
    loggedIn(session);
  });
});

$("logout").addEventListener("click", (ev) => {
  act(ev.currentTarget, "Logging out", async () => {
    await api("POST", "/logout");
    showLogin();
  });
});

// ---- live updates ----

function closeStreams() {
  if (state.events) state.events.close();
  if (state.logs) state.logs.close();
  state.events = state.logs = null;
}

let redrawTimer = null;
function redrawSoon() {
  clearTimeout(redrawTimer);
  redrawTimer = setTimeout(() => refresh().catch((e) => say(e.message, true)), 250);
}

// A change may add instances (whose output the open stream does not
// follow) and log lines of its own: the tail is read anew.
let logsTimer = null;
function reopenLogsSoon() {
  clearTimeout(logsTimer);
  const id = state.app;
  logsTimer = setTimeout(() => { if (state.app === id) openLogs(id, true); }, 500);
}

function openEvents() {
  if (state.events) state.events.close();
  const es = new EventSource("/ui/api/events");
  state.events = es;
  const live = $("live");
  es.onopen = () => { live.textContent = "live"; live.className = "badge live"; };
  es.onerror = () => { live.textContent = "reconnecting"; live.className = "badge"; };
  const onChange = (ev) => {
    const change = JSON.parse(ev.data);
    if (state.view === "apps" || state.view === "pods") redrawSoon();
    else if (state.view === "app" && change.app === state.app) {
      redrawSoon();
      reopenLogsSoon();
    }
  };
  for (const t of ["app_created", "app_destroyed", "release_created", "scaled", "instance"]) {
    es.addEventListener(t, onChange);
  }
}

// ---- views ----

function showView(name) {
  state.view = name;
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== "view-" + name;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.view === name || (name === "app" && a.dataset.view === "apps")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function route() {
  if (!state.user) return;
  say("");
  const hash = location.hash.replace(/^#\/?/, "") || "apps";
  const [path, query] = hash.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  if (state.logs && !(parts[0] === "apps" && parts[1] === state.app)) {
    state.logs.close();
    state.logs = null;
  }
  if (parts[0] === "apps" && parts[1]) {
    if (state.app !== parts[1]) state.scaleFor = null;
    state.app = parts[1];
    showView("app");
    openLogs(parts[1]);
  } else {
    state.app = null;
    const view = ["apps", "pods", "jobs", "images", "users", "nodes"].includes(parts[0]) ? parts[0] : "apps";
    state.page = Math.max(1, Number(new URLSearchParams(query || "").get("page")) || 1);
    showView(view);
  }
  refresh().catch((e) => say(e.message, true));
}

async function refresh() {
  const loaders = { apps: loadApps, app: loadApp, pods: loadPods, jobs: loadJobs, images: loadImages, users: loadUsers, nodes: loadNodes };
  const load = loaders[state.view];
  if (load) await load();
}

async function loadApps() {
  const data = await api("GET", "/apps?page=" + state.page + "&size=" + state.size);
  const pages = Math.max(1, Math.ceil(data.total / data.size));
  $("apps-total").textContent = "(" + data.total + ")";
  $("apps-page").textContent = "Page " + data.page + " of " + pages;
  $("apps-prev").disabled = data.page <= 1;
  $("apps-next").disabled = data.page >= pages;
  fill($("apps-table").tBodies[0], data.items.map((a) => {
    const tr = row(
      el("a", { href: "#/apps/" + encodeURIComponent(a.id) }, a.id),
      a.owner,
      badge(a.state),
      a.up + "/" + a.instances + " up · " + structureText(a.structure),
      "v" + a.release,
    );
    tr.dataset.app = a.id;
    return tr;
  }));
  // When the first list was on screen, in ms since the page was asked for.
  if (!window.consoleFirstList) window.consoleFirstList = performance.now();
}

$("apps-prev").addEventListener("click", () => { location.hash = "#/apps?page=" + (state.page - 1); });
$("apps-next").addEventListener("click", () => { location.hash = "#/apps?page=" + (state.page + 1); });

$("create-app-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  act(form.querySelector("button"), "Creating app", async () => {
    const app = await api("POST", "/apps", { id: $("create-app-id").value.trim() });
    $("create-app-id").value = "";
    location.hash = "#/apps/" + encodeURIComponent(app.id);
  });
});

function appPath(suffix) {
  return "/apps/" + encodeURIComponent(state.app) + (suffix || "");
}

async function loadApp() {
  const id = state.app;
  const [app, instances, config, releases, domains, perms] = await Promise.all([
    api("GET", appPath()),
    api("GET", appPath("/instances")),
    api("GET", appPath("/config")),
    api("GET", appPath("/releases")),
    api("GET", appPath("/domains")),
    api("GET", appPath("/perms")),
  ]);
  if (id !== state.app) return;
  $("app-name").textContent = app.id;
  const up = instances.filter((i) => i.state === "up").length;
  const st = $("app-state");
  st.textContent = up + "/" + instances.length + " up";
  st.className = "badge " + (instances.length && up === instances.length ? "up" : "");
  $("app-release").textContent = "v" + app.release;
  $("app-owner").textContent = app.owner;
  $("app-error").textContent = app.error || "";
  const types = Object.keys(app.structure || {});
  // The scale form starts from the app's counts once, never under the user's hands.
  if (types.length && state.scaleFor !== id) {
    state.scaleFor = id;
    $("scale-type").value = types[0];
    $("scale-count").value = app.structure[types[0]];
  }
  fill($("instances-table").tBodies[0], instances.map((i) => {
    const tr = row(i.name, badge(i.state), "v" + i.release, i.node || "");
    tr.dataset.state = i.state;
    return tr;
  }));
  fill($("config-table").tBodies[0], Object.entries(config.values).map(([k, v]) => row(
    k, v,
    el("button", { type: "button", class: "quiet", "aria-label": "Unset " + k, onclick: (ev) => unset(ev.currentTarget, k) }, "Unset"),
  )));
  $("releases").replaceChildren(...releases.items.map((r) => el("li", {}, "v" + r.version + " — " + r.summary)));
  $("domains").replaceChildren(...(domains.items.length ? domains.items.map((d) => el("li", {}, d.domain)) : [el("li", {}, "none")]));
  $("perms").replaceChildren(...(perms.users.length ? perms.users.map((u) => el("li", {}, u)) : [el("li", {}, "nobody")]));
}

function unset(button, key) {
  act(button, "Unsetting " + key, async () => {
    await api("POST", appPath("/config"), { values: { [key]: null } });
    await loadApp();
  });
}

function appendLog(line) {
  const pre = $("logs");
  const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append((line.time ? line.time + " " : "") + line.source + ": " + line.text + "\n");
  while (pre.childNodes.length > 1000) pre.firstChild.remove();
  if (stick) pre.scrollTop = pre.scrollHeight;
}

async function openLogs(id, anew) {
  if (!anew && state.logs && state.logsFor === id) return;
  if (state.logs) state.logs.close();
  state.logs = null;
  state.logsFor = id;
  try {
    const lines = await api("GET", "/apps/" + encodeURIComponent(id) + "/logs");
    $("logs").replaceChildren();
    lines.forEach(appendLog);
  } catch (e) {
    say(e.message, true);
  }
  if (state.app !== id || state.logs) return;
  const es = new EventSource("/ui/api/apps/" + encodeURIComponent(id) + "/logs?follow=1");
  es.addEventListener("log", (ev) => appendLog(JSON.parse(ev.data)));
  state.logs = es;
}

function onSubmit(id, what, run) {
  $(id).addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(ev.currentTarget.querySelector("button[type=submit]"), what, async () => {
      await run();
      await refresh();
    });
  });
}

onSubmit("deploy-form", "Deploying", () => api("POST", appPath("/deploy"), { image: $("deploy-image").value.trim() }));
onSubmit("scale-form", "Scaling", () => api("POST", appPath("/scale"), { [$("scale-type").value.trim()]: Number($("scale-count").value) }));
onSubmit("rollback-form", "Rolling back", () => {
  const v = $("rollback-version").value;
  return api("POST", appPath("/rollback"), v ? { version: Number(v) } : {});
});
onSubmit("config-form", "Setting config", async () => {
  await api("POST", appPath("/config"), { values: { [$("config-key").value.trim()]: $("config-value").value } });
  $("config-key").value = "";
  $("config-value").value = "";
});
$("restart").addEventListener("click", (ev) => act(ev.currentTarget, "Restarting", async () => {
  await api("POST", appPath("/restart"), {});
  await refresh();
}));

async function loadPods() {
  const pods = await api("GET", "/pods");
  fill($("pods-table").tBodies[0], pods.map((p) => {
    const path = "/pods/" + encodeURIComponent(p.id);
    const on = p.desired !== "OFF";
    const button = el("button", { type: "button", class: "quiet" }, on ? "Stop" : "Start");
    button.addEventListener("click", () => act(button, (on ? "Stopping " : "Starting ") + p.id, async () => {
      await api("POST", path + (on ? "/stop" : "/start"));
      await loadPods();
    }));
    const tr = row(p.id, badge(p.error ? "error" : p.desired.toLowerCase()), "v" + p.release, button);
    tr.dataset.pod = p.id;
    tr.dataset.desired = p.desired;
    return tr;
  }));
}

$("upload-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const file = $("upload-file").files[0];
  act(ev.currentTarget.querySelector("button"), "Uploading", async () => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    await api("POST", "/pods/" + encodeURIComponent($("upload-pod").value.trim()) + "/files", {
      dest: $("upload-dest").value, name: file.name, content: btoa(text),
    });
  });
});

$("download-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const url = "/ui/api/pods/" + encodeURIComponent($("download-pod").value.trim()) + "/files?path=" + encodeURIComponent($("download-path").value);
  const a = el("a", { href: url, download: "" });
  document.body.append(a);
  a.click();
  a.remove();
});

// Jobs have no change feed: while one runs, the list is read again.
let jobsTimer = null;
async function loadJobs() {
  clearTimeout(jobsTimer);
  const jobs = await api("GET", "/jobs");
  if (jobs.some((j) => j.state === "RUNNING" || j.state === "PENDING")) {
    jobsTimer = setTimeout(() => { if (state.view === "jobs") loadJobs().catch((e) => say(e.message, true)); }, 2000);
  }
  fill($("jobs-table").tBodies[0], jobs.map((j) => {
    const cells = [String(j.id).slice(0, 8), j.script, badge(j.state), j.exit_code ?? ""];
    if (j.container && (j.state === "RUNNING" || j.state === "PENDING")) {
      const b = el("button", { type: "button", class: "quiet" }, "Stop");
      b.addEventListener("click", () => act(b, "Stopping job", async () => {
        await api("POST", "/jobs/" + encodeURIComponent(j.container) + "/stop");
        await loadJobs();
      }));
      cells.push(b);
    } else cells.push("");
    return row(...cells);
  }));
}

onSubmit("job-form", "Submitting job", () => api("POST", "/jobs", {
  script: $("job-script").value, image: $("job-image").value, tag: $("job-tag").value,
}));

async function loadImages() {
  const data = await api("GET", "/images");
  fill($("images-table").tBodies[0], data.items.map((r) => row(r.name, r.kind, badge(r.status), r.owner)));
}

async function loadUsers() {
  const users = await api("GET", "/users");
  fill($("users-table").tBodies[0], users.map((u) => row(u.username, u.email, u.admin ? "yes" : "no", u.last_login || "never")));
}

async function loadNodes() {
  const nodes = await api("GET", "/nodes");
  fill($("nodes-table").tBodies[0], nodes.map((n) => row(n.name, badge(n.state), n.role, n.tasks)));
}

window.addEventListener("hashchange", route);

api("GET", "/session").then(loggedIn).catch(() => showLogin());
