/**
 * A real cluster (child processes: etcd, redis-server, gateways, routers):
 * pushes reach every device of a user once and only the nodes that hold it;
 * the registry follows connects and disconnects; routers agree.
 */
import assert from "node:assert/strict";
import {
  api,
  connect,
  metric,
  ownersInEtcd,
  startTestCluster,
} from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";
import type { TestClient } from "../_support/ws_client.ts";

Deno.test("cluster - a user with devices on three nodes gets each push exactly once per device", async () => {
  await using cluster = await startTestCluster({ nodes: 3 });
  const opened = await Promise.all(
    [0, 1, 2].map((i) => connect(cluster, i, "alice", { device: `d${i}` })),
  );
  const devices = opened.map((o) => o.client);
  try {
    assert.deepEqual(opened.map((o) => o.welcome.nodeId), [
      "gw-1",
      "gw-2",
      "gw-3",
    ]);
    assert.deepEqual(await ownersInEtcd(cluster, "alice"), [
      "gw-1",
      "gw-2",
      "gw-3",
    ]);
    // The router learns the mappings through its watch.
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/alice/presence")).body.devices
          .length === 3,
      { what: "presence of alice's three devices" },
    );

    for (let n = 1; n <= 5; n++) {
      const { status, body } = await api(cluster, "POST", "/v1/push", {
        users: ["alice"],
        data: { n },
      });
      assert.equal(status, 200);
      assert.deepEqual(body.results, [{ user: "alice", seq: n, devices: 3 }]);
    }
    for (const client of devices) {
      const messages = await client.waitMessages(5);
      assert.deepEqual(messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual(
        messages.map((m) => m.data),
        [1, 2, 3, 4, 5].map((n) => ({ n })),
      );
    }
    // A last push: anything duplicated would have arrived before it.
    await api(cluster, "POST", "/v1/push", { users: ["alice"], data: "end" });
    for (const client of devices) {
      await client.next((f) => f.type === "message" && f.data === "end");
      assert.deepEqual(client.messages().map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
    }
  } finally {
    await Promise.all(devices.map((c) => c.close()));
  }
});

Deno.test("cluster - a push to a user on one node leaves the other nodes' request counters unchanged", async () => {
  await using cluster = await startTestCluster({ nodes: 3 });
  const { client } = await connect(cluster, 1, "bob");
  try {
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/bob/presence")).body.online,
      {
        what: "bob online at the router",
      },
    );
    const counters = () =>
      Promise.all(
        cluster.gateways.map((g) =>
          metric(g.internalUrl, "wsgw_node_requests_total")
        ),
      );
    const before = await counters();
    for (let i = 0; i < 3; i++) {
      const { body } = await api(cluster, "POST", "/v1/push", {
        users: ["bob"],
        data: i,
      });
      assert.equal(body.results[0].devices, 1);
    }
    await client.waitMessages(3);
    const after = await counters();
    assert.deepEqual(
      after.map((value, i) => value - before[i]!),
      [0, 3, 0],
      "only gw-2, which holds bob, got deliver requests",
    );
  } finally {
    await client.close();
  }
});

Deno.test("cluster - keys appear on connect and vanish within a second of the last disconnect", async () => {
  await using cluster = await startTestCluster({ nodes: 2 });
  const user = "carol/with slash and 🎈";
  const first = (await connect(cluster, 1, user, { device: "a" })).client;
  let second: TestClient | undefined;
  try {
    // Registered before the welcome (connect flow: register → welcome).
    assert.deepEqual(await ownersInEtcd(cluster, user), ["gw-2"]);
    second = (await connect(cluster, 1, user, { device: "b" })).client;
    await first.close();
    // One connection is left: the key stays.
    const stillThere = await ownersInEtcd(cluster, user);
    assert.deepEqual(stillThere, ["gw-2"]);

    await second.close();
    const closedAt = Date.now();
    await waitFor(
      async () => (await ownersInEtcd(cluster, user)).length === 0,
      {
        timeout: 1000,
        what: "the user key to vanish within a second",
      },
    );
    assert.ok(Date.now() - closedAt <= 1000);
  } finally {
    await first.close();
    await second?.close();
  }
});

Deno.test("cluster - two routers answer the same presence and nodes", async () => {
  await using cluster = await startTestCluster({ nodes: 2, routers: 2 });
  const opened = await Promise.all([
    connect(cluster, 0, "dora", { device: "phone" }),
    connect(cluster, 1, "dora", { device: "laptop" }),
  ]);
  try {
    const [one, two] = cluster.routers.map((r) => r.url);
    const presence = async (base: string) =>
      (await api(cluster, "GET", "/v1/users/dora/presence", undefined, base))
        .body;
    await waitFor(async () =>
      (await presence(one!)).devices.length === 2 &&
      (await presence(two!)).devices.length === 2, {
      what: "both routers to see dora's two devices",
    });
    assert.deepEqual(await presence(one!), await presence(two!));
    const nodes = async (base: string) =>
      (await api(cluster, "GET", "/v1/nodes", undefined, base)).body;
    const fromOne = await nodes(one!);
    assert.deepEqual(fromOne.map((n: { nodeId: string }) => n.nodeId), [
      "gw-1",
      "gw-2",
    ]);
    assert.deepEqual(await nodes(two!), fromOne);

    // A push through either router reaches both devices, with one seq line.
    const a = await api(cluster, "POST", "/v1/push", {
      users: ["dora"],
      data: 1,
    }, one);
    const b = await api(cluster, "POST", "/v1/push", {
      users: ["dora"],
      data: 2,
    }, two);
    assert.deepEqual([a.body.results[0], b.body.results[0]], [
      { user: "dora", seq: 1, devices: 2 },
      { user: "dora", seq: 2, devices: 2 },
    ]);
    for (const { client } of opened) {
      assert.deepEqual((await client.waitMessages(2)).map((m) => m.seq), [
        1,
        2,
      ]);
    }
  } finally {
    await Promise.all(opened.map((o) => o.client.close()));
  }
});
