/**
 * `/healthz`, `/readyz` and `/metrics`, served by every process. Readiness is
 * a list of named checks (registry reachable, history reachable, node
 * registered and not draining); `/readyz` answers 503 naming each failure.
 *
 * @module
 */
import { Hono } from "hono";
import type { prom } from "./metrics.ts";
import { renderMetrics } from "./metrics.ts";
import { deadline } from "./deadline.ts";

/** One readiness check: resolves when fine, rejects with the reason. */
export type ReadinessCheck = { name: string; check: () => Promise<void> };

/** Milliseconds a readiness check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2000;

/** Creates the health and metrics routes. */
export function createHealthRoutes(options: {
  readiness: readonly ReadinessCheck[];
  metricsRegistries: readonly prom.Registry[];
}): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const failures = await failedChecks(options.readiness);
    if (failures.length === 0) return c.json({ status: "ready" });
    return c.json({ status: "not ready", failures }, 503);
  });
  app.get("/metrics", () => renderMetrics(options.metricsRegistries));
  return app;
}

/** Runs every check at once; returns the failed ones with their reasons. */
export async function failedChecks(
  checks: readonly ReadinessCheck[],
): Promise<{ check: string; reason: string }[]> {
  const results = await Promise.allSettled(
    checks.map(({ name, check }) => deadline(check(), CHECK_TIMEOUT_MS, name)),
  );
  return results.flatMap((result, i) =>
    result.status === "fulfilled" ? [] : [{
      check: checks[i]!.name,
      reason: result.reason instanceof Error
        ? result.reason.message
        : String(result.reason),
    }]
  );
}
