import type { BenchOptions } from "../options.ts";
export function connectionsScenario(
  _o: BenchOptions,
): Promise<Record<string, unknown>> {
  return Promise.reject(new Error("todo"));
}
