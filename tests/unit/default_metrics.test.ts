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
  // A timer pending during the scrape: a server always holds one (sockets,
  // leases), and `nodejs_active_resources` lists what is held.
  const pending = setTimeout(() => {}, 10_000);
  const text = await registry.metrics();
  clearTimeout(pending);
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

Deno.test("metrics - a blocked event loop shows in nodejs_eventloop_lag_max_seconds and _p99_seconds", async () => {
  const script = new URL("../_support/event_loop_stalls.ts", import.meta.url);
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(run.code, 0);
  const { max, p99 } = JSON.parse(new TextDecoder().decode(run.stdout));
  // Under 5 s: a stall is counted once, not summed with later ones.
  assert.ok(max >= 0.2 && max < 5, `max ${max} s after 300 ms stalls`);
  assert.ok(p99 >= 0.1, `p99 ${p99} s after 300 ms stalls`);
});
