/**
 * The hot-path metrics (`shared/hot_metrics.ts`) expose exactly what
 * prom-client's own Counter and Histogram expose for the same updates, so
 * dashboards, alerts and the console read them unchanged.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { HotCounter, HotHistogram } from "../../shared/hot_metrics.ts";
import { prom } from "../../shared/metrics.ts";

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A value on a bucket bound, beside one, or beyond the last. */
const observation = fc.oneof(
  fc.constantFrom(...BUCKETS, 0, 10),
  fc.double({ min: 0, max: 10, noNaN: true }),
);

Deno.test("hot histogram - renders what prom-client's Histogram renders for the same observations", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(observation, { maxLength: 200 }),
      async (values) => {
        const ours = new prom.Registry();
        const theirs = new prom.Registry();
        const hot = new HotHistogram({
          name: "lag_seconds",
          help: "Lag.",
          buckets: BUCKETS,
          registers: [ours],
        });
        const reference = new prom.Histogram({
          name: "lag_seconds",
          help: "Lag.",
          buckets: BUCKETS,
          registers: [theirs],
        });
        const same = async () => {
          assert.equal(await ours.metrics(), await theirs.metrics());
          // As a JSON consumer sees it (prom-client leaves some keys undefined).
          const asJson = async (registry: prom.Registry) =>
            JSON.parse(JSON.stringify(await registry.getMetricsAsJSON()));
          assert.deepEqual(await asJson(ours), await asJson(theirs));
        };
        for (const value of values) {
          hot.observe(value);
          reference.observe(value);
        }
        await same();
        // A reset registry shows no series until the next observation.
        ours.resetMetrics();
        theirs.resetMetrics();
        await same();
        for (const value of values.slice(0, 3)) {
          hot.observe(value);
          reference.observe(value);
        }
        await same();
      },
    ),
    { numRuns: 50 },
  );
});

Deno.test("hot counter - renders what prom-client's Counter renders, and the registry resets it", async () => {
  const ours = new prom.Registry();
  const theirs = new prom.Registry();
  const hot = new HotCounter({
    name: "writes_total",
    help: "Writes.",
    registers: [ours],
  });
  const reference = new prom.Counter({
    name: "writes_total",
    help: "Writes.",
    registers: [theirs],
  });
  assert.equal(await ours.metrics(), await theirs.metrics(), "both start at 0");
  for (const by of [1, 1, 5, 0.5]) {
    hot.inc(by);
    reference.inc(by);
  }
  hot.inc();
  reference.inc();
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.deepEqual((await hot.get()).values, [{ value: 8.5, labels: {} }]);
  ours.resetMetrics();
  assert.deepEqual((await hot.get()).values, [{ value: 0, labels: {} }]);
});

Deno.test("hot metrics - a negative or NaN increment and unsorted buckets are refused; a NaN observation is dropped", async () => {
  const registers = [new prom.Registry()];
  const counter = new HotCounter({ name: "a_total", help: "A.", registers });
  assert.throws(() => counter.inc(-1), RangeError);
  assert.throws(() => counter.inc(Number.NaN), RangeError);
  assert.throws(
    () =>
      new HotHistogram({ name: "b", help: "B.", buckets: [1, 1], registers }),
    /buckets must ascend/,
  );
  assert.throws(
    () => new HotCounter({ name: "a_total", help: "Again.", registers }),
    /already been registered/,
  );
  const lag = new HotHistogram({
    name: "c",
    help: "C.",
    buckets: [1],
    registers,
  });
  lag.observe(Number.NaN);
  lag.observe(0.5);
  const values = (await lag.get()).values;
  assert.deepEqual(values.map((v) => v.value), [1, 1, 0.5, 1]);
});
