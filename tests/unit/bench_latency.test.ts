/**
 * The latency scenario's rates: every system is offered the same fractions
 * of the weakest system's delivered capacity, and bad `--fractions` are
 * refused by name.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseBenchArgs } from "../../ops/bench/options.ts";
import { offeredRates } from "../../ops/bench/scenarios/latency.ts";

const quiet = () => {};

Deno.test("bench latency - rates are fractions of the smallest delivered capacity", () => {
  const { weakest, capacity, rates } = offeredRates([
    { system: "wsgw", deliveredPushRps: 2_100 },
    { system: "sio", deliveredPushRps: 1_800 },
  ], [0.25, 0.5, 0.8]);
  assert.equal(weakest, "sio");
  assert.equal(capacity, 1_800);
  assert.deepEqual(rates, [450, 900, 1_440]);
});

Deno.test("bench latency - a tiny capacity still offers at least one push a second", () => {
  assert.deepEqual(
    offeredRates([{ system: "a", deliveredPushRps: 3 }], [0.1, 1]).rates,
    [1, 3],
  );
});

Deno.test("bench latency - a system that delivered nothing leaves no rate to offer", () => {
  assert.throws(
    () =>
      offeredRates([
        { system: "a", deliveredPushRps: 500 },
        { system: "b", deliveredPushRps: 0 },
      ], [0.5]),
    { name: "RangeError", message: /b delivered nothing/ },
  );
  assert.throws(() => offeredRates([], [0.5]), /no system/);
});

Deno.test("bench latency - defaults: 4 nodes, 1 device, 64 connections, 25/50/80%", () => {
  const options = parseBenchArgs(["latency"], quiet);
  assert.deepEqual(options.fractions, [0.25, 0.5, 0.8]);
  assert.equal(options.nodes, 4);
  assert.equal(options.devices, 1);
  assert.equal(options.concurrency, 64);
  assert.deepEqual(options.systems, ["wsgw", "sio"]);
  // Other scenarios keep their defaults.
  assert.equal(parseBenchArgs(["push"], quiet).devices, 10);
  assert.equal(parseBenchArgs(["push"], quiet).concurrency, 600);
});

Deno.test("bench latency - --fractions outside (0, 1] is refused by name", () => {
  for (const bad of ["0", "1.5", "x", "0.5,,0.8"]) {
    assert.throws(
      () => parseBenchArgs(["latency", "--fractions", bad], quiet),
      {
        name: "RangeError",
        message: /--fractions: each must be a number in \(0, 1\]/,
      },
    );
  }
  assert.deepEqual(
    parseBenchArgs(["latency", "--fractions", "0.3,1"], quiet).fractions,
    [0.3, 1],
  );
});
