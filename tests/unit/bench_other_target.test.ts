import assert from "node:assert/strict";
import { otherTarget } from "../../ops/bench/other_target.ts";

Deno.test("other target - never the current node, every other one reachable", () => {
  for (let current = 0; current < 4; current++) {
    const seen = new Set<number>();
    for (const r of [0, 0.34, 0.67, 0.999]) {
      const next = otherTarget(current, 4, () => r);
      assert.notEqual(next, current);
      assert.ok(next >= 0 && next < 4);
      seen.add(next);
    }
    assert.equal(seen.size, 3, `from ${current}: ${[...seen]}`);
  }
});

Deno.test("other target - a single node is all there is", () => {
  assert.equal(otherTarget(0, 1, () => 0.5), 0);
});
