/**
 * The `code` label of `wsgw_disconnects_total`: every close code wsgw itself
 * sends has a series of its own; any other code a client picks is "other".
 */
import assert from "node:assert/strict";
import { closeCodeLabel } from "../../gateway/metrics.ts";
import { CLOSE } from "../../shared/protocol.ts";

Deno.test("gateway metrics - every close code of shared/protocol.ts has its own disconnect label", () => {
  for (const [name, { code }] of Object.entries(CLOSE)) {
    assert.equal(closeCodeLabel(code), String(code), name);
  }
});

Deno.test("gateway metrics - standard close codes keep their label; a code a client picks is 'other'", () => {
  for (const code of [1000, 1001, 1005, 1006, 1009, 1011]) {
    assert.equal(closeCodeLabel(code), String(code));
  }
  for (const code of [3000, 4000, 4999, 1003]) {
    assert.equal(closeCodeLabel(code), "other");
  }
});
