// The ohdev dashboard. Uses only the API on this server (same origin, the token in an HttpOnly
// cookie). DOM work happens once per animation frame: events and log lines only mark what is
// dirty, so a page following many busy pods stays responsive.
"use strict";

const MAX_LINES_KEPT = 50000; // per open resource, in memory
const PAGE = 2000; // lines shown at once; "Show earlier" adds a page

// The token came in the URL once (the cookie now carries it): keep it out of the address bar.
if (location.search.includes("token=")) {
  history.replaceState(null, "", location.pathname + location.hash);
}

const $ = (selector) => document.querySelector(selector);
const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
};

let state = null;
let stateDirty = true;
let stateInFlight = false;
let renderDirty = true;
const log = { resource: null, source: null, lines: [], shown: PAGE, paused: false, filter: "", rendered: 0, full: true };

function schedule() {
  requestAnimationFrame(frame);
}
let frameQueued = false;
function frame() {
  frameQueued = false;
  if (stateDirty && !stateInFlight) refreshState();
  if (renderDirty && state) {
    renderDirty = false;
    render();
  }
  renderLogs();
}
function wake() {
  if (!frameQueued) {
    frameQueued = true;
    requestAnimationFrame(frame);
  }
}

async function refreshState() {
  stateDirty = false;
  stateInFlight = true;
  try {
    const response = await fetch("api/state", { credentials: "same-origin" });
    if (response.ok) {
      state = await response.json();
      renderDirty = true;
    } else {
      setConnection(response.status === 401 ? "open the URL ohdev printed" : "error " + response.status, "bad");
    }
  } catch (error) {
    setConnection("disconnected", "bad");
  } finally {
    stateInFlight = false;
    wake();
  }
}

function setConnection(text, className) {
  const badge = $("#connection");
  badge.textContent = text;
  badge.className = "badge " + (className || "");
}

function resultClass(value) {
  if (["built", "up_to_date", "loaded", "already_loaded", "pushed", "already_pushed", "idle", "Running"].includes(value)) return "ok";
  if (["failed", "error", "stopped"].includes(value) || /BackOff|Err|Failed|OOM|Unschedulable/.test(value || "")) return "bad";
  return "busy";
}

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (!isFinite(seconds)) return "";
  if (seconds < 60) return seconds + "s ago";
  if (seconds < 3600) return Math.round(seconds / 60) + "m ago";
  return Math.round(seconds / 3600) + "h ago";
}

function duration(ms) {
  if (ms === undefined || ms === null) return "";
  return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s";
}

function shortTag(tag) {
  return tag ? tag.replace(/^.*:/, ":").slice(0, 13) : "";
}

function rebuild(images) {
  fetch("api/rebuild", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ images }),
  }).then(async (response) => {
    if (!response.ok) alert(await response.text());
  });
}

function rebuildButton(image) {
  const button = el("button", "Rebuild", "rebuild");
  button.type = "button";
  button.dataset.image = image;
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    rebuild([image]);
  });
  return button;
}

