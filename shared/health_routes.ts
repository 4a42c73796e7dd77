/**
 * `/healthz`, `/readyz` and `/metrics`, served by every process. Readiness is
 * a set of named checks (registry reachable, history reachable, node
 * registered and not draining); `/readyz` answers 503 naming each failure.
 *
 * @module
 */
import { Hono } from "hono";
import { deadline, DeadlineError } from "./deadline.ts";
import { HttpError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { type prom, renderMetrics } from "./metrics.ts";
import { VERSION } from "./version.ts";

/**
 * A readiness check: resolves when fine, rejects (or throws) when not. The
 * message of an `HttpError` (e.g. `UnavailableError("draining")`) is shown in
 * the `/readyz` body; other errors show as "unavailable".
 */
export type ReadyCheck = () => Promise<void> | void;

/** Milliseconds a readiness check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2000;

/**
 * Creates the health and metrics routes; without `metricsRegistries`, no
 * `/metrics` (a cluster gateway serves it on its internal port instead).
 */
export function createHealthRoutes(options: {
  readyChecks: Readonly<Record<string, ReadyCheck>>;
  metricsRegistries?: readonly prom.Registry[];
  log: Logger;
}): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok", version: VERSION }));
  app.get("/readyz", async (c) => {
    const checks = await runChecks(options.readyChecks, options.log);
    const ready = Object.values(checks).every((result) => result === "ok");
    return c.json(
      { status: ready ? "ready" : "not ready", checks },
      ready ? 200 : 503,
    );
  });
  const registries = options.metricsRegistries;
  if (registries) app.get("/metrics", () => renderMetrics(registries));
  return app;
}

/** Runs every check at once; each answers "ok" or why not. */
async function runChecks(
  checks: Readonly<Record<string, ReadyCheck>>,
  log: Logger,
): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await deadline(Promise.resolve().then(check), CHECK_TIMEOUT_MS, name);
        return [name, "ok"] as const;
      } catch (error) {
        // Probes come every few seconds: the answer body says it, the log
        // need not at every probe.
        log.debug("readiness check failed", { check: name, error });
        // Only our own errors are worded for the outside; a backend's may
        // name hosts and ports.
        const why = error instanceof HttpError
          ? error.message
          : error instanceof DeadlineError
          ? "no answer in time"
          : "unavailable";
        return [name, why] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}
