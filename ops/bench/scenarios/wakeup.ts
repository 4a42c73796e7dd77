/**
 * `wakeup`: what one wake-up of an otherwise idle process costs on this
 * machine: an empty timer every 100, 10 and 1 ms, under Deno and under Node,
 * in µs of CPU per firing. Every paced figure of the other scenarios pays
 * this per process per event that wakes it (a push that finds the router,
 * Redis and a gateway idle wakes all three), so it is the floor under CPU per
 * push at low rates, for wsgw and Socket.IO alike. Runtimes alternate within
 * each of `runs`; each measurement lasts `--duration` seconds.
 *
 * @module
 */
import { nodeVersion } from "../node_peers.ts";
import type { BenchOptions } from "../options.ts";
import { loadAverage } from "../proc_stats.ts";

/** Timer periods measured, ms. */
const PERIODS_MS = [100, 10, 1];

const SCRIPT = new URL("../peers/wake_timer.mjs", import.meta.url).pathname;

/** One measurement. */
export type WakeupFigures = {
  firings: number;
  cpuMs: number;
  usPerFiring: number;
  load1: number;
};

/** Deno, and Node when it is installed. */
export async function wakeupScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  const runtimes: [string, string, string[]][] = [
    [`deno ${Deno.version.deno}`, Deno.execPath(), ["run", "-A"]],
  ];
  try {
    runtimes.push([`node ${await nodeVersion()}`, "node", []]);
  } catch (error) {
    options.say(`Deno only: ${error instanceof Error ? error.message : error}`);
  }
  const seconds = Math.max(1, Math.round(options.durationMs / 1000));
  const runs = new Map<string, WakeupFigures[]>();
  for (let run = 0; run < options.runs; run++) {
    for (const periodMs of PERIODS_MS) {
      for (const [runtime, command, args] of runtimes) {
        const figures = await measure(command, [
          ...args,
          SCRIPT,
          String(periodMs),
          String(seconds),
        ]);
        const key = `${runtime}, every ${periodMs} ms`;
        runs.set(key, [...runs.get(key) ?? [], figures]);
        options.say(
          `  run ${
            run + 1
          }: ${key}: ${figures.firings} firings, ${figures.cpuMs} ms CPU, ${figures.usPerFiring} µs per firing`,
        );
      }
    }
  }
  return {
    results: [...runs].map(([system, figures]) => ({ system, runs: figures })),
  };
}

async function measure(
  command: string,
  args: string[],
): Promise<WakeupFigures> {
  const output = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (output.code !== 0 || !text) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${
        new TextDecoder().decode(output.stderr).slice(-500)
      }`,
    );
  }
  const { firings, cpuMs } = JSON.parse(text) as {
    firings: number;
    cpuMs: number;
  };
  return {
    firings,
    cpuMs,
    usPerFiring: Math.round(cpuMs * 1000 / Math.max(1, firings)),
    load1: loadAverage(),
  };
}
