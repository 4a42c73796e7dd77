import assert from "node:assert/strict";
import { parseBenchArgs } from "../../ops/bench/options.ts";

const say = () => {};

Deno.test("bench options - hold defaults, and the time limit grows with the sockets", () => {
  const options = parseBenchArgs(
    ["hold", "--sockets", "100000", "--nodes", "100"],
    say,
  );
  assert.equal(options.holdMs, 60_000);
  assert.equal(options.pushRate, 20);
  assert.equal(
    options.clients,
    7,
    "15,000 sockets per process at 20,000 files",
  );
  assert.equal(options.timeLimitMs, 1_060_000);
  assert.equal(
    parseBenchArgs(["hold", "--time-limit", "30"], say).timeLimitMs,
    30_000,
  );
});

Deno.test("bench options - --client-nice takes an integer nice value", () => {
  assert.equal(parseBenchArgs(["storm"], say).clientNice, 0);
  assert.equal(
    parseBenchArgs(["storm", "--client-nice=-5"], say).clientNice,
    -5,
  );
  assert.throws(
    () => parseBenchArgs(["storm", "--client-nice", "3.5"], say),
    /--client-nice must be an integer from -20 to 19, got "3.5"/,
  );
});
