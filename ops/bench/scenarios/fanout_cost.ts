/**
 * `fanout-cost`: the same targeted push load on K = 1, 2, 4 nodes; CPU
 * seconds of all socket-holding processes per 10,000 pushes. With routing
 * (wsgw) a push reaches only the nodes holding its user; with a broadcast
 * bus (Socket.IO's Redis adapter) every node receives and filters it.
 * Default placement `user`: all devices of a user on one node.
 *
 * @module
 */
import type { BenchOptions } from "../options.ts";
import { pushOn, type PushRuns } from "./push.ts";

/** Runs push on each system at each node count. */
export async function fanoutCostScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  const results: PushRuns[] = [];
  for (const nodes of options.nodeCounts) {
    for (const kind of options.systems) {
      results.push(await pushOn(kind, nodes, options, options.placement));
    }
  }
  return { results };
}
