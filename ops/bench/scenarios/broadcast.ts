/**
 * `broadcast`: one message to every socket; time from the API call until the
 * last receipt, and deliveries/s over that time. `runs` broadcasts per
 * system on one set of connections.
 *
 * @module
 */
import { Fleet } from "../fleet.ts";
import type { BenchOptions } from "../options.ts";
import { loadAverage } from "../proc_stats.ts";
import { startSystem } from "../systems.ts";

/** Figures of one broadcast. */
export type BroadcastFigures = {
  sockets: number;
  received: number;
  lastReceiptMs: number;
  deliveriesPerSec: number;
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
        const figures = {
          sockets: ready.open,
          received: stats.received,
          lastReceiptMs: ms,
          deliveriesPerSec: Math.round(stats.received / (ms / 1000)),
          load1: loadAverage(),
        };
        options.say(
          `  run ${
            run + 1
          }: ${figures.received}/${ready.open} received, last after ${ms} ms, ${figures.deliveriesPerSec} deliveries/s`,
        );
        runs.push(figures);
        await new Promise((r) => setTimeout(r, 500));
      }
      results.push({ system: system.label, kind, nodes: options.nodes, runs });
    } finally {
      await fleet.stop();
      await system.stop();
    }
  }
  return { results };
}
