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
// performance.now() counts from process start: module loading included.
const fromProcessStartMs = Math.round(performance.now());
const memory = Deno.memoryUsage();
// CPU of this process from its start (user + system): on a busy box a
// steadier figure than the wall-clock times.
const cpu = cpuUsage();
// With `--v8-flags=--expose-gc`, also what the cache holds once the
// listing's garbage (response buffers above all) is collected: at the moment
// of ready that garbage is up to ~60 MiB, and when V8 collects it varies.
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const held = gc ? Deno.memoryUsage() : undefined;
console.log(JSON.stringify({
  type: "loaded",
  loadMs,
  connectMs: Math.round(start - began),
  fromProcessStartMs,
  entries: routes.size,
  rssMiB: Math.round(memory.rss / 2 ** 20),
  rssDeltaMiB: Math.round((memory.rss - rssBefore) / 2 ** 20),
  heapUsedMiB: Math.round(memory.heapUsed / 2 ** 20),
  externalMiB: Math.round(memory.external / 2 ** 20),
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  ...(held
    ? {
      heldRssDeltaMiB: Math.round((held.rss - rssBefore) / 2 ** 20),
      heldHeapUsedMiB: Math.round(held.heapUsed / 2 ** 20),
    }
    : {}),
}));
Deno.exit(0);
