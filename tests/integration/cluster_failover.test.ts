/**
 * A real cluster losing and restarting processes: a gateway killed with
 * SIGKILL, a gateway restarted right after a crash, a router restarted over
 * a big registry with history in Redis.
 */
import assert from "node:assert/strict";
import {
  api,
  connect,
  metric,
  ownersInEtcd,
  startTestCluster,
} from "../_support/cluster.ts";
import { bulkLoadUsers } from "../../ops/servers/etcd_bulk.ts";
import { waitFor } from "../_support/until.ts";
import type { TestClient } from "../_support/ws_client.ts";

/** Forward requests a router counted as failed, whatever the reason. */
async function failedForwards(router: string): Promise<number> {
  let sum = 0;
  for (const status of ["timeout", "connection", "overloaded", "http_5xx"]) {
    sum += await metric(router, "wsgw_forward_requests_total", { status });
  }
  return sum;
}

Deno.test("cluster - kill -9 of a node: its keys vanish within the lease TTL and the router stops routing to it", async () => {
  const leaseTtl = 2;
  await using cluster = await startTestCluster({ nodes: 2, leaseTtl });
  const clients: TestClient[] = [];
  try {
    const survivor =
      (await connect(cluster, 0, "dave", { device: "a" })).client;
    clients.push(survivor);
    clients.push((await connect(cluster, 1, "dave", { device: "b" })).client);
    clients.push((await connect(cluster, 1, "erin")).client);
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/dave/presence")).body.devices
          .length === 2,
      { what: "dave's two devices at the router" },
    );

    const pid = cluster.gateways[1]!.pid!;
    await cluster.killGateway(1);
    const killedAt = Date.now();
    assert.equal(cluster.gateways[1]!.running, false);
    await waitFor(
      async () =>
        (await ownersInEtcd(cluster, "dave")).join() === "gw-1" &&
        (await ownersInEtcd(cluster, "erin")).length === 0,
      {
        timeout: leaseTtl * 1000 + 2000,
        interval: 50,
        what: `gw-2's keys to vanish (pid ${pid} killed)`,
      },
    );
    const vanishedMs = Date.now() - killedAt;
    // The lease runs out at most a TTL after the kill (the last keep-alive
    // was before it); etcd checks expiry every 500 ms and then commits the
    // revoke: allow for that tick and a busy machine.
    assert.ok(
      vanishedMs <= leaseTtl * 1000 + 1000,
      `keys vanished ${vanishedMs} ms after the kill (TTL ${leaseTtl} s)`,
    );
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/nodes")).body.map((
          n: { nodeId: string },
        ) => n.nodeId).join() === "gw-1",
      {
        what: "the router to drop gw-2 from /v1/nodes",
      },
    );

    const failedBefore = await failedForwards(cluster.router);
    const dave = await api(cluster, "POST", "/v1/push", {
      users: ["dave", "erin"],
      data: "after the crash",
    });
    assert.equal(dave.status, 200);
    assert.deepEqual(
      dave.body.results.map((r: { devices: number }) => r.devices),
      [1, 0],
    );
    await survivor.next((f) =>
      f.type === "message" && f.data === "after the crash"
    );
    assert.equal(
      await failedForwards(cluster.router),
      failedBefore,
      "no request went to the dead node",
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

Deno.test("cluster - a gateway restarted right after a crash rejoins once its old lease expires", async () => {
  // Long enough that the old lease outlives the new process's start, which
  // took over 2 s on a busy machine (the old record was gone by then).
  const leaseTtl = 6;
  await using cluster = await startTestCluster({ nodes: 2, leaseTtl });
  const gateway = cluster.gateways[1]!;
  const { client: before } = await connect(cluster, 1, "fay");
  await cluster.killGateway(1);
  await before.closed;
  // Same node id, while the old record still holds it.
  const began = Date.now();
  await gateway.start();
  assert.ok(Date.now() - began <= (leaseTtl + 4) * 1000);
  assert.match(gateway.tail(), /node id still registered/);
  const { client, welcome } = await connect(cluster, 1, "fay");
  try {
    assert.equal(welcome.nodeId, "gw-2");
    assert.deepEqual(await ownersInEtcd(cluster, "fay"), ["gw-2"]);
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/fay/presence")).body.online,
      {
        what: "fay online at the router again",
      },
    );
    const { body } = await api(cluster, "POST", "/v1/push", {
      users: ["fay"],
      data: "back",
    });
    assert.equal(body.results[0].devices, 1);
    await client.next((f) => f.type === "message" && f.data === "back");
  } finally {
    await client.close();
  }
});

