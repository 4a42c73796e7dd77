/**
 * `connections`: ramp to N sockets over K nodes; connect rate, RSS per
 * connection of the socket-holding processes, their CPU at idle while every
 * socket sends a heartbeat (wsgw, raw: `{"type":"ping"}` every
 * `--heartbeat` s; Socket.IO: its own server pings).
 *
 * @module
 */
import { Fleet } from "../fleet.ts";
import type { BenchOptions } from "../options.ts";
import { loadAverage, totalCpu, totalRss } from "../proc_stats.ts";
import { startSystem, type SystemKind } from "../systems.ts";
import { costPer, type EtcdCounters, etcdCounters } from "../etcd_stats.ts";

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
  rssBeforeMiB: number;
  rssAfterMiB: number;
  rssPerConnKiB: number;
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
  const system = await startSystem(kind, nodes);
  options.say(
    `${system.label}: ramping to ${options.sockets} sockets with ${options.clients} client processes`,
  );
  // Settle: a fresh process is still compiling and allocating.
  await new Promise((r) => setTimeout(r, 1000));
  const before = totalRss(system.gatewayPids);
  const etcdUrl = system.etcdUrl;
  const etcd0 = etcdUrl ? await etcdCounters(etcdUrl) : undefined;
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
    options.say(
      `  ${ready.open} open, ${ready.failed} failed in ${ready.ms} ms`,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const after = totalRss(system.gatewayPids);
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
    const figures: ConnectionFigures = {
      open: stats.open,
      failed: ready.failed,
      rampMs: ready.ms,
      connectsPerSec: Math.round(ready.open / (ready.ms / 1000)),
      rssBeforeMiB: Math.round(before / 2 ** 20),
      rssAfterMiB: Math.round(after / 2 ** 20),
      rssPerConnKiB: ready.open > 0
        ? Number(((after - before) / ready.open / 1024).toFixed(1))
        : 0,
      idleCpuPercent: Number((idleCpu * 100).toFixed(1)),
      clientRssMiB: Math.round(clientRss / 2 ** 20),
      load1: loadAverage(),
      errors: { ...ready.errors, ...stats.errors },
      etcd,
    };
    options.say(
      `  ${figures.open} open (${figures.connectsPerSec}/s), RSS ${figures.rssPerConnKiB} KiB/conn, idle CPU ${figures.idleCpuPercent}%`,
    );
    return figures;
  } finally {
    await fleet.stop();
    await system.stop();
  }
}

/** Every system in `options.systems`, `runs` times each. */
export async function connectionsScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  const results = [];
  for (const kind of options.systems) {
    const runs = [];
    for (let run = 0; run < options.runs; run++) {
      runs.push(await connectionsOn(kind, options.nodes, options));
    }
    results.push({ system: kind, nodes: options.nodes, runs });
  }
  return { results };
}
