/**
 * Metrics helpers. Each component defines its metrics in its own `metrics.ts`
 * on a prom-client `Registry` it is given, never on the global one: a second
 * instance in one process (tests, the embedded mode) would otherwise throw
 * "already been registered".
 *
 * @module
 */
import client from "prom-client";
import {
  EVENT_LOOP_LAG_GAUGES,
  registerEventLoopLag,
} from "./event_loop_lag.ts";
import { VERSION } from "./version.ts";

export { client as prom };

/** prom-client defaults Deno never fills. */
const DENO_EMPTY_DEFAULTS = [
  "nodejs_gc_duration_seconds",
  "nodejs_active_handles",
  "nodejs_active_requests",
  // Read from /proc/self/fd and /proc/self/limits, which Deno opens only
  // with --allow-all: under the permissions the servers run with they would
  // read 0, a chart that lies. wsgw_connections counts the sockets instead.
  "process_open_fds",
  "process_max_fds",
];

/**
 * A fresh registry; with `defaults` (one registry per process), process CPU,
 * memory and event-loop lag too, and `wsgw_build_info`.
 */
export function createMetricsRegistry(
  options: { defaults?: boolean } = {},
): client.Registry {
  const registry = new client.Registry();
  if (options.defaults) {
    new client.Gauge({
      name: "wsgw_build_info",
      help: "Always 1; the labels say which wsgw release and Deno run.",
      labelNames: ["version", "deno"] as const,
      registers: [registry],
    }).set({ version: VERSION, deno: Deno.version.deno }, 1);
    client.collectDefaultMetrics({
      register: registry,
      // prom-client's event-loop monitor sees no stall under `deno run` and
      // wakes the process at this period; its gauges are replaced below
      // (event_loop_lag.ts), and it is left to wake once a minute.
      eventLoopMonitoringPrecision: 60_000,
    });
    for (const name of EVENT_LOOP_LAG_GAUGES) registry.removeSingleMetric(name);
    registerEventLoopLag(registry);
    // Deno gives prom-client no GC events, no handle/request lists and (with
    // the permissions servers run with) no /proc: these families would stay
    // empty or read 0, so they go.
    for (const empty of DENO_EMPTY_DEFAULTS) registry.removeSingleMetric(empty);
    // prom-client reads /proc/self/status for these, which Deno allows only
    // with --allow-all: under narrower permissions they would read 0.
    // Deno.memoryUsage() needs no permission.
    registry.removeSingleMetric("process_resident_memory_bytes");
    registry.removeSingleMetric("process_heap_bytes");
    new client.Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes.",
      registers: [registry],
      collect() {
        this.set(Deno.memoryUsage().rss);
      },
    });
    new client.Gauge({
      name: "process_heap_bytes",
      help: "Process heap size in bytes (V8's heap, total).",
      registers: [registry],
      collect() {
        this.set(Deno.memoryUsage().heapTotal);
      },
    });
  }
  return registry;
}

/** Renders registries as one Prometheus text exposition. */
export async function renderMetrics(
  registries: readonly client.Registry[],
): Promise<Response> {
  const body = (await Promise.all(registries.map((r) => r.metrics()))).join(
    "\n",
  );
  return new Response(body, {
    headers: { "content-type": client.Registry.PROMETHEUS_CONTENT_TYPE },
  });
}