function render() {
  const cluster = state.cluster;
  if (cluster) {
    const nodes = cluster.nodes.map((node) => node.name + (node.ready ? "" : " (not ready)")).join(", ");
    $("#cluster").textContent = "cluster " + cluster.name + (nodes ? " — " + nodes : "");
  }
  const guard = $("#guard");
  guard.hidden = state.guard.length === 0;
  guard.textContent = state.guard.map((mark) => "⛔ " + mark.image + ": " + (mark.detail || "rebuilding stopped")).join("\n");

  const urls = $("#urls");
  urls.replaceChildren(...state.urls.map((url) => {
    const link = el("a", url);
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    return link;
  }));

  const body = el("tbody");
  const group = (title) => {
    const row = el("tr", null, "group");
    const cell = el("td", title);
    cell.colSpan = 5;
    row.append(cell);
    body.append(row);
  };
  const images = Object.entries(state.images);
  if (images.length) group("Images");
  for (const [name, image] of images) {
    const row = el("tr");
    row.dataset.resource = name;
    row.dataset.image = name;
    const last = image.builds[image.builds.length - 1];
    const watchState = image.watch ? image.watch.state : null;
    const shown = watchState && watchState !== "idle" ? watchState : image.state || "";
    row.append(el("td", name), el("td", shown, resultClass(shown)));
    row.append(el("td", (image.watch && image.watch.detail) || shortTag(image.tag), "muted"));
    const lastCell = el("td");
    if (last) {
      lastCell.append(el("span", last.result, resultClass(last.result)));
      lastCell.append(" " + ago(last.started) + " " + duration(last.duration_ms) + (last.why ? " — " + last.why : ""));
    }
    row.append(lastCell);
    const actions = el("td");
    actions.append(rebuildButton(name));
    row.append(actions);
    body.append(row);
  }
  if (state.workloads.length) group("Workloads");
  for (const workload of state.workloads) {
    const row = el("tr");
    row.dataset.resource = workload.resource;
    row.append(el("td", workload.resource + " (" + workload.namespace + ")"));
    row.append(el("td", workload.ready + "/" + workload.desired + " ready", workload.ready >= workload.desired && workload.desired > 0 ? "ok" : "busy"));
    row.append(el("td", workload.phase + (workload.restarts ? " — " + workload.restarts + " restarts" : ""), resultClass(workload.phase)));
    row.append(el("td", workload.images.join(", "), "muted"), el("td"));
    body.append(row);
  }
  for (const row of body.querySelectorAll("tr[data-resource]")) {
    row.addEventListener("click", () => { location.hash = "#/" + encodeURIComponent(row.dataset.resource); });
  }
  $("#resources tbody").replaceWith(body);
  renderDetail();
}

function renderDetail() {
  const resource = currentResource();
  $("#overview").hidden = resource !== null;
  $("#detail").hidden = resource === null;
  if (resource === null || !state) return;
  $("#detail-name").textContent = resource;
  const workload = state.workloads.find((row) => row.resource === resource);
  // A workload's page shows the history of the (first) ohdev image it runs.
  const imageName = state.images[resource] ? resource : workload && workload.images.find((name) => state.images[name]);
  const image = imageName ? state.images[imageName] : null;
  const actions = [];
  if (workload) {
    actions.push(el("span", workload.ready + "/" + workload.desired + " ready — " + workload.phase +
      (workload.restarts ? " — " + workload.restarts + " restarts" : "") + (imageName ? " — image " + imageName + " " : " "), resultClass(workload.phase)));
  }
  if (imageName) actions.push(rebuildButton(imageName));
  $("#detail-actions").replaceChildren(...actions);
  const diagnosis = Object.entries(state.diagnoses).find(([object]) => {
    if (!workload) return false;
    const [kind, name] = workload.resource.split("/");
    return object === kind + " " + workload.namespace + "/" + name;
  });
  const diagnosisBox = $("#diagnosis");
  diagnosisBox.hidden = !diagnosis;
  diagnosisBox.textContent = diagnosis ? diagnosis[1].screen : "";

  const history = el("tbody");
  const builds = image ? image.builds.slice().reverse() : [];
  for (const build of builds) {
    const row = el("tr");
    row.dataset.result = build.result;
    row.append(el("td", new Date(build.started).toLocaleTimeString() + " (" + ago(build.started) + ")"));
    row.append(el("td", build.why || "ohdev up"), el("td", duration(build.duration_ms)));
    const result = el("td", build.result, resultClass(build.result) + " output");
    if (build.failed_step || build.message) {
      result.append(el("div", [build.failed_step, build.message].filter(Boolean).join(": ")));
    }
    if (build.output && build.output.length) result.append(el("pre", build.output.join("\n")));
    row.append(result, el("td", shortTag(build.tag), "muted"));
    history.append(row);
  }
  if (!builds.length) {
    const row = el("tr");
    const cell = el("td", image ? "no builds yet" : "runs no image ohdev builds", "muted");
    cell.colSpan = 5;
    row.append(cell);
    history.append(row);
  }
  $("#history tbody").replaceWith(history);
}

