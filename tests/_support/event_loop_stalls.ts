/**
 * Run by tests/unit/default_metrics.test.ts with `deno run`, as servers run
 * (under `deno test` Deno's own event-loop delay monitor saw stalls that it
 * missed under `deno run`): blocks the event loop five times for 300 ms
 * inside timer callbacks, then prints one scrape's lag gauges as JSON.
 *
 * @module
 */
import { createMetricsRegistry } from "../../shared/metrics.ts";

const registry = createMetricsRegistry({ defaults: true });
const timer = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await timer(500);
await registry.metrics();
for (let i = 0; i < 5; i++) {
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      const until = Date.now() + 300;
      while (Date.now() < until) { /* blocked */ }
      resolve();
    }, 0)
  );
}
await timer(200);
const lines = (await registry.metrics()).split("\n");
const gauge = (name: string) =>
  Number(lines.find((l) => l.startsWith(`${name} `))?.split(" ")[1]);
// deno-lint-ignore no-console -- the test reads this line
console.log(JSON.stringify({
  max: gauge("nodejs_eventloop_lag_max_seconds"),
  p99: gauge("nodejs_eventloop_lag_p99_seconds"),
}));
Deno.exit(0);
