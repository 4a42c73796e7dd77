/**
 * `latency`: end-to-end latency of each system at the same offered rates,
 * set from the weakest system's capacity. A closed loop overdrives a
 * fire-and-forget API (Socket.IO's emitter accepts faster than its nodes
 * deliver), so its latency is queue growth; here each system first gets a
 * closed-loop run whose *delivered* pushes/s is its capacity, and then every
 * system is offered the same open-loop rates, `--fractions` of the smallest
 * capacity (default 25%, 50%, 80%). Rounds are interleaved: in each of
 * `--runs` rounds every system starts fresh and runs every fraction.
 *
 * @module
 */
import type { PushFigures } from "../measure_push.ts";
import type { BenchOptions } from "../options.ts";
import type { SystemKind } from "../systems.ts";
import { pushRun, withPushBed } from "./push.ts";

/** A system's capacity: delivered pushes/s of one closed-loop run. */
export type Capacity = {
  system: string;
  kind: SystemKind;
  deliveredPushRps: number;
  run: PushFigures;
};

/** One system at one offered rate, over the rounds. */
export type LatencyRuns = {
  system: string;
  kind: SystemKind;
  nodes: number;
  fraction: number;
  offeredRps: number;
  runs: PushFigures[];
};

/**
 * The rates to offer: each fraction of the smallest capacity, rounded, at
 * least 1/s.
 *
 * @throws {RangeError} when no capacity was measured or the weakest is 0.
 */
export function offeredRates(
  capacities: readonly Pick<Capacity, "system" | "deliveredPushRps">[],
  fractions: readonly number[],
): { weakest: string; capacity: number; rates: number[] } {
  if (capacities.length === 0) {
    throw new RangeError("latency: no system to measure (--systems)");
  }
  const weakest = capacities.reduce((a, b) =>
    b.deliveredPushRps < a.deliveredPushRps ? b : a
  );
  if (weakest.deliveredPushRps <= 0) {
    throw new RangeError(
      `latency: ${weakest.system} delivered nothing in its capacity run; no rate to offer`,
    );
  }
  return {
    weakest: weakest.system,
    capacity: weakest.deliveredPushRps,
    rates: fractions.map((f) =>
      Math.max(1, Math.round(f * weakest.deliveredPushRps))
    ),
  };
}

/** The latency scenario: capacities, then interleaved rounds of every fraction. */
export async function latencyScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  const nodes = options.nodes;
  const capacities: Capacity[] = [];
  for (const kind of options.systems) {
    const closed = `capacity: closed loop ${options.concurrency} connections`;
    capacities.push(
      await withPushBed(
        kind,
        nodes,
        options,
        options.placement,
        closed,
        async (bed) => {
          const run = await pushRun(bed, options, 0, "capacity: ");
          return {
            system: bed.system.label,
            kind,
            deliveredPushRps: run.deliveredPushRps,
            run,
          };
        },
      ),
    );
  }
  const { weakest, capacity, rates } = offeredRates(
    capacities,
    options.fractions,
  );
  options.say(
    `latency: weakest is ${weakest} at ${capacity} delivered push/s; offering ${
      rates.join(", ")
    } push/s`,
  );

  const byKey = new Map<string, LatencyRuns>();
  for (let round = 0; round < options.runs; round++) {
    for (const kind of options.systems) {
      await withPushBed(
        kind,
        nodes,
        options,
        options.placement,
        "",
        async (bed) => {
          for (const [i, rate] of rates.entries()) {
            const fraction = options.fractions[i]!;
            const label = `${bed.system.label}, open loop at ${
              Math.round(fraction * 100)
            }% of ${capacity}/s`;
            let entry = byKey.get(label);
            if (!entry) {
              byKey.set(
                label,
                entry = {
                  system: label,
                  kind,
                  nodes,
                  fraction,
                  offeredRps: rate,
                  runs: [],
                },
              );
            }
            entry.runs.push(
              await pushRun(
                bed,
                options,
                rate,
                `round ${round + 1}, ${Math.round(fraction * 100)}%: `,
              ),
            );
          }
        },
      );
    }
  }
  return {
    capacities,
    weakest: { system: weakest, deliveredPushRps: capacity },
    // Fraction by fraction, each system beside the others.
    results: [...byKey.values()].sort((a, b) =>
      a.fraction - b.fraction ||
      options.systems.indexOf(a.kind) - options.systems.indexOf(b.kind)
    ),
  };
}