function currentResource() {
  const match = location.hash.match(/^#\/(.+)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

// --- logs ---------------------------------------------------------------------------------

function openLogs(resource) {
  if (log.source) log.source.close();
  Object.assign(log, { resource, source: null, lines: [], shown: PAGE, rendered: 0, full: true });
  $("#logs").replaceChildren();
  if (resource === null) return;
  const source = new EventSource("api/logs?resource=" + encodeURIComponent(resource));
  source.onmessage = (message) => {
    const line = JSON.parse(message.data);
    log.lines.push(line);
    if (log.lines.length > MAX_LINES_KEPT) {
      const drop = log.lines.length - MAX_LINES_KEPT;
      log.lines.splice(0, drop);
      log.full = true;
    }
    wake();
  };
  log.source = source;
}

function matches(line) {
  return !log.filter || line.line.includes(log.filter) || line.pod.includes(log.filter);
}

function lineNode(line) {
  const node = el("div");
  node.append(el("span", line.pod + "/" + line.container + " │ ", "pod"), line.line);
  return node;
}

function renderLogs() {
  if (log.resource === null || log.paused) return;
  const box = $("#logs");
  if (log.full) {
    // Filter changed, lines dropped or "show earlier": rebuild the view once.
    const visible = log.lines.filter(matches);
    const slice = visible.slice(Math.max(0, visible.length - log.shown));
    const fragment = document.createDocumentFragment();
    for (const line of slice) fragment.append(lineNode(line));
    box.replaceChildren(fragment);
    log.full = false;
    $("#earlier").disabled = visible.length <= log.shown;
  } else if (log.rendered < log.lines.length) {
    const fragment = document.createDocumentFragment();
    for (const line of log.lines.slice(log.rendered)) {
      if (matches(line)) fragment.append(lineNode(line));
    }
    box.append(fragment);
    let extra = box.childElementCount - log.shown;
    while (extra-- > 0) box.firstChild.remove();
    $("#earlier").disabled = false;
  }
  log.rendered = log.lines.length;
  $("#log-count").textContent = log.lines.length + " lines kept, " + box.childElementCount + " shown";
  if ($("#follow").checked) box.scrollTop = box.scrollHeight;
}

$("#pause").addEventListener("click", () => {
  log.paused = !log.paused;
  $("#pause").textContent = log.paused ? "Resume" : "Pause";
  log.full = true;
  wake();
});
$("#filter").addEventListener("input", (event) => {
  log.filter = event.target.value;
  log.full = true;
  wake();
});
$("#earlier").addEventListener("click", () => {
  log.shown += PAGE;
  $("#follow").checked = false;
  log.full = true;
  wake();
});
$("#rebuild-all").addEventListener("click", () => rebuild([]));
$("#back").addEventListener("click", (event) => {
  event.preventDefault();
  location.hash = "";
});

function route() {
  const resource = currentResource();
  if (resource !== log.resource) openLogs(resource);
  renderDirty = true;
  wake();
}
window.addEventListener("hashchange", route);

// --- events ---------------------------------------------------------------------------------

function connect() {
  const source = new EventSource("api/events");
  source.onopen = () => setConnection("live", "ok");
  source.onmessage = () => {
    // The snapshot is the truth; an event says it changed. One fetch per frame at most.
    stateDirty = true;
    wake();
  };
  source.onerror = () => setConnection("reconnecting…", "busy");
}

// Workloads come from a poll of the cluster, not from events: refresh now and then too.
setInterval(() => { stateDirty = true; wake(); }, 2000);
connect();
route();
schedule();
