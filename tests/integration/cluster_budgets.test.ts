/**
 * Per-API-key budgets on a real router: one key over its requests or bytes
 * per second gets 429 with Retry-After while other keys are served; a push
 * whose data times users is over WSGW_MAX_PUSH_BYTES is refused whole; and a
 * full Redis (maxmemory, noeviction) is named as such in answers and logs.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { connect, startTestCluster } from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";

const KEY_A = "key-a-0123456789abcdef0123";
const KEY_B = "key-b-0123456789abcdef0123";
const KEY_C = "key-c-0123456789abcdef0123";

Deno.test("cluster budgets - per-key request and byte budgets, a users × bytes cap, and a full Redis named as such", async () => {
  const lines: string[] = [];
  await using cluster = await startTestCluster({
    nodes: 1,
    apiKey: `${KEY_A},${KEY_B},${KEY_C}`,
    env: {
      WSGW_KEY_REQUEST_RATE: "5",
      // Slow refills (two pushes' worth takes ~2 s to come back), so the
      // test does not depend on how fast this machine answers.
      WSGW_KEY_BYTE_RATE: "60000",
      WSGW_MAX_PUSH_BYTES: "120000",
    },
    onLine: (_name, line) => lines.push(line),
  });
  const call = async (
    key: string,
    method: string,
    path: string,
    body?: unknown,
  ) => {
    const response = await fetch(`${cluster.router}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      // deno-lint-ignore no-explicit-any
      body: await response.json() as any,
    };
  };

  // Requests: A floods, C is served meanwhile.
  const flood = await Promise.all(
    Array.from(
      { length: 30 },
      () => call(KEY_A, "GET", "/v1/users/alice/presence"),
    ),
  );
  const limited = flood.filter((r) => r.status === 429);
  assert.ok(limited.length >= 15, `${limited.length} of 30 limited`);
  assert.equal(limited[0]!.body.error.code, "rate_limited");
  assert.match(limited[0]!.body.error.message, /WSGW_KEY_REQUEST_RATE/);
  assert.ok(Number(limited[0]!.retryAfter) >= 1, "Retry-After");
  assert.equal(
    (await call(KEY_C, "GET", "/v1/users/alice/presence")).status,
    200,
  );

  // Bytes: data × users.
  const data = "x".repeat(59_000);
  const tooBig = await call(KEY_B, "POST", "/v1/push", {
    users: ["u1", "u2", "u3"],
    data,
  });
  assert.equal(tooBig.status, 413);
  assert.match(tooBig.body.error.message, /WSGW_MAX_PUSH_BYTES/);
  const first = await call(KEY_B, "POST", "/v1/push", {
    users: ["u1", "u2"],
    data,
  });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const second = await call(KEY_B, "POST", "/v1/push", {
    users: ["u1", "u2"],
    data,
  });
  assert.equal(second.status, 429);
  assert.match(second.body.error.message, /WSGW_KEY_BYTE_RATE/);
  assert.ok(Number(second.retryAfter) >= 1);
  const other = await call(KEY_C, "POST", "/v1/push", {
    users: ["u1", "u2"],
    data,
  });
  assert.equal(other.status, 200, "another key has its own bytes");

  // A full Redis: pushes are delivered live and answer stored: false, and
  // the router's log says why in so many words.
  const redis = new Redis(cluster.redis.url);
  try {
    await redis.config("SET", "maxmemory-policy", "noeviction");
    await redis.config("SET", "maxmemory", "1");
    const { client } = await connect(cluster, 0, "alice").catch(() => ({
      client: undefined,
    }));
    const pushed = await call(KEY_C, "POST", "/v1/push", {
      users: ["alice"],
      data: 1,
    });
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
    assert.equal(pushed.body.stored, false);
    await waitFor(
      () => lines.some((l) => l.includes("Redis is full (maxmemory reached")),
      { what: "a log line naming the full Redis" },
    );
    await client?.close();
    await redis.config("SET", "maxmemory", "0");
  } finally {
    redis.disconnect();
  }
});
