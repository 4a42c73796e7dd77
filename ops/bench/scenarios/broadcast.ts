/**
 * `broadcast`: one message to every socket; time from the API call until the
 * last receipt, and deliveries/s over that time. `runs` broadcasts per
 * system on one set of connections. The last receipt waits on the load
 * clients as much as on the system, so CPU per delivery of the socket-holding
 * processes and of the API process (from `/proc`, API call to last receipt)
 * is recorded too: what the system itself pays for each write.
 *
 * @module
 */
import { Fleet } from "../fleet.ts";
import type { BenchOptions } from "../options.ts";
import { loadAverage, totalCpu } from "../proc_stats.ts";
import { startSystem } from "../systems.ts";

/** Figures of one broadcast. */
export type BroadcastFigures = {
  sockets: number;
  received: number;
  lastReceiptMs: number;
  deliveriesPerSec: number;
  /** CPU µs of the socket-holding processes per delivery (10 ms /proc ticks: read over many runs). */
  nodeUsPerDelivery: number;
  /** CPU µs of the API process (wsgw's router, Socket.IO's emitter) per delivery. */
  apiUsPerDelivery: number;
  load1: number;
};

/** Every system in `options.systems`. */
export async function broadcastScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  const results = [];
  for (const kind of options.systems) {
    const system = await startSystem(kind, options.nodes);
    options.say(`${system.label}: connecting ${options.sockets} sockets`);
    const fleet = Fleet.start(system, {
      sockets: options.sockets,
      devices: options.devices,
      placement: "spread",
      processes: options.clients,
      rate: 0,
      heartbeatMs: 0,
      say: options.say,
    });
    try {
      const ready = await fleet.ready();
      await new Promise((r) => setTimeout(r, 1000));
      const runs: BroadcastFigures[] = [];
      for (let run = 0; run < options.runs; run++) {
        await fleet.reset();
        const nodeCpu = totalCpu(system.gatewayPids);
        const apiCpu = totalCpu(system.apiPids);
        const sent = Date.now();
        await system.broadcast({ run });
        let stats = await fleet.stats();
        const deadline = Date.now() + 60_000;
        while (stats.received < stats.open && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          stats = await fleet.stats();
        }
        // Receipt times are fractional ms (performance.timeOrigin + now).
        const ms = Math.max(1, Math.round(stats.lastReceipt - sent));
        const perDelivery = (cpuSeconds: number) =>
          Math.round(cpuSeconds * 1e6 / Math.max(1, stats.received) * 10) / 10;
        const figures = {
          sockets: ready.open,
          received: stats.received,
          lastReceiptMs: ms,
          deliveriesPerSec: Math.round(stats.received / (ms / 1000)),
          nodeUsPerDelivery: perDelivery(
            totalCpu(system.gatewayPids) - nodeCpu,
          ),
          apiUsPerDelivery: perDelivery(totalCpu(system.apiPids) - apiCpu),
          load1: loadAverage(),
        };
        options.say(
          `  run ${
            run + 1
          }: ${figures.received}/${ready.open} received, last after ${ms} ms, ${figures.deliveriesPerSec} deliveries/s; CPU per delivery: nodes ${figures.nodeUsPerDelivery} µs, API ${figures.apiUsPerDelivery} µs`,
        );
        runs.push(figures);
        await new Promise((r) => setTimeout(r, 500));
      }
      const cpu = {
        nodeUsPerDelivery: mean(runs.map((r) => r.nodeUsPerDelivery)),
        apiUsPerDelivery: mean(runs.map((r) => r.apiUsPerDelivery)),
      };
      options.say(
        `  all runs: CPU per delivery: nodes ${cpu.nodeUsPerDelivery} µs, API ${cpu.apiUsPerDelivery} µs`,
      );
      results.push({
        system: system.label,
        kind,
        nodes: options.nodes,
        runs,
        cpu,
      });
    } finally {
      await fleet.stop();
      await system.stop();
    }
  }
  return { results };
}

/** The mean of `values`, to 0.1 (runs are equal in size, so this is the pooled figure). */
function mean(values: number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  return Math.round(sum / Math.max(1, values.length) * 10) / 10;
}
