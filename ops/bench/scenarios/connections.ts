/**
 * `connections`: ramp to N sockets over K nodes; connect rate, RSS per
 * connection of the socket-holding processes, their CPU at idle while every
 * socket sends a heartbeat (wsgw, raw: `{"type":"ping"}` every
 * `--heartbeat` s; Socket.IO: its own server pings).
 *
 * RSS (all of it, and its anonymous part) and V8 heap per socket are also
 * read after a forced full GC, before the ramp and after it, through each
 * process's V8 inspector (the processes run with `--inspect` on loopback;
 * v8_inspector.ts): what an idle socket keeps, without the garbage of the
 * connect burst that a GC would free.
 * Systems alternate run by run (A B A B …), each run with fresh processes,
 * so the ratios compare runs that saw the same machine load.
 *
 * @module
 */
import { Fleet } from "../fleet.ts";
import type { BenchOptions } from "../options.ts";
import {
  loadAverage,
  totalAnonRss,
  totalCpu,
  totalRss,
} from "../proc_stats.ts";
import { startSystem, type SystemKind } from "../systems.ts";
import { costPer, type EtcdCounters, etcdCounters } from "../etcd_stats.ts";
import { collectGarbage, type HeapUsage } from "../v8_inspector.ts";

/** etcd's counters once its writes have stood still for a second. */
async function settledCounters(url: string): Promise<EtcdCounters> {
  let last = await etcdCounters(url);
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await etcdCounters(url);
    if (now.puts === last.puts && now.deletes === last.deletes) return now;
    last = now;
  }
  return last;
}

/** Figures of one ramp. */
export type ConnectionFigures = {
  open: number;
  failed: number;
  rampMs: number;
  connectsPerSec: number;
  /**
   * CPU of the socket-holding processes during the ramp, per socket opened,
   * in µs: unlike connects/s, it does not move with what else the machine
   * runs. `backendCpuUsPerConnect`: the same for etcd and Redis (wsgw).
   */
  cpuUsPerConnect: number;
  backendCpuUsPerConnect: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  rssPerConnKiB: number;
  /** RSS per socket, both ends read after a forced full GC. */
  rssPerConnAfterGcKiB: number;
  /**
   * The same in anonymous memory only (`RssAnon`): without the file-backed
   * pages of the binary, which come and go with the machine's memory
   * pressure.
   */
  anonRssPerConnAfterGcKiB: number;
  /** V8 heap used / reserved per socket, both ends after a forced GC. */
  heapUsedPerConnKiB: number;
  heapTotalPerConnKiB: number;
  /** RSS of the socket-holding processes after the GC at full size. */
  rssAfterGcMiB: number;
  idleCpuPercent: number;
  clientRssMiB: number;
  load1: number;
  errors: Record<string, number>;
  /** wsgw: what etcd did per connect and per disconnect (`etcd_stats.ts`). */
  etcd?: {
    perConnect: Record<string, number>;
    perDisconnect: Record<string, number>;
    dbBytes: number;
    dbInUseBytes: number;
  };
};

