/**
 * Every metric family a process's registry exposes has at least one sample:
 * prom-client defaults that Deno never fills (GC durations, handle and
 * request lists) are left out, so no dashboard charts an empty series.
 */
import assert from "node:assert/strict";
import { createMetricsRegistry } from "../../shared/metrics.ts";

Deno.test("metrics - no empty family in a process registry", async () => {
  const registry = createMetricsRegistry({ defaults: true });
  // A GC and some timers, so that anything Deno could report is there.
  const garbage = Array.from({ length: 100_000 }, (_, i) => ({ i }));
  assert.equal(garbage.length, 100_000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const text = await registry.metrics();
  const lines = text.split("\n");
  const families = [...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!);
  assert.ok(families.length > 10);
  const empty = families.filter((name) =>
    !lines.some((line) =>
      !line.startsWith("#") &&
      new RegExp(`^${name}(_bucket|_sum|_count)?[{ ]`).test(line)
    )
  );
  assert.deepEqual(empty, []);
});
