import type { BenchOptions } from "../options.ts";
export function broadcastScenario(
  _o: BenchOptions,
): Promise<Record<string, unknown>> {
  return Promise.reject(new Error("todo"));
}
