/**
 * Router metrics (PROTOCOL.md "metrics"), defined in one table on a registry
 * the caller owns. Label sets are bounded: a route pattern, never a path or a
 * user id.
 *
 * @module
 */
import type { prom } from "../shared/metrics.ts";
import client from "prom-client";

/** Live counts the gauges read at scrape time. */
export type RouterGauges = {
  /** (user, node) pairs in the route cache; usually `() => routes.size`. */
  routeCacheEntries(): number;
  /** `Date.now()` of the last registry event applied to the route cache, 0 before any. */
  routeCacheLastEventAt?(): number;
  /** True once the route cache holds a full listing. */
  routeCacheReady?(): boolean;
  /** Ids of the nodes in the route cache: forward errors of others are dropped. */
  liveNodes?(): Iterable<string>;
};

/** Outcome labels of internal requests to nodes (`wsgw_forward_requests_total`). */
export const FORWARD_STATUSES = [
  "ok",
  "timeout",
  "connection",
  "overloaded",
  "http_4xx",
  "http_5xx",
  "error",
] as const;

/** Outcome label of one internal request to a node. */
export type ForwardStatus = typeof FORWARD_STATUSES[number];

/** The metrics the router updates. */
export type RouterMetrics = {
  pushRequests: client.Counter<"route" | "status">;
  pushDuration: client.Histogram<"route">;
  forwardRequests: client.Counter<"status">;
  forwardErrors: client.Counter<"node" | "status">;
  routeCacheEntries: client.Gauge;
  routeCacheLastEvent: client.Gauge;
  routeCacheReady: client.Gauge;
  historyErrors: client.Counter<"op">;
};

/** Creates the router's metrics on `registry`. */
export function createRouterMetrics(
  registry: prom.Registry,
  gauges: RouterGauges = { routeCacheEntries: () => 0 },
): RouterMetrics {
  const registers = [registry];
  return {
    pushRequests: new client.Counter({
      name: "wsgw_push_requests_total",
      help: "Push API requests, by route pattern and HTTP status.",
      labelNames: ["route", "status"] as const,
      registers,
    }),
    pushDuration: new client.Histogram({
      name: "wsgw_push_duration_seconds",
      help: "Push API latency, by route pattern.",
      labelNames: ["route"] as const,
      buckets: [
        0.001,
        0.0025,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
      ],
      registers,
    }),
    forwardRequests: new client.Counter({
      name: "wsgw_forward_requests_total",
      help: "Internal requests sent to gateway nodes, by outcome.",
      labelNames: ["status"] as const,
      registers,
    }),
    forwardErrors: forwardErrorsCounter(registers, gauges.liveNodes),
    routeCacheEntries: new client.Gauge({
      name: "wsgw_route_cache_entries",
      help: "(user, node) pairs mirrored from the registry.",
      registers,
      collect() {
        this.set(gauges.routeCacheEntries());
      },
    }),
    routeCacheLastEvent: new client.Gauge({
      name: "wsgw_route_cache_last_event_timestamp_seconds",
      help:
        "Unix time of the last registry event applied to the route cache (0: none yet).",
      registers,
      collect() {
        this.set((gauges.routeCacheLastEventAt?.() ?? 0) / 1000);
      },
    }),
    routeCacheReady: new client.Gauge({
      name: "wsgw_route_cache_ready",
      help: "1 once the route cache holds a full registry listing, else 0.",
      registers,
      collect() {
        this.set(gauges.routeCacheReady?.() ? 1 : 0);
      },
    }),
    historyErrors: new client.Counter({
      name: "wsgw_history_errors_total",
      help: "History operations of the push API that failed, by operation.",
      labelNames: ["op"] as const,
      registers,
    }),
  };
}

/**
 * `wsgw_forward_errors_total`, by node and outcome. Node ids are generated
 * per process start, so the series of nodes that left the route cache are
 * dropped at each scrape: the label stays bounded by the live cluster.
 */
function forwardErrorsCounter(
  registers: prom.Registry[],
  liveNodes: (() => Iterable<string>) | undefined,
): client.Counter<"node" | "status"> {
  const nodes = new Set<string>();
  const counter: client.Counter<"node" | "status"> = new client.Counter({
    name: "wsgw_forward_errors_total",
    help: "Failed internal requests to gateway nodes, by node id and outcome.",
    labelNames: ["node", "status"] as const,
    registers,
    collect() {
      if (!liveNodes) return;
      const live = new Set(liveNodes());
      for (const node of nodes) {
        if (live.has(node)) continue;
        nodes.delete(node);
        for (const status of FORWARD_STATUSES) counter.remove({ node, status });
      }
    },
  });
  const inc = counter.inc.bind(counter);
  // The series' node ids are remembered, so collect() knows what to drop.
  counter.inc = ((labels: { node: string; status: string }, value?: number) => {
    nodes.add(labels.node);
    inc(labels, value);
  }) as typeof counter.inc;
  return counter;
}
