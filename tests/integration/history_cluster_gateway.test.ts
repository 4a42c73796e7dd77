/**
 * Gateways and a router (real processes) on a Redis Cluster
 * (`WSGW_REDIS=redis+cluster://…`): a push to users whose keys are on every
 * master is stored and delivered with a seq per user, a reconnect replays
 * from the cluster, and the processes are ready; with one master down, a
 * push says per user whether it was stored; a failover that lost pushes a
 * device already had reaches the device as a reset.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { MessageFrame } from "../../shared/protocol.ts";
import { startRedisCluster } from "../../ops/servers/redis_cluster.ts";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import {
  cutReplication,
  killAndTakeOver,
  shardOf,
} from "../_support/redis_cluster_shard.ts";
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
    await everyUserOnline(cluster, users);
    for (const n of [1, 2]) {
      const { status, body } = await api(cluster, "POST", "/v1/push", {
        users,
        data: { n },
      });
      assert.equal(status, 200, JSON.stringify(body));
      // Only the seqs: how many devices a push reached live is the
      // routing's business, and the messages are checked below.
      assert.deepEqual(
        body.results.map((r: { user: string; seq: number }) => [r.user, r.seq]),
        users.map((user) => [user, n]),
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

Deno.test("history cluster - one master down: a push is stored, with a seq, for the users of the other masters, and live-only for that master's users; the answer says which", async () => {
  // No replica takes over, and the other masters keep serving for the whole
  // test: the cluster marks the master failed only after the node timeout.
  await using redis = await startRedisCluster({
    manualFailover: true,
    nodeTimeout: 60_000,
  });
  await using cluster = await startTestCluster({
    nodes: 1,
    env: { WSGW_REDIS: redis.url },
  });
  const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
  const down = await shardOf(redis, `wsgw:{${users[0]}}:meta`);
  const onDown = new Set<string>();
  for (const user of users) {
    const { master } = await shardOf(redis, `wsgw:{${user}}:meta`);
    if (master.id === down.master.id) onDown.add(user);
  }
  // Some users on the master that goes down, and some elsewhere.
  assert.ok(onDown.size > 0 && onDown.size < users.length, `${onDown.size}`);

  const clients = new Map<string, TestClient>();
  try {
    for (const user of users) {
      clients.set(user, (await connect(cluster, 0, user)).client);
    }
    await everyUserOnline(cluster, users);
    await redis.kill(down.master.port);

    const { status, body } = await api(cluster, "POST", "/v1/push", {
      users,
      data: "during",
    });
    assert.equal(status, 200, JSON.stringify(body));
    // Before the fix every seq was null: one master's failure failed the
    // whole append, although the other masters had stored their users'.
    assert.deepEqual(
      body.results.map((r: { user: string; seq: number | null }) => [
        r.user,
        r.seq,
      ]),
      users.map((user) => [user, onDown.has(user) ? null : 1]),
    );
    assert.equal(body.stored, false);
    for (const [user, client] of clients) {
      const [message] = await client.waitMessages(1);
      assert.equal(message!.data, "during", user);
      assert.equal(message!.seq, onDown.has(user) ? undefined : 1, user);
    }
    // The stored copies are in history: a new device of such a user, from
    // seq 0, is replayed seq 1.
    const kept = users.find((user) => !onDown.has(user))!;
    const { client: late, welcome } = await connect(cluster, 0, kept, {
      device: "late",
      since: 0,
    });
    clients.set("late", late);
    assert.equal(welcome.seq, 1);
    assert.deepEqual(
      (await late.waitMessages(1)).map((m) => [m.seq, m.data]),
      [[1, "during"]],
    );
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
  }
});

Deno.test("history cluster - a failover that lost pushes a device already had: the device gets a reset and the next push, not silence", async () => {
  await using redis = await startRedisCluster({ manualFailover: true });
  await using cluster = await startTestCluster({
    nodes: 1,
    env: { WSGW_REDIS: redis.url },
  });
  const meta = "wsgw:{alice}:meta";
  const shard = await shardOf(redis, meta);
  const { client } = await connect(cluster, 0, "alice");
  const onReplica = new Redis({ port: shard.replica.port, lazyConnect: true });
  try {
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/alice/presence")).body.online,
      { what: "alice online at the router" },
    );
    const push = async (data: unknown) => {
      const { status, body } = await api(cluster, "POST", "/v1/push", {
        users: ["alice"],
        data,
      });
      assert.equal(status, 200, JSON.stringify(body));
      return body.results[0].seq as number | null;
    };
    for (let n = 1; n <= 5; n++) assert.equal(await push({ n }), n);
    await onReplica.connect();
    await onReplica.readonly();
    await waitFor(async () => await onReplica.hget(meta, "seq") === "5", {
      what: "the replica to hold seq 5",
    });

    {
      await using cut = await cutReplication(redis, shard);
      for (let n = 6; n <= 8; n++) assert.equal(await push({ n }), n);
      assert.deepEqual(
        (await client.waitMessages(8)).map((m) => m.seq),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.equal(await onReplica.hget(meta, "seq"), "5");
      await killAndTakeOver(redis, shard);
      await cut.heal();
    }

    // Seqs 6-8 are gone from the new master. The next push must not reuse
    // them: the device, which had them, would drop it as a duplicate.
    const seq = await waitFor(
      async () => (await push("after")) ?? undefined,
      { timeout: 15_000, interval: 200, what: "a stored push" },
    );
    // Before the check it got seq 6 of the old epoch, and nothing came.
    await client.next((f) => f.type === "message" && f.data === "after");
    assert.equal(seq, 1);
    const after = client.frames.slice(
      client.frames.findIndex((f) => f.type === "message" && f.seq === 8) + 1,
    );
    assert.deepEqual(after.map((f) => f.type), ["reset", "message"]);
    assert.equal((after[1] as MessageFrame).seq, 1);
  } finally {
    onReplica.disconnect();
    await client.close();
  }
});

/** Waits until the router's presence says every one of `users` is online. */
async function everyUserOnline(
  cluster: Parameters<typeof api>[0],
  users: readonly string[],
): Promise<void> {
  await waitFor(
    async () =>
      (await Promise.all(
        users.map(async (user) =>
          (await api(cluster, "GET", `/v1/users/${user}/presence`)).body.online
        ),
      )).every(Boolean),
    { what: "every user online at the router" },
  );
}
