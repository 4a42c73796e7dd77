/**
 * User isolation as a property of a real cluster (3 gateway nodes, 2
 * routers, etcd, Redis): users with devices spread over the nodes, random
 * pushes through either router; every device gets exactly its user's
 * messages, once each, in order, and nothing addressed to anyone else.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import type { TestClient } from "../_support/ws_client.ts";

Deno.test("property - cluster: across users, nodes and random pushes, nobody sees another user's message", async () => {
  await using cluster = await startTestCluster({ nodes: 3, routers: 2 });
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
        { minLength: 2, maxLength: 4 },
      ),
      // Per user: the nodes its devices connect to.
      fc.array(
        fc.array(fc.integer({ min: 0, max: 2 }), {
          minLength: 1,
          maxLength: 3,
        }),
        {
          minLength: 4,
          maxLength: 4,
        },
      ),
      // Per push: which router, and picks of users.
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 1 }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        ),
        { minLength: 1, maxLength: 10 },
      ),
      async (names, placements, pushes) => {
        const users = names.map((name) => `c${run}:${name}`);
        run++;
        const devices: { user: string; client: TestClient }[] = [];
        try {
          for (const [i, user] of users.entries()) {
            for (const node of placements[i]!) {
              devices.push({
                user,
                client: (await connect(cluster, node, user)).client,
              });
            }
          }
          const sent = new Map(users.map((u) => [u, [] as number[]]));
          for (const [n, [router, picks]] of pushes.entries()) {
            const to = [...new Set(picks.map((p) => users[p % users.length]!))];
            const { status } = await api(
              cluster,
              "POST",
              "/v1/push",
              { users: to, data: n },
              cluster.routers[router]!.url,
            );
            assert.equal(status, 200);
            for (const user of to) sent.get(user)!.push(n);
          }
          // Once the last push (to everyone) arrives, every earlier one has:
          // a connection delivers its user's messages in seq order.
          await api(cluster, "POST", "/v1/push", { users, data: "end" });
          for (const { user, client } of devices) {
            await client.next(
              (f) => f.type === "message" && f.data === "end",
              10_000,
            );
            const got = client.messages().map((m) => m.data).filter((d) =>
              d !== "end"
            );
            assert.deepEqual(
              got,
              sent.get(user),
              `${user}: exactly its own messages`,
            );
            const seqs = client.messages().map((m) => m.seq!);
            assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
          }
        } finally {
          await Promise.all(devices.map(({ client }) => client.close()));
        }
      },
    ),
    { numRuns: 12 },
  );
});
