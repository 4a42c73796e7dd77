/**
 * `--runs` repetitions of a scenario that builds its system afresh each time
 * (storm, hold), with a progress line per run.
 *
 * @module
 */
import type { BenchOptions } from "./options.ts";

/** Calls `one` `options.runs` times in sequence; `{ results }` in run order. */
export async function freshRuns(
  name: string,
  options: BenchOptions,
  one: (options: BenchOptions) => Promise<unknown>,
): Promise<{ results: unknown[] }> {
  const results: unknown[] = [];
  for (let run = 1; run <= options.runs; run++) {
    if (options.runs > 1) options.say(`${name}: run ${run} of ${options.runs}`);
    results.push(await one(options));
  }
  return { results };
}
