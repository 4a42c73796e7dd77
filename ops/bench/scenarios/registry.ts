/**
 * `registry`: M user mappings in a real etcd (started here): time for K
 * nodes to register them through their memberships (coalesced txns, the
 * real path), then a router's cold start in a fresh process (time until its
 * route cache is ready) and that process's memory. `runs` cold starts.
 *
 * @module
 */
import { silentLogger } from "../../../shared/log.ts";
import { EtcdRegistry } from "../../../shared/registry/etcd.ts";
import { startEtcd } from "../../servers/etcd_server.ts";
import { nodeRecord } from "../../servers/etcd_bulk.ts";
import { Child } from "../child.ts";
import { costPer, etcdCounters } from "../etcd_stats.ts";
import type { BenchOptions } from "../options.ts";
import { loadAverage } from "../proc_stats.ts";
import { profileFlags } from "../systems.ts";

/** Registers, then cold-starts a route cache `runs` times. */
export async function registryScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  await using etcd = await startEtcd({
    args: ["--quota-backend-bytes=8589934592"],
  });
  const prefix = "/bench";
  const nodes = Math.max(1, options.nodes);
  const per = Math.ceil(options.mappings / nodes);
  options.say(`registry: ${nodes} node(s) register ${options.mappings} users`);
  const registries = await Promise.all(
    Array.from(
      { length: nodes },
      () =>
        EtcdRegistry.connect({
          endpoints: [etcd.endpoint],
          prefix,
          leaseTtl: 60,
          log: silentLogger,
        }),
    ),
  );
  const etcdBefore = await etcdCounters(etcd.endpoint);
  const began = performance.now();
  const progress = setInterval(() => {
    const txns = registries.reduce((a, r) => a + r.stats.txns, 0);
    options.say(`  ${txns} txns so far`);
  }, 2000);
  const memberships = await Promise.all(
    registries.map(async (registry, n) => {
      const membership = await registry.join(nodeRecord(`bench-${n}`));
      const CHUNK = 20_000;
      for (
        let i = n * per;
        i < Math.min(options.mappings, (n + 1) * per);
        i += CHUNK
      ) {
        const end = Math.min(options.mappings, (n + 1) * per, i + CHUNK);
        const batch = [];
        for (let j = i; j < end; j++) {
          batch.push(membership.register(`user-${j}`));
        }
        await Promise.all(batch);
      }
      return membership;
    }),
  );
  clearInterval(progress);
  const registerMs = Math.round(performance.now() - began);
  const txns = registries.reduce((a, r) => a + r.stats.txns, 0);
  options.say(`  registered in ${registerMs} ms (${txns} txns)`);
  const etcdAfter = await etcdCounters(etcd.endpoint);
  const perRegistration = costPer(etcdBefore, etcdAfter, options.mappings);
  options.say(
    `  etcd per registration ${JSON.stringify(perRegistration)}, db ` +
      `${Math.round(etcdAfter.dbBytes / 2 ** 20)} MiB ` +
      `(${Math.round(etcdAfter.dbInUseBytes / 2 ** 20)} MiB in use)`,
  );
  const coldStarts = [];
  for (let run = 0; run < options.runs; run++) {
    const child = new Child(
      "route-cache",
      new URL("../route_cache_child.ts", import.meta.url).pathname,
      {
        args: [etcd.endpoint, prefix],
        denoFlags: profileFlags(`route-cache-${run + 1}`),
      },
    );
    const line = await child.next("loaded", 300_000);
    await child.process.status;
    const { type: _, ...figures } = line;
    coldStarts.push({ ...figures, load1: loadAverage() });
    options.say(`  cold start ${run + 1}: ${JSON.stringify(figures)}`);
  }
  for (const m of memberships) await m.leave().catch(() => {});
  for (const r of registries) await r[Symbol.asyncDispose]();
  return {
    results: [{
      system: "wsgw (etcd)",
      mappings: options.mappings,
      nodes,
      registerMs,
      registerPerSec: Math.round(options.mappings / (registerMs / 1000)),
      txns,
      etcdPerRegistration: perRegistration,
      etcdDbBytes: etcdAfter.dbBytes,
      etcdDbInUseBytes: etcdAfter.dbInUseBytes,
      coldStarts,
    }],
  };
}
