/**
 * `push`: users with `devices` devices each, `concurrency` HTTP clients
 * pushing to random users; push requests/s, API latency, end-to-end latency
 * (API accept → client receipt), deliveries/s. Systems side by side: raw
 * (one process), wsgw embedded (one process), wsgw cluster and Socket.IO
 * (both on `nodes` nodes).
 *
 * @module
 */
import { Fleet } from "../fleet.ts";
import {
  measurePush,
  type PushFigures,
  waitForRoutes,
} from "../measure_push.ts";
import { startSystem, type System, type SystemKind } from "../systems.ts";
import type { BenchOptions } from "../options.ts";

/** One system's runs. */
export type PushRuns = {
  system: string;
  kind: SystemKind;
  nodes: number;
  runs: PushFigures[];
};

/** A started system with its connected fleet, for one or more push loads. */
export type PushBed = { system: System; fleet: Fleet };

/**
 * Starts `kind` on `nodes` nodes, connects the fleet, waits until wsgw's
 * router knows every user, runs `use`, then stops both.
 */
export async function withPushBed<T>(
  kind: SystemKind,
  nodes: number,
  options: BenchOptions,
  placement: "spread" | "user",
  mode: string,
  use: (bed: PushBed) => Promise<T>,
): Promise<T> {
  const system = await startSystem(kind, nodes);
  system.label += `; ${
    placement === "user" && nodes > 1 ? "user placement, " : ""
  }${options.devices} device(s)/user${mode ? `, ${mode}` : ""}`;
  options.say(`${system.label}: connecting ${options.sockets} sockets`);
  const fleet = Fleet.start(system, {
    sockets: options.sockets,
    devices: options.devices,
    placement,
    processes: options.clients,
    rate: 0,
    heartbeatMs: 0,
    say: options.say,
  });
  try {
    const ready = await fleet.ready();
    if (ready.failed > 0) {
      options.say(
        `  ${ready.failed} sockets failed: ${JSON.stringify(ready.errors)}`,
      );
    }
    await waitForRoutes(system);
    return await use({ system, fleet });
  } finally {
    await fleet.stop();
    await system.stop();
  }
}

/** One measured push run on a bed, at `rate` pushes/s offered (0: closed loop), printed as it ends. */
export async function pushRun(
  { system, fleet }: PushBed,
  options: BenchOptions,
  rate: number,
  label = "",
): Promise<PushFigures> {
  const figures = await measurePush(system, fleet, {
    users: Math.ceil(options.sockets / options.devices),
    concurrency: options.concurrency,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    rate,
    devices: options.devices,
  }, options.say);
  options.say(
    `  ${label}${figures.pushRps} push/s` +
      (rate ? ` (offered ${rate}/s)` : "") +
      `, api p50 ${figures.apiP50Ms} ms p99 ${figures.apiP99Ms} ms, ` +
      `e2e p50 ${figures.e2eP50Ms} ms p99 ${figures.e2eP99Ms} ms, ${figures.deliveredPushRps} delivered pushes/s, ` +
      `CPU µs per delivered push: gateways ${figures.gatewayUsPerDelivered}, api ${figures.apiUsPerDelivered}, ` +
      `backends ${figures.backendUsPerDelivered}; machine ${figures.machineCpuPercent}%, load ${figures.load1}`,
  );
  return figures;
}

/** Runs the push load on one system `runs` times (one fleet, several load loops). */
export function pushOn(
  kind: SystemKind,
  nodes: number,
  options: BenchOptions,
  placement: "spread" | "user",
): Promise<PushRuns> {
  const mode = options.pushRate
    ? `open loop ${options.pushRate} push/s`
    : `closed loop ${options.concurrency} connections`;
  return withPushBed(kind, nodes, options, placement, mode, async (bed) => {
    const runs: PushFigures[] = [];
    for (let run = 0; run < options.runs; run++) {
      runs.push(
        await pushRun(bed, options, options.pushRate, `run ${run + 1}: `),
      );
    }
    return { system: bed.system.label, kind, nodes, runs };
  });
}

/** The push scenario: every system in `options.systems`. */
export async function pushScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  const results: PushRuns[] = [];
  for (const kind of options.systems) {
    const nodes = kind === "wsgw-embedded" || kind === "raw"
      ? 1
      : options.nodes;
    results.push(await pushOn(kind, nodes, options, options.placement));
  }
  return { results };
}
