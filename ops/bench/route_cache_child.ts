// deno-lint-ignore-file no-console
/**
 * A router's cold start in a fresh process: connects to etcd, fills a
 * RouteCache from the users prefix, and prints one JSON line with the time
 * to ready, the entries and the process memory. Args: endpoint, prefix and
 * optionally the listing's page size (`listPageSize`, for experiments).
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { silentLogger } from "../../shared/log.ts";
import { EtcdRegistry } from "../../shared/registry/etcd.ts";
import { RouteCache } from "../../router/route_cache.ts";

const [endpoint, prefix, pageSize] = Deno.args;
const began = performance.now();
const registry = await EtcdRegistry.connect({
  endpoints: [endpoint!],
  prefix: prefix!,
  leaseTtl: 10,
  log: silentLogger,
  ...(pageSize ? { listPageSize: Number(pageSize) } : {}),
});
const rssBefore = Deno.memoryUsage().rss;
const routes = new RouteCache({ registry, log: silentLogger });
const start = performance.now();
routes.start();
await routes.ready;
const loadMs = Math.round(performance.now() - start);
const memory = Deno.memoryUsage();
console.log(JSON.stringify({
  type: "loaded",
  loadMs,
  connectMs: Math.round(start - began),
  // performance.now() counts from process start: module loading included.
  fromProcessStartMs: Math.round(performance.now()),
  entries: routes.size,
  rssMiB: Math.round(memory.rss / 2 ** 20),
  rssDeltaMiB: Math.round((memory.rss - rssBefore) / 2 ** 20),
  heapUsedMiB: Math.round(memory.heapUsed / 2 ** 20),
  // CPU of this process from its start (user + system): on a busy box a
  // steadier figure than the wall-clock times above.
  cpuMs: Math.round((cpuUsage().user + cpuUsage().system) / 1000),
}));
Deno.exit(0);
