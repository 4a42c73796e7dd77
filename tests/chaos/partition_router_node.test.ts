/**
 * A router cut off from one gateway's internal port (iptables DROP on
 * loopback) while pushes flow: its deliveries to that node time out, the
 * pushes are stored, and once the partition heals every open connection
 * there gets every message once and in order, with no further push.
 */
import assert from "node:assert/strict";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import { dropTcpTo } from "../_support/net_fault.ts";
import { waitFor } from "../_support/until.ts";

const USERS = ["p0", "p1", "p2", "p3"];
const PUSHES = 12;

Deno.test("partition - router cut off from a gateway's internal port: nothing lost once it heals", async () => {
  await using cluster = await startTestCluster({ nodes: 2 });
  // A user's first connection on a node looks in history once, a second
  // after it registers; the second connections, watched here, do not.
  const firsts = await Promise.all(
    USERS.map(async (user, i) => (await connect(cluster, i % 2, user)).client),
  );
  const clients = await Promise.all(
    USERS.map(async (user, i) => (await connect(cluster, i % 2, user)).client),
  );
  try {
    const cutOff = cluster.gateways[0]!;
    const fault = await dropTcpTo(Number(new URL(cutOff.internalUrl).port));
    try {
      const answers = await Promise.all(
        Array.from(
          { length: PUSHES },
          (_, n) =>
            api(cluster, "POST", "/v1/push", {
              users: USERS,
              data: { n },
              id: `part-${n}`,
            }),
        ),
      );
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body.unreachable, [cutOff.nodeId]);
      }
      // The other node's clients got everything live meanwhile.
      for (const [i, client] of clients.entries()) {
        if (i % 2 === 1) await client.waitMessages(PUSHES);
        else assert.equal(client.messages().length, 0);
      }
    } finally {
      await fault.heal();
    }
    const healed = Date.now();
    for (const client of clients) {
      await waitFor(() => client.messages().length >= PUSHES, {
        timeout: 15_000,
        what: "every stored push after the partition healed",
      });
    }
    // deno-lint-ignore no-console
    console.log(
      `partition: every push on every connection ${
        Date.now() - healed
      } ms after the heal`,
    );
    for (const client of clients) {
      assert.deepEqual(
        client.messages().map((m) => m.seq),
        Array.from({ length: PUSHES }, (_, n) => n + 1),
      );
      assert.equal(new Set(client.messages().map((m) => m.id)).size, PUSHES);
    }
  } finally {
    await Promise.all([...firsts, ...clients].map((c) => c.close()));
  }
});
