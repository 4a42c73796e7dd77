// The cluster and live views: nodes, routers and backends from
// `/v1/admin/cluster` and `/v1/nodes`, rates from their counters, and the
// drain button.

import { api } from "./api.js";
import {
  $,
  button,
  cell,
  confirmAction,
  duration,
  fillTable,
  setOutcome,
} from "./dom.js";

/** Points kept per live chart (one per refresh). */
const CHART_POINTS = 60;
/** A router not heard from for this long leaves the pushes/s sum. */
const ROUTER_STALE_MS = 15_000;

/** Previous node counters by node id, and router samples by router id. */
const previousNodes = new Map();
/** Nodes seen draining, by id: listed as gone once they leave the registry. */
const drainedNodes = new Map();
/** The nodes of the last refresh. */
let lastNodes = [];
const routers = new Map();
const series = { pushes: [], deliveries: [], connects: [], closes: [] };

function backend(id, state) {
  const el = $(id);
  el.textContent = state.reachable
    ? `reachable (${state.ms} ms)`
    : `unreachable: ${state.error ?? "no answer"}`;
  el.className = state.reachable ? "ok" : "bad";
}

export function showCluster(cluster, nodes) {
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
export function sample(cluster, nodes) {
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
  const peak = Math.max(...points);
  figure.querySelector("b").textContent = rate(value);
  figure.querySelector("small").textContent = `peak ${rate(peak)}`;
  const max = Math.max(1, peak);
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

const rate = (value) =>
  value >= 10 ? String(Math.round(value)) : value.toFixed(1);

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
