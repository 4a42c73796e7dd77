// The wsgw operator console. Plain browser JavaScript, no build step, served
// by the router at /console under a Content-Security-Policy that lets it
// talk to its own origin only. The API key lives in one variable of this
// module: never in storage, a cookie or a URL. Everything that came from
// the cluster (user ids, device names, message bodies) is shown with
// textContent, never parsed as HTML.

/** How often the cluster view refreshes. */
const REFRESH_MS = 1000;
/** Points kept per live chart (one per refresh). */
const CHART_POINTS = 60;
/** Messages shown at the tail of a user's history. */
const TAIL = 20;
/** A router not heard from for this long leaves the pushes/s sum. */
const ROUTER_STALE_MS = 15_000;

/** The admin API key, in memory only. */
let apiKey = "";
let timer = 0;
/** Previous node counters by node id, and router samples by router id. */
const previousNodes = new Map();
/** Nodes seen draining, by id: listed as gone once they leave the registry. */
const drainedNodes = new Map();
/** The nodes of the last refresh. */
let lastNodes = [];
const routers = new Map();
const series = { pushes: [], deliveries: [], connects: [], closes: [] };

const $ = (id) => document.getElementById(id);

/** Calls the push API of this origin with the key; throws with the answer's message. */
async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = new Error(
      json?.error
        ? `${response.status} ${json.error.code}: ${json.error.message}`
        : `${response.status} ${text.slice(0, 200)}`,
    );
    error.status = response.status;
    throw error;
  }
  return json;
}

const userPath = (user, rest) => `/v1/users/${encodeURIComponent(user)}${rest}`;

/** A table cell holding `value` as text. */
function cell(value, className) {
  const td = document.createElement("td");
  td.textContent = value === null || value === undefined ? "–" : String(value);
  if (className) td.className = className;
  return td;
}

function button(label, onClick, testId) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (testId) b.dataset.testid = testId;
  b.addEventListener("click", onClick);
  return b;
}

function fillTable(table, rows) {
  table.tBodies[0].replaceChildren(...rows);
}

