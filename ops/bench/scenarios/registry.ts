import type { BenchOptions } from "../options.ts";
export function registryScenario(
  _o: BenchOptions,
): Promise<Record<string, unknown>> {
  return Promise.reject(new Error("todo"));
}
