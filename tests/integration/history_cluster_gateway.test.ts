/**
 * Gateways and a router (real processes) on a Redis Cluster
 * (`WSGW_REDIS=redis+cluster://…`): a push to users whose keys are on every
 * master is stored and delivered with a seq per user, a reconnect replays
 * from the cluster, and the processes are ready.
 */
import assert from "node:assert/strict";
import { startRedisCluster } from "../../ops/servers/redis_cluster.ts";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";
import type { TestClient } from "../_support/ws_client.ts";

Deno.test("history cluster - gateways and a router on a Redis Cluster store, deliver and replay a push to users on every master", async () => {
  await using redis = await startRedisCluster();
  await using cluster = await startTestCluster({
    nodes: 2,
    env: { WSGW_REDIS: redis.url },
  });
  const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
  // 12 users land on all three masters (checked below from the cluster).
  const slots = await Promise.all(
    users.map((user) =>
      redis.cli(redis.ports[0]!, "CLUSTER", "KEYSLOT", `wsgw:{${user}}:meta`)
    ),
  );
  const masters = (await redis.nodes()).filter((n) => n.role === "master");
  const served = new Set(
    slots.map((slot) =>
      masters.find((m) =>
        m.slots.some(([a, b]) => a <= Number(slot) && Number(slot) <= b)
      )!.id
    ),
  );
  assert.equal(served.size, 3);

  const clients: TestClient[] = [];
  try {
    for (const [i, user] of users.entries()) {
      clients.push((await connect(cluster, i % 2, user)).client);
    }
    for (
      const base of [
        cluster.router,
        ...cluster.gateways.map((g) => g.url),
      ]
    ) {
      assert.equal((await fetch(`${base}/readyz`)).status, 200, base);
    }
    await waitFor(
      async () =>
        (await Promise.all(
          users.map(async (user) =>
            (await api(cluster, "GET", `/v1/users/${user}/presence`)).body
              .online
          ),
        )).every(Boolean),
      { what: "every user online at the router" },
    );
    for (const n of [1, 2]) {
      const { status, body } = await api(cluster, "POST", "/v1/push", {
        users,
        data: { n },
      });
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(
        body.results,
        users.map((user) => ({ user, seq: n, devices: 1 })),
      );
    }
    // Stored in the cluster, not in the launcher's own redis-server.
    for (const user of users) {
      assert.equal(
        await redis.cli(
          redis.ports[0]!,
          "-c",
          "HGET",
          `wsgw:{${user}}:meta`,
          "seq",
        ),
        "2",
      );
    }
    for (const client of clients) {
      const messages = await client.waitMessages(2);
      assert.deepEqual(messages.map((m) => [m.seq, m.data]), [
        [1, { n: 1 }],
        [2, { n: 2 }],
      ]);
    }
    // A second device of the last user, from seq 0: replayed from the cluster.
    const { client: late, welcome } = await connect(cluster, 0, users[11]!, {
      device: "late",
      since: 0,
    });
    clients.push(late);
    assert.equal(welcome.seq, 2);
    const replayed = await late.waitMessages(2);
    assert.deepEqual(replayed.map((m) => m.seq), [1, 2]);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});
