/**
 * Metrics helpers. Each component defines its metrics in its own `metrics.ts`
 * on a prom-client `Registry` it is given, never on the global one: a second
 * instance in one process (tests, the embedded mode) would otherwise throw
 * "already been registered".
 *
 * @module
 */
import client from "prom-client";

export { client as prom };

/** A fresh registry; with `defaults`, process CPU, memory and event-loop lag too. */
export function createMetricsRegistry(
  options: { defaults?: boolean } = {},
): client.Registry {
  const registry = new client.Registry();
  if (options.defaults) {
    client.collectDefaultMetrics({
      register: registry,
      eventLoopMonitoringPrecision: 20,
    });
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