Deno.test("cluster - a restarted router rebuilds its route cache from 5,000 mappings and history survives it", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const router = cluster.routers[0]!;
  await bulkLoadUsers(cluster.etcd.url, {
    prefix: cluster.etcdPrefix,
    count: 5000,
  });
  const first = await connect(cluster, 0, "gus");
  for (let n = 1; n <= 3; n++) {
    await api(cluster, "POST", "/v1/push", { users: ["gus"], data: n });
  }
  await first.client.waitMessages(3);
  await first.client.close();
  await waitFor(async () => (await ownersInEtcd(cluster, "gus")).length === 0, {
    what: "gus offline",
  });
  for (let n = 4; n <= 5; n++) {
    await api(cluster, "POST", "/v1/push", { users: ["gus"], data: n });
  }

  await router.restart();
  assert.equal(await metric(router.url, "wsgw_route_cache_entries"), 5000);
  const loaded = /route cache loaded.*"entries":(\d+)/.exec(router.tail());
  assert.equal(loaded?.[1], "5000");

  const history = await api(cluster, "GET", "/v1/users/gus/messages?since=3");
  assert.deepEqual(
    history.body.messages.map((
      m: { seq: number; data: number },
    ) => [m.seq, m.data]),
    [[4, 4], [5, 5]],
  );
  const again = await connect(cluster, 0, "gus", {
    since: 3,
    epoch: first.welcome.epoch,
  });
  try {
    assert.equal(again.welcome.recovered, true);
    assert.equal(again.welcome.seq, 5);
    assert.deepEqual((await again.client.waitMessages(2)).map((m) => m.seq), [
      4,
      5,
    ]);
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/gus/presence")).body.online,
      {
        what: "gus online at the restarted router",
      },
    );
    const { body } = await api(cluster, "POST", "/v1/push", {
      users: ["gus"],
      data: 6,
    });
    assert.deepEqual(body.results, [{ user: "gus", seq: 6, devices: 1 }]);
    assert.deepEqual((await again.client.waitMessages(3)).map((m) => m.seq), [
      4,
      5,
      6,
    ]);
  } finally {
    await again.client.close();
  }
});

Deno.test("cluster - etcd and Redis restart on the same ports and data; the cluster recovers", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const gateway = cluster.gateways[0]!;
  const { client } = await connect(cluster, 0, "hal");
  try {
    await api(cluster, "POST", "/v1/push", { users: ["hal"], data: 1 });
    await client.waitMessages(1);
    const ready = async (url: string) => {
      const response = await fetch(`${url}/readyz`);
      await response.body?.cancel();
      return response.status === 200;
    };

    const etcdUrl = cluster.etcd.url;
    await cluster.stopEtcd();
    await waitFor(async () => !await ready(gateway.url), {
      what: "the gateway to report etcd down",
    });
    await cluster.startEtcd();
    assert.equal(cluster.etcd.url, etcdUrl);
    await waitFor(() => ready(gateway.url), {
      what: "the gateway to be ready again",
    });
    // Same data dir: the node kept its lease (or re-registered) and hal.
    await waitFor(
      async () => (await ownersInEtcd(cluster, "hal")).join() === "gw-1",
      {
        what: "hal registered again",
      },
    );

    await cluster.stopRedis();
    await cluster.startRedis();
    await waitFor(() => ready(cluster.router), {
      what: "the router to be ready again",
    });
    // The append-only file in the same dir kept the history.
    const history = await api(cluster, "GET", "/v1/users/hal/messages");
    assert.deepEqual(
      history.body.messages.map((m: { seq: number }) => m.seq),
      [1],
    );
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/hal/presence")).body.online,
      {
        what: "hal online at the router",
      },
    );
    const { body } = await api(cluster, "POST", "/v1/push", {
      users: ["hal"],
      data: 2,
    });
    assert.deepEqual(body.results, [{ user: "hal", seq: 2, devices: 1 }]);
    assert.deepEqual((await client.waitMessages(2)).map((m) => m.seq), [1, 2]);
  } finally {
    await client.close();
  }
});
