import assert from "node:assert/strict";
import { rampRates } from "../../ops/bench/ramp_rates.ts";

Deno.test("ramp rates - per sample interval and per tenth of the sockets", () => {
  // 1,000/s for 5 s, then 250/s for the last 5,000 over 20 s.
  const ramp = [];
  for (let s = 1; s <= 5; s++) ramp.push({ ms: s * 1000, open: s * 1000 });
  for (let s = 1; s <= 20; s++) {
    ramp.push({ ms: 5000 + s * 1000, open: 5000 + s * 250 });
  }
  const rates = rampRates(ramp);
  assert.equal(rates.min, 250);
  assert.equal(rates.max, 1000);
  assert.equal(rates.median, 250);
  assert.deepEqual(rates.byTenth, [
    1000,
    1000,
    1000,
    1000,
    1000,
    250,
    250,
    250,
    250,
    250,
  ]);
});

Deno.test("ramp rates - samples closer than the gap are merged, a stalled ramp has fewer tenths", () => {
  const rates = rampRates(
    [{ ms: 1000, open: 100 }, { ms: 1200, open: 150 }, { ms: 2000, open: 300 }],
    1000,
  );
  assert.deepEqual([rates.min, rates.max], [100, 200]);
  assert.equal(rates.byTenth.length, 3, "only 30% of the 1000 were reached");
});
