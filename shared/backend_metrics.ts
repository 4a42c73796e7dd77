/**
 * Metrics about a process's backends, shared by gateway and router:
 * `wsgw_backend_up{backend}` from a ping at scrape time, and the registry
 * counters (`EtcdRegistry.stats`) as Prometheus counters. The backends stay
 * free of prom-client: their counters are read in `collect()`.
 *
 * @module
 */
import { cachedCall, PING_CACHE_MS } from "./cached_call.ts";
import client from "prom-client";
import { deadline } from "./deadline.ts";

/** Counters a registry backend keeps; the shape of `EtcdRegistry.stats`. */
export type RegistryCounters = Readonly<{
  txns: number;
  ops: number;
  txnRetries: number;
  leaseRegrants: number;
  watchRestarts: number;
}>;

/** Options of {@link createBackendMetrics}. */
export type BackendMetricsOptions = {
  /**
   * Named pings (`etcd`, `redis`): resolve when the backend answers. Each
   * runs at scrape time, under `pingTimeout`.
   */
  pings?: Readonly<Record<string, () => Promise<void>>>;
  /** The registry's live counters, e.g. `registry.stats` of an EtcdRegistry. */
  registryStats?: RegistryCounters;
  /** Milliseconds a ping may take before the backend counts as down. @default 2000 */
  pingTimeout?: number;
};

/** Registry counters exposed, metric name → field of {@link RegistryCounters}. */
const REGISTRY_COUNTERS = [
  [
    "wsgw_registry_txns_total",
    "txns",
    "etcd txns that wrote user or node keys.",
  ],
  [
    "wsgw_registry_ops_total",
    "ops",
    "Put/delete operations inside those txns.",
  ],
  [
    "wsgw_registry_txn_retries_total",
    "txnRetries",
    "Registry txns that failed for a transient reason and were retried.",
  ],
  [
    "wsgw_registry_lease_regrants_total",
    "leaseRegrants",
    "Times this node took a new etcd lease and re-registered its users.",
  ],
  [
    "wsgw_registry_watch_restarts_total",
    "watchRestarts",
    "Times the registry watch listed again (compaction, lost stream, silence).",
  ],
] as const;

/** Defines the backend metrics on `registry` (never the global one). */
export function createBackendMetrics(
  registry: client.Registry,
  options: BackendMetricsOptions,
): void {
  const registers = [registry];
  const pings = Object.entries(options.pings ?? {});
  const timeout = options.pingTimeout ?? 2000;
  // At most one round of pings a second, however often /metrics is asked.
  const pingAll = cachedCall(
    () =>
      Promise.all(
        pings.map(([, ping]) =>
          deadline(ping(), timeout, "ping").then(() => 1, () => 0)
        ),
      ),
    PING_CACHE_MS,
  );
  if (pings.length > 0) {
    new client.Gauge({
      name: "wsgw_backend_up",
      help: "1 when the backend answered a ping at scrape time, else 0.",
      labelNames: ["backend"] as const,
      registers,
      async collect() {
        const results = await pingAll();
        pings.forEach(([backend], i) => this.set({ backend }, results[i]!));
      },
    });
  }
  const stats = options.registryStats;
  if (stats) {
    for (const [name, field, help] of REGISTRY_COUNTERS) {
      new client.Counter({
        name,
        help,
        registers,
        collect() {
          // The backend owns the count; mirror it (it never decreases).
          this.reset();
          this.inc(stats[field]);
        },
      });
    }
  }
}
