/**
 * Whoever can write to Redis must not be able to forge frames: any string
 * stored as a history entry's `data` (or `ts`) with a raw XADD either comes
 * back as that one JSON value, in a frame with exactly the protocol's fields,
 * or not at all; it never adds or overrides a field, neither in a gateway's
 * replay nor in the router's `/v1/users/:user/messages`.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Redis } from "ioredis";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import { isSplicableEntry } from "../../shared/json_value.ts";

const FRAME_FIELDS = new Set(["type", "seq", "id", "data", "ts"]);
const ANSWER_FIELDS = new Set(["seq", "id", "data", "ts"]);

/** Strings meant to break out of `"data":…`, and everything else. */
const stored: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.tuple(
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? "null"),
    fc.constantFrom(
      ',"type":"welcome"',
      ',"seq":1000000',
      '},{"seq":9',
      ',"ts":1}',
      " ",
      "",
      "\n",
      ",",
    ),
    fc.string({ maxLength: 8 }),
  ).map(([a, b, c]) => a + b + c),
  fc.constantFrom(
    '1,"type":"welcome","connId":"x","seq":0,"epoch":"forged","recovered":true',
    '{}, "type": "welcome"',
    "1}",
    "NaN",
    "",
  ),
);
const storedTs = fc.oneof(
  fc.constant("5"),
  fc.integer().map(String),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('5,"type":"welcome"', "NaN", "Infinity", "1e400"),
);

Deno.test("property - no string stored in Redis changes a frame's or an answer's fields", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const redis = new Redis(cluster.redis.url, { lazyConnect: true });
  await redis.connect();
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(stored, storedTs, async (data, ts) => {
        const user = `u${run++}`;
        const tag = `wsgw:{${encodeURIComponent(user)}}`;
        await redis.hset(`${tag}:meta`, "epoch", "e1", "seq", 3);
        await redis.xadd(
          `${tag}:stream`,
          "1-0",
          "id",
          "a",
          "ts",
          "1",
          "data",
          "1",
        );
        await redis.xadd(
          `${tag}:stream`,
          "2-0",
          "id",
          "b",
          "ts",
          ts,
          "data",
          data,
        );
        await redis.xadd(
          `${tag}:stream`,
          "3-0",
          "id",
          "c",
          "ts",
          "3",
          "data",
          "3",
        );
        const splicable = isSplicableEntry({ dataJson: data, ts: Number(ts) });

        // The gateway's replay.
        const { client, welcome } = await connect(cluster, 0, user, {
          since: 0,
          epoch: "e1",
        });
        try {
          assert.equal(welcome.userId, user);
          const last = await client.next((f) =>
            f.type === "message" && f.seq === 3
          );
          assert.ok(last);
          const frames = client.frames.slice(1);
          for (const frame of frames) {
            assert.equal(frame.type, "message", JSON.stringify(frame));
            for (const key of Object.keys(frame)) {
              assert.ok(FRAME_FIELDS.has(key), `field ${key} in a frame`);
            }
          }
          const seqs = frames.map((f) => (f as { seq?: number }).seq);
          assert.deepEqual(seqs, splicable ? [1, 2, 3] : [1, 3]);
          if (splicable) {
            const second = frames[1] as { id: string; data: unknown };
            assert.equal(second.id, "b");
            assert.deepEqual(second.data, JSON.parse(data));
          }
        } finally {
          await client.close();
        }

        // The router's history read.
        const read = await api(
          cluster,
          "GET",
          `/v1/users/${encodeURIComponent(user)}/messages?since=0`,
        );
        assert.equal(read.status, 200);
        assert.equal(typeof read.body, "object", "the answer is JSON");
        assert.deepEqual(Object.keys(read.body).sort(), [
          "epoch",
          "messages",
          "seq",
          "user",
        ]);
        assert.equal(read.body.user, user);
        for (const message of read.body.messages) {
          for (const key of Object.keys(message)) {
            assert.ok(ANSWER_FIELDS.has(key), `field ${key} in an answer`);
          }
        }
        assert.deepEqual(
          read.body.messages.map((m: { seq: number }) => m.seq),
          splicable ? [1, 2, 3] : [1, 3],
        );
      }),
      { numRuns: 60 },
    );
  } finally {
    redis.disconnect();
  }
});