function duration(ms) {
  if (!(ms >= 0)) return "–";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ${Math.floor(s / 60) % 60} min`;
  }
  return `${Math.floor(s / 86400)} d ${Math.floor(s / 3600) % 24} h`;
}

const time = (ms) => ms > 0 ? new Date(ms).toISOString() : "–";

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

function setOutcome(text, error = false) {
  $("outcome").textContent = text;
  $("outcome").classList.toggle("error", error);
}

/** Asks the operator; resolves true on Confirm. */
function confirmAction(text) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "ok"),
      { once: true },
    );
  });
}

// ---- cluster and live view ----

async function refresh() {
  try {
    const [cluster, nodes] = await Promise.all([
      api("GET", "/v1/admin/cluster"),
      api("GET", "/v1/nodes"),
    ]);
    showCluster(cluster, nodes);
    sample(cluster, nodes);
    setStatus(
      `Connected to router ${cluster.router.id} (${cluster.router.version}).`,
    );
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      lock(`The key was refused: ${error.message}`);
      return;
    }
    setStatus(`Refresh failed: ${error.message}`, true);
  }
  if (apiKey) timer = setTimeout(refresh, REFRESH_MS);
}

function backend(id, state) {
  const el = $(id);
  el.textContent = state.reachable
    ? `reachable (${state.ms} ms)`
    : `unreachable: ${state.error ?? "no answer"}`;
  el.className = state.reachable ? "ok" : "bad";
}

function showCluster(cluster, nodes) {
  $("refreshed").textContent = `refreshed ${
    new Date(cluster.at).toLocaleTimeString()
  }`;
  backend("backend-registry", cluster.registry);
  backend("backend-history", cluster.history);
  lastNodes = nodes;
  const listed = new Set(nodes.map((node) => node.nodeId));
  for (const node of nodes) {
    if (node.draining) drainedNodes.set(node.nodeId, node);
  }
  const gone = [...drainedNodes.values()].filter((n) => !listed.has(n.nodeId));
  fillTable($("nodes"), [
    ...nodes.map((node) => {
      const tr = document.createElement("tr");
      tr.dataset.node = node.nodeId;
      if (node.draining) tr.className = "draining";
      if (!node.reachable) tr.className = "unreachable";
      const lease = node.lease
        ? `${node.lease.id ?? "in memory"}${
          node.lease.healthy ? "" : " (renewing)"
        }`
        : node.reachable
        ? "–"
        : "no answer";
      tr.append(
        cell(node.nodeId),
        cell(node.url),
        cell(node.connections, "num connections"),
        cell(node.users, "num"),
        cell(node.draining ? "draining" : "no", "draining-state"),
        cell(node.version),
        cell(duration(cluster.at - node.startedAt)),
        cell(lease),
      );
      const actions = document.createElement("td");
      if (!node.draining) {
        actions.append(button("Drain…", () => drain(node.nodeId), "drain"));
      }
      tr.append(actions);
      return tr;
    }),
    ...gone.map(goneRow),
  ]);
  const r = cluster.router;
  routers.set(r.id, {
    ...(routers.get(r.id) ?? {}),
    info: r,
    seenAt: cluster.at,
  });
  fillTable(
    $("routers"),
    [...routers.values()].map(({ info, seenAt }) => {
      const tr = document.createElement("tr");
      tr.dataset.router = info.id;
      tr.append(
        cell(info.id),
        cell(info.version),
        cell(duration(cluster.at - info.startedAt)),
        cell(info.routeCache.entries, "num"),
        cell(info.routeCache.nodes, "num"),
        cell(info.routeCache.ready ? "yes" : "no"),
        cell(
          info.routeCache.lastEventAt
            ? `${duration(seenAt - info.routeCache.lastEventAt)} ago`
            : "none",
        ),
        cell(`${duration(cluster.at - seenAt)} ago`),
      );
      return tr;
    }),
  );
}

/** A drained node out of the registry: what is left to see is that it is gone. */
function goneRow(node) {
  const tr = document.createElement("tr");
  tr.dataset.node = node.nodeId;
  tr.className = "gone";
  tr.append(
    cell(node.nodeId),
    cell(node.url),
    cell(0, "num connections"),
    cell(0, "num"),
    cell("drained, left the cluster", "draining-state"),
    cell(node.version),
    cell("–"),
    cell("released"),
    document.createElement("td"),
  );
  return tr;
}

/** Turns counters into per-second rates and draws them. */
function sample(cluster, nodes) {
  const now = cluster.at;
  const rates = { deliveries: 0, connects: 0, closes: 0 };
  for (const node of nodes) {
    if (!node.counters) continue;
    const before = previousNodes.get(node.nodeId);
    previousNodes.set(node.nodeId, { at: now, ...node.counters });
    if (!before || now <= before.at) continue;
    const seconds = (now - before.at) / 1000;
    for (const name of Object.keys(rates)) {
      // A restarted node starts from zero again: no rate from that pair.
      const delta = node.counters[name] - before[name];
      if (delta >= 0) rates[name] += delta / seconds;
    }
  }
  // Each router counts its own pushes; behind a balancer each answers now
  // and then, so the sum takes every router's latest rate.
  const router = routers.get(cluster.router.id);
  const last = router.sample;
  if (last && now > last.at && cluster.router.pushes >= last.pushes) {
    router.rate = (cluster.router.pushes - last.pushes) /
      ((now - last.at) / 1000);
  }
  router.sample = { at: now, pushes: cluster.router.pushes };
  let pushes = 0;
  for (const r of routers.values()) {
    if (now - r.seenAt < ROUTER_STALE_MS) pushes += r.rate ?? 0;
  }
  draw("pushes", pushes);
  for (const [name, value] of Object.entries(rates)) draw(name, value);
}

function draw(name, value) {
  const points = series[name];
  points.push(value);
  if (points.length > CHART_POINTS) points.shift();
  const figure = document.querySelector(`figure[data-series="${name}"]`);
  figure.querySelector("b").textContent = value >= 10
    ? String(Math.round(value))
    : value.toFixed(1);
  const max = Math.max(1, ...points);
  const step = 120 / (CHART_POINTS - 1);
  const offset = CHART_POINTS - points.length;
  const svg = figure.querySelector("svg");
  const line = document.createElementNS(
    "http://www.w3.org/2000/svg",
    "polyline",
  );
  line.setAttribute(
    "points",
    points.map((v, i) =>
      `${((offset + i) * step).toFixed(1)},${(40 - (v / max) * 38).toFixed(1)}`
    )
      .join(" "),
  );
  svg.replaceChildren(line);
}

// ---- user lookup and actions ----

let currentUser;

async function lookUp(user) {
  currentUser = user;
  try {
    const [keys, presence, head] = await Promise.all([
      api("GET", `/v1/admin/users/${encodeURIComponent(user)}`),
      api("GET", userPath(user, "/presence")),
      api("GET", userPath(user, "/messages?limit=1")),
    ]);
    const since = Math.max(0, head.seq - TAIL);
    const history = await api(
      "GET",
      userPath(user, `/messages?since=${since}&limit=${TAIL}`),
    );
    if (currentUser !== user) return; // another lookup started meanwhile
    showUser(user, keys, presence, history);
  } catch (error) {
    setOutcome(`Lookup of ${user} failed: ${error.message}`, true);
  }
}

function showUser(user, keys, presence, history) {
  $("user-result").hidden = false;
  $("user-name").textContent = user;
  fillTable(
    $("user-keys"),
    keys.keys.map((key) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(key.key),
        cell(key.nodeId),
        cell(key.lease ?? "–"),
        cell(key.devices.length, "num"),
      );
      return tr;
    }),
  );
  $("user-route-cache").textContent = keys.routeCache.length
    ? keys.routeCache.join(", ")
    : "no node (offline)";
  fillTable(
    $("user-devices"),
    presence.devices.map((device) => {
      const tr = document.createElement("tr");
      tr.dataset.conn = device.connId;
      tr.dataset.node = device.nodeId;
      tr.append(
        cell(device.nodeId, "node"),
        cell(device.device ?? "(none)", "device"),
        cell(device.connId),
        cell(time(device.connectedAt)),
        cell(device.remoteAddress ?? "unknown"),
      );
      const actions = document.createElement("td");
      actions.append(button(
        "Disconnect…",
        () => disconnect(user, device),
        "disconnect-device",
      ));
      tr.append(actions);
      return tr;
    }),
  );
  if (presence.unreachable?.length) {
    setOutcome(
      `Nodes that did not answer: ${presence.unreachable.join(", ")}`,
      true,
    );
  }
  $("user-epoch").textContent = history.epoch;
  $("user-seq").textContent = String(history.seq);
  fillTable(
    $("user-messages"),
    history.messages.slice().reverse().map((m) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(m.seq, "num"),
        cell(m.id),
        cell(time(m.ts)),
        cell(m.device ?? ""),
        cell(JSON.stringify(m.data), "data"),
      );
      return tr;
    }),
  );
}

async function push(user) {
  let data;
  try {
    data = JSON.parse($("push-data").value);
  } catch (error) {
    setOutcome(`The test message is not JSON: ${error.message}`, true);
    return;
  }
  if (
    !await confirmAction(
      `Push this message to ${user}?\n${JSON.stringify(data)}`,
    )
  ) return;
  try {
    const answer = await api("POST", "/v1/push", { users: [user], data });
    const result = answer.results[0];
    setOutcome(
      `Pushed ${answer.id} to ${user}: seq ${
        result.seq ?? "none (not stored)"
      }, ${result.devices} device(s) reached` +
        (answer.unreachable?.length
          ? `; unreachable: ${answer.unreachable.join(", ")}`
          : ""),
    );
  } catch (error) {
    setOutcome(`Push failed: ${error.message}`, true);
  }
  await lookUp(user);
}

async function disconnect(user, device) {
  const what = device
    ? `connection ${device.connId} (device ${
      device.device ?? "(none)"
    } on ${device.nodeId}) of ${user}`
    : `every connection of ${user}`;
  if (
    !await confirmAction(
      `Close ${what} with 4003 (disconnected, no reconnect)?`,
    )
  ) return;
  try {
    const answer = await api(
      "POST",
      userPath(user, "/disconnect"),
      device ? { connId: device.connId } : {},
    );
    setOutcome(`Closed ${answer.closed} connection(s) of ${user}.`);
  } catch (error) {
    setOutcome(`Disconnect failed: ${error.message}`, true);
  }
  await lookUp(user);
}

async function drain(nodeId) {
  if (
    !await confirmAction(
      `Drain ${nodeId}? It closes its clients with 1012 in paced batches (they reconnect elsewhere), then leaves the cluster.`,
    )
  ) return;
  try {
    await api(
      "POST",
      `/v1/admin/nodes/${encodeURIComponent(nodeId)}/drain`,
      {},
    );
    setOutcome(`${nodeId} is draining.`);
    // It may be gone before the next refresh sees it draining.
    const node = lastNodes.find((n) => n.nodeId === nodeId);
    if (node) drainedNodes.set(nodeId, { ...node, draining: true });
  } catch (error) {
    setOutcome(`Drain of ${nodeId} failed: ${error.message}`, true);
  }
}

// ---- the key ----

function lock(message) {
  apiKey = "";
  clearTimeout(timer);
  $("main").hidden = true;
  $("lock").hidden = true;
  $("key-form").hidden = false;
  setStatus(message, message.startsWith("The key"));
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  apiKey = $("key").value.trim();
  $("key").value = "";
  $("key-form").hidden = true;
  $("lock").hidden = false;
  $("main").hidden = false;
  setStatus("Connecting…");
  clearTimeout(timer);
  refresh();
});
$("lock").addEventListener(
  "click",
  () => lock("Key forgotten. Enter it again to continue."),
);
$("user-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const user = $("user-id").value;
  setOutcome("");
  if (user) lookUp(user);
});
$("push-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (currentUser !== undefined) push(currentUser);
});
$("disconnect-user").addEventListener("click", () => {
  if (currentUser !== undefined) disconnect(currentUser);
});