/** One ramp on one system. */
export async function connectionsOn(
  kind: SystemKind,
  nodes: number,
  options: BenchOptions,
): Promise<ConnectionFigures> {
  const system = await startSystem(kind, nodes, { inspect: true });
  const inspectors = system.inspectorPorts ?? [];
  options.say(
    `${system.label}: ramping to ${options.sockets} sockets with ${options.clients} client processes`,
  );
  // Settle: a fresh process is still compiling and allocating.
  await new Promise((r) => setTimeout(r, 1000));
  const before = totalRss(system.gatewayPids);
  const gcBefore = await gcAndRss(inspectors, system.gatewayPids);
  const etcdUrl = system.etcdUrl;
  const etcd0 = etcdUrl ? await etcdCounters(etcdUrl) : undefined;
  const rampCpu0 = totalCpu(system.gatewayPids);
  const backendCpu0 = totalCpu(system.backendPids);
  const fleet = Fleet.start(system, {
    sockets: options.sockets,
    devices: options.devices,
    placement: "spread",
    processes: options.clients,
    rate: options.rate,
    heartbeatMs: options.heartbeatMs,
    say: options.say,
  });
  try {
    const ready = await fleet.ready();
    const rampCpu = totalCpu(system.gatewayPids) - rampCpu0;
    const backendCpu = totalCpu(system.backendPids) - backendCpu0;
    options.say(
      `  ${ready.open} open, ${ready.failed} failed in ${ready.ms} ms`,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const after = totalRss(system.gatewayPids);
    const gcAfter = await gcAndRss(inspectors, system.gatewayPids);
    const cpu0 = totalCpu(system.gatewayPids);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, options.idleMs));
    const idleCpu = (totalCpu(system.gatewayPids) - cpu0) /
      ((performance.now() - t0) / 1000);
    const stats = await fleet.stats();
    const clientRss = totalRss(fleet.pids);
    let etcd: ConnectionFigures["etcd"];
    if (etcdUrl && etcd0) {
      // Registrations are coalesced and may still be landing: wait until
      // etcd's write counters stand still, after the ramp and after the
      // clients hang up.
      const connected = await settledCounters(etcdUrl);
      await fleet.stop();
      const disconnected = await settledCounters(etcdUrl);
      etcd = {
        perConnect: costPer(etcd0, connected, ready.open),
        perDisconnect: costPer(connected, disconnected, ready.open),
        dbBytes: connected.dbBytes,
        dbInUseBytes: connected.dbInUseBytes,
      };
      options.say(`  etcd per connect ${JSON.stringify(etcd.perConnect)}`);
      options.say(
        `  etcd per disconnect ${JSON.stringify(etcd.perDisconnect)}`,
      );
    }
    const perConn = (bytes: number) =>
      ready.open > 0 ? Number((bytes / ready.open / 1024).toFixed(1)) : 0;
    const figures: ConnectionFigures = {
      open: stats.open,
      failed: ready.failed,
      rampMs: ready.ms,
      connectsPerSec: Math.round(ready.open / (ready.ms / 1000)),
      cpuUsPerConnect: ready.open > 0
        ? Math.round(rampCpu * 1e6 / ready.open)
        : 0,
      backendCpuUsPerConnect: ready.open > 0
        ? Math.round(backendCpu * 1e6 / ready.open)
        : 0,
      rssBeforeMiB: Math.round(before / 2 ** 20),
      rssAfterMiB: Math.round(after / 2 ** 20),
      rssPerConnKiB: ready.open > 0
        ? Number(((after - before) / ready.open / 1024).toFixed(1))
        : 0,
      rssPerConnAfterGcKiB: perConn(gcAfter.rss - gcBefore.rss),
      anonRssPerConnAfterGcKiB: perConn(gcAfter.anon - gcBefore.anon),
      heapUsedPerConnKiB: perConn(
        gcAfter.heap.usedBytes - gcBefore.heap.usedBytes,
      ),
      heapTotalPerConnKiB: perConn(
        gcAfter.heap.totalBytes - gcBefore.heap.totalBytes,
      ),
      rssAfterGcMiB: Math.round(gcAfter.rss / 2 ** 20),
      idleCpuPercent: Number((idleCpu * 100).toFixed(1)),
      clientRssMiB: Math.round(clientRss / 2 ** 20),
      load1: loadAverage(),
      errors: { ...ready.errors, ...stats.errors },
      etcd,
    };
    options.say(
      `  ${figures.open} open (${figures.connectsPerSec}/s, ${figures.cpuUsPerConnect} µs CPU each + ${figures.backendCpuUsPerConnect} backends), RSS ${figures.rssPerConnKiB} KiB/conn (${figures.rssPerConnAfterGcKiB} after GC, anon ${figures.anonRssPerConnAfterGcKiB}, heap ${figures.heapUsedPerConnKiB} used / ${figures.heapTotalPerConnKiB} reserved), idle CPU ${figures.idleCpuPercent}%`,
    );
    return figures;
  } finally {
    await fleet.stop();
    await system.stop();
  }
}

/**
 * RSS of `pids` and their V8 heaps after a forced full GC in each (half a
 * second for the freed pages to leave the RSS).
 */
async function gcAndRss(
  inspectors: readonly number[],
  pids: number[],
): Promise<{ rss: number; anon: number; heap: HeapUsage }> {
  const heap = await collectGarbage(inspectors);
  await new Promise((r) => setTimeout(r, 500));
  return { rss: totalRss(pids), anon: totalAnonRss(pids), heap };
}

/**
 * Every system in `options.systems`, `runs` times each, alternating: run 1
 * of every system, then run 2 of every system, …
 */
export async function connectionsScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  const runs = new Map(
    options.systems.map((kind) => [kind, [] as ConnectionFigures[]]),
  );
  for (let run = 0; run < options.runs; run++) {
    for (const kind of options.systems) {
      runs.get(kind)!.push(await connectionsOn(kind, options.nodes, options));
    }
  }
  return {
    results: options.systems.map((kind) => ({
      system: kind,
      nodes: options.nodes,
      runs: runs.get(kind)!,
    })),
  };
}
