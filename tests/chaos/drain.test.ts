/**
 * Graceful drain across real processes, part by part: marked draining in
 * etcd, `/readyz` 503, no new clients, 1012 in paced batches, deliveries to
 * the clients still open, lease revoked (keys gone long before the TTL);
 * drained through the API the process stays up until stopped, then exits
 * at once; and a second SIGTERM during a drain exits at once.
 */
// deno-lint-ignore-file no-console
import assert from "node:assert/strict";
import {
  api,
  type Cluster,
  connect,
  metric,
  ownersInEtcd,
  startTestCluster,
} from "../_support/cluster.ts";
import { readyStatus, sleep, waitUntil } from "../_support/chaos_run.ts";
import { rawUpgrade, type TestClient } from "../_support/ws_client.ts";

/** Connects `users` to gateway `i` with raw recording clients. */
async function connectAll(
  cluster: Cluster,
  i: number,
  users: string[],
): Promise<TestClient[]> {
  const clients = await Promise.all(
    users.map(async (user) => (await connect(cluster, i, user)).client),
  );
  await waitUntil(
    async () =>
      await metric(cluster.router, "wsgw_route_cache_entries") >= users.length,
    20_000,
    "the router to know every user",
  );
  return clients;
}

async function askToDrain(
  cluster: Cluster,
  i: number,
  pace: { batch: number; intervalMs: number },
): Promise<number> {
  const response = await fetch(
    `${cluster.gateways[i]!.internalUrl}/internal/drain`,
    {
      method: "POST",
      headers: {
        authorization: `Bearer ${cluster.internalSecret}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(pace),
    },
  );
  await response.body?.cancel();
  return response.status;
}

Deno.test("drain - through the internal API: marked draining, not ready, refuses clients, closes in paced 1012 batches while delivering to the rest, revokes its lease", async () => {
  const exits: { name: string; code: number; expected: boolean }[] = [];
  // A long lease: keys gone within seconds prove a revoke, not an expiry.
  await using cluster = await startTestCluster({
    nodes: 2,
    leaseTtl: 10,
    onExit: (name, status, expected) =>
      exits.push({ name, code: status.code, expected }),
  });
  const users = Array.from({ length: 60 }, (_, i) => `d${i}`);
  const clients = await connectAll(cluster, 1, users);
  const closedAt = new Map<TestClient, number>();
  for (const c of clients) c.closed.then(() => closedAt.set(c, Date.now()));
  const gateway = cluster.gateways[1]!;
  try {
    const pace = { batch: 10, intervalMs: 400 };
    const began = Date.now();
    assert.equal(await askToDrain(cluster, 1, pace), 202);

    // Not ready, and marked draining where routers and operators look.
    await waitUntil(
      async () => await readyStatus(gateway.url) === 503,
      5000,
      "readyz 503",
    );
    const ready = await (await fetch(`${gateway.url}/readyz`)).json();
    assert.equal(ready.checks.node, "node is draining");
    await waitUntil(
      async () =>
        (await api(cluster, "GET", "/v1/nodes")).body.find((
          n: { nodeId: string },
        ) => n.nodeId === "gw-2")?.draining === true,
      5000,
      "gw-2 listed as draining",
    );
    const refused = await rawUpgrade(
      gateway.url,
      `/ws?token=${await cluster.token("late")}`,
    );
    assert.equal(refused.status, 503);

    // Push to every user while the batches go: the open ones still get them.
    const pushed: { at: number; devices: number }[] = [];
    while (clients.some((c) => !c.isClosed) && Date.now() - began < 20_000) {
      const { body } = await api(cluster, "POST", "/v1/push", {
        users,
        data: "during the drain",
      });
      pushed.push({
        at: Date.now(),
        devices: body.results.reduce(
          (sum: number, r: { devices: number }) => sum + r.devices,
          0,
        ),
      });
      await sleep(100);
    }
    const closes = await Promise.all(clients.map((c) => c.closed));
    assert.deepEqual(new Set(closes.map((c) => c.code)), new Set([1012]));

    // Paced: the close times fall into batches about `intervalMs` apart.
    const times = [...closedAt.values()].sort((a, b) => a - b);
    const batches = [[times[0]!]];
    for (const t of times.slice(1)) {
      if (t - batches.at(-1)!.at(-1)! > pace.intervalMs / 2) batches.push([t]);
      else batches.at(-1)!.push(t);
    }
    const span = times.at(-1)! - times[0]!;
    console.log(
      `drain: ${clients.length} clients closed in ${batches.length} batches (${
        batches.map((b) => b.length).join("/")
      }) over ${span} ms; ${pushed.length} pushes during it`,
    );
    assert.equal(batches.length, users.length / pace.batch);
    assert.ok(batches.every((b) => b.length === pace.batch));
    assert.ok(span >= (batches.length - 1) * pace.intervalMs * 0.9);

    // Clients of the last batch got pushes sent after the first batch left.
    const firstClose = times[0]!;
    const lastBatch = clients.filter((c) =>
      closedAt.get(c)! >= batches.at(-1)![0]!
    );
    for (const client of lastBatch) {
      const late = client.messages().filter((m) => m.ts > firstClose);
      assert.ok(late.length > 0, "a client still open got a late push");
    }
    assert.ok(
      pushed.some((p) => p.at > firstClose && p.devices > 0),
      "pushes after the first batch were handed to open clients",
    );

    // The lease is revoked at the end: keys go at once, not after 10 s.
    const lastClose = times.at(-1)!;
    await waitUntil(
      async () => (await ownersInEtcd(cluster, users[0]!)).length === 0,
      5000,
      "gw-2's keys gone",
    );
    assert.ok(Date.now() - lastClose < cluster.leaseTtl * 1000 - 2000);
    await waitUntil(
      async () =>
        !(await api(cluster, "GET", "/v1/nodes")).body.some((
          n: { nodeId: string },
        ) => n.nodeId === "gw-2"),
      5000,
      "gw-2 gone from /v1/nodes",
    );
    // Drained through the API it stays up, out of service, until stopped
    // (a supervisor would restart an exited process straight away).
    await sleep(500);
    assert.ok(gateway.running);
    assert.equal(await readyStatus(gateway.url), 503);
    const stopping = Date.now();
    await gateway.stop();
    assert.ok(Date.now() - stopping < 5000, "stopped at once");
    assert.deepEqual(exits.find((e) => e.name === "gw-2"), {
      name: "gw-2",
      code: 0,
      expected: true,
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

Deno.test("drain - SIGTERM during a slow drain waits for it; a second SIGTERM exits at once", async () => {
  const exits: { name: string; code: number }[] = [];
  await using cluster = await startTestCluster({
    nodes: 1,
    onExit: (name, status) => exits.push({ name, code: status.code }),
  });
  const users = Array.from({ length: 12 }, (_, i) => `s${i}`);
  const clients = await connectAll(cluster, 0, users);
  const gateway = cluster.gateways[0]!;
  const pid = gateway.pid!;
  try {
    assert.equal(
      await askToDrain(cluster, 0, { batch: 1, intervalMs: 1000 }),
      202,
    );
    await waitUntil(
      () => clients.filter((c) => c.isClosed).length >= 2,
      10_000,
      "two clients closed",
    );
    Deno.kill(pid, "SIGTERM");
    await sleep(1500);
    assert.ok(gateway.running, "the first SIGTERM waits for the drain");
    const open = clients.filter((c) => !c.isClosed).length;
    assert.ok(open >= 6, `${open} clients still open`);

    const second = Date.now();
    Deno.kill(pid, "SIGTERM");
    await waitUntil(
      () => !gateway.running,
      5000,
      "exit after a second SIGTERM",
    );
    const ms = Date.now() - second;
    console.log(
      `drain: second SIGTERM exited in ${ms} ms, ${open} clients left`,
    );
    assert.ok(ms < 3000, `exited ${ms} ms after the second SIGTERM`);
    assert.deepEqual(exits.find((e) => e.name === "gw-1"), {
      name: "gw-1",
      code: 130,
    });
    const codes = (await Promise.all(clients.map((c) => c.closed))).map((c) =>
      c.code
    );
    assert.ok(codes.filter((c) => c === 1012).length >= 2);
    assert.ok(codes.some((c) => c !== 1012), "the rest were cut off");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

Deno.test("drain - with etcd down: clients still get 1012 at once, and the process exits", async () => {
  const exits: { name: string; code: number }[] = [];
  await using cluster = await startTestCluster({
    nodes: 1,
    onExit: (name, status) => exits.push({ name, code: status.code }),
  });
  const users = Array.from({ length: 5 }, (_, i) => `e${i}`);
  const clients = await connectAll(cluster, 0, users);
  const gateway = cluster.gateways[0]!;
  try {
    await cluster.stopEtcd();
    const began = Date.now();
    const stopped = gateway.kill("SIGTERM");
    const closes = await Promise.all(clients.map((c) => c.closed));
    const closedMs = Date.now() - began;
    await stopped;
    const exitedMs = Date.now() - began;
    console.log(
      `drain with etcd down: clients closed after ${closedMs} ms, exit after ${exitedMs} ms`,
    );
    assert.deepEqual(new Set(closes.map((c) => c.code)), new Set([1012]));
    assert.ok(closedMs < 8000, `clients closed after ${closedMs} ms`);
    assert.deepEqual(exits.find((e) => e.name === "gw-1")?.code, 0);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});
