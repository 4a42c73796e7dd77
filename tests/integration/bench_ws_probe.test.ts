/**
 * The WebSocket round-trip probe (ops/bench/ws_client_probe.ts) runs and
 * reports one line per size; what the figures are depends on the Deno
 * version and is in docs/BENCHMARKS.md.
 *
 * @module
 */
import assert from "node:assert/strict";

const PROBE = new URL("../../ops/bench/ws_client_probe.ts", import.meta.url)
  .pathname;

Deno.test("bench - the WebSocket client probe reports a round trip per message size", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE, "--sizes", "100,2000", "--rounds", "5"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n")
    .map((line) => JSON.parse(line));
  assert.deepEqual(lines.map((l) => l.size), [100, 2000]);
  for (const line of lines) {
    assert.equal(line.rounds, 5);
    assert.ok(line.p50Ms > 0 && line.p50Ms <= line.p99Ms);
    assert.ok(line.p99Ms <= line.maxMs);
  }
});

Deno.test("bench - the WebSocket client probe refuses a bad flag value", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE, "--sizes", "0"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 2);
  assert.match(new TextDecoder().decode(output.stderr), /usage:/);
});
