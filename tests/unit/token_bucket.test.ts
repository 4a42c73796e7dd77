import assert from "node:assert/strict";
import { TokenBucket } from "../../shared/token_bucket.ts";

Deno.test("token bucket - a full bucket allows a burst, then the rate", () => {
  let now = 0;
  const bucket = new TokenBucket({ rate: 2, burst: 4, now: () => now });
  assert.deepEqual(Array.from({ length: 5 }, () => bucket.take()), [
    true,
    true,
    true,
    true,
    false,
  ]);
  now += 500; // half a second: one token back
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  assert.equal(bucket.full, false);
  now += 10_000;
  assert.equal(bucket.full, true);
  assert.equal(bucket.take(), true);
});
