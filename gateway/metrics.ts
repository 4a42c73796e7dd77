/**
 * Gateway metrics (PROTOCOL.md "metrics"), defined in one table on a registry
 * the caller owns. Label sets are bounded: never a user id.
 *
 * @module
 */
import { HotCounter, HotHistogram } from "../shared/hot_metrics.ts";
import type { prom } from "../shared/metrics.ts";
import { CLOSE } from "../shared/protocol.ts";
import client from "prom-client";

/** Live counts the gauges read at scrape time. */
export type GatewayGauges = {
  connections(): number;
  users(): number;
  sendBufferBytes(): number;
  /** True while the node takes new clients (registered, lease healthy, not draining). */
  ready?(): boolean;
};

/**
 * Close codes of a normal close or a failure, from RFC 6455 (7.4.1): going
 * away, no status, abnormal, too big, internal error.
 */
const STANDARD_CLOSE_CODES = [1000, 1001, 1005, 1006, 1009, 1011];

/** Close codes wsgw itself sends or a normal client causes; others count as "other". */
const KNOWN_CLOSE_CODES = new Set<number>([
  ...STANDARD_CLOSE_CODES,
  ...Object.values(CLOSE).map((close) => close.code),
]);

/**
 * The `code` label of `wsgw_disconnects_total`: a client may close with any
 * code from 1000 to 4999, so codes outside the known set share one series.
 */
export function closeCodeLabel(code: number): string {
  return KNOWN_CLOSE_CODES.has(code) ? String(code) : "other";
}

/** The metrics a gateway node updates. */
export type GatewayMetrics = ReturnType<typeof defineMetrics>;

/** Reasons of `wsgw_auth_failures_total` a token check gives (shared/token.ts). */
const TOKEN_FAILURES = [
  "token_missing",
  "token_invalid",
  "token_expired",
  "token_signature",
];

/** Creates the gateway's metrics on `registry`. */
export function createGatewayMetrics(
  registry: prom.Registry,
  gauges: GatewayGauges,
): GatewayMetrics {
  const metrics = defineMetrics(registry, gauges);
  // Every known label value starts at 0: a labelled counter has no series
  // until its first increment, so dashboards and alerts of a fresh node would
  // show "no data" instead of 0 and rates would miss the first event.
  for (const code of [...KNOWN_CLOSE_CODES, "other"]) {
    metrics.disconnects.inc({ code: String(code) }, 0);
  }
  for (const reason of Object.keys(CLOSE)) {
    metrics.evictions.inc({ reason }, 0);
  }
  for (const reason of TOKEN_FAILURES) {
    metrics.authFailures.inc({ reason }, 0);
  }
  for (const op of ["register", "device_limit", "unregister"]) {
    metrics.registryErrors.inc({ op }, 0);
  }
  return metrics;
}

function defineMetrics(registry: prom.Registry, gauges: GatewayGauges) {
  const registers = [registry];
  return {
    connections: new client.Gauge({
      name: "wsgw_connections",
      help: "Open WebSocket connections.",
      registers,
      collect() {
        this.set(gauges.connections());
      },
    }),
    users: new client.Gauge({
      name: "wsgw_users",
      help: "Distinct users with a connection on this node.",
      registers,
      collect() {
        this.set(gauges.users());
      },
    }),
    sendBuffer: new client.Gauge({
      name: "wsgw_send_buffer_bytes",
      help: "Bytes queued in socket send buffers on this node.",
      registers,
      collect() {
        this.set(gauges.sendBufferBytes());
      },
    }),
    ready: new client.Gauge({
      name: "wsgw_node_ready",
      help:
        "1 while the node takes new clients (registered, lease healthy, not draining).",
      registers,
      collect() {
        this.set(gauges.ready?.() ? 1 : 0);
      },
    }),
    // Updated once per socket write: prom-client's per-call label handling
    // would cost more than the write's own bookkeeping (hot_metrics.ts).
    delivered: new HotCounter({
      name: "wsgw_delivered_messages_total",
      help: "Message frames written to sockets.",
      registers,
    }),
    nodeRequests: new client.Counter({
      name: "wsgw_node_requests_total",
      help: "Internal deliver requests this node received.",
      registers,
    }),
    evictions: new client.Counter({
      name: "wsgw_evictions_total",
      help: "Connections closed by the gateway, by reason.",
      labelNames: ["reason"] as const,
      registers,
    }),
    connects: new client.Counter({
      name: "wsgw_connects_total",
      help: "WebSocket connections accepted.",
      registers,
    }),
    disconnects: new client.Counter({
      name: "wsgw_disconnects_total",
      help:
        'WebSocket connections ended, by close code ("other" for codes wsgw does not know).',
      labelNames: ["code"] as const,
      registers,
    }),
    authFailures: new client.Counter({
      name: "wsgw_auth_failures_total",
      help: "Upgrade requests refused, by reason.",
      labelNames: ["reason"] as const,
      registers,
    }),
    replayed: new client.Counter({
      name: "wsgw_replayed_messages_total",
      help: "History messages replayed to reconnecting clients.",
      registers,
    }),
    duplicatesDropped: new client.Counter({
      name: "wsgw_duplicates_dropped_total",
      help:
        "Messages not written because the connection already had their seq.",
      registers,
    }),
    registryErrors: new client.Counter({
      name: "wsgw_registry_errors_total",
      help: "Registry operations that failed or timed out on this node.",
      labelNames: ["op"] as const,
      registers,
    }),
    replayErrors: new client.Counter({
      name: "wsgw_replay_errors_total",
      help:
        "History reads that failed, on connect or for a gap (a gap's read is tried again).",
      registers,
    }),
    beyondHistory: new client.Counter({
      name: "wsgw_deliveries_beyond_history_total",
      help:
        "Deliveries dropped because history never held their seq (forged, or lost in a Redis failover).",
      registers,
    }),
    announcements: (() => {
      const counter = new client.Counter({
        name: "wsgw_history_announcements_total",
        help:
          "Frames telling clients that history messages are gone (gap) or that history started over (reset).",
        labelNames: ["type"] as const,
        registers,
      });
      // Known label values start at zero, so dashboards see the series.
      for (const type of ["gap", "reset"]) counter.inc({ type }, 0);
      return counter;
    })(),
    deliverySeconds: new HotHistogram({
      name: "wsgw_delivery_lag_seconds",
      help:
        "Time from push acceptance (message ts) to the write on this node, live deliveries only.",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
}
