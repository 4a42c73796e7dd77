/**
 * Probes and node answers on real processes: a flood of `/readyz` and
 * `/metrics` requests pings Redis at most about once a second per process;
 * and a router passes on only well-formed answers of a node (a node that
 * answers presence with foreign connections, extra fields or markup, or
 * stats of the wrong shape, counts as unreachable).
 */
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import { Redis } from "ioredis";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";
import { NodeRecordCodec } from "../../shared/registry/node_record_codec.ts";

async function pings(redis: Redis): Promise<number> {
  const stats = await redis.info("commandstats");
  return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

Deno.test("probes - 300 concurrent /readyz and /metrics requests ping Redis about once a second, not once each", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const redis = new Redis(cluster.redis.url);
  try {
    // A cluster gateway serves /metrics on its internal port, /readyz on
    // its public one.
    const gateway = cluster.gateways[0]!;
    const url = (i: number, path: string) =>
      i % 2 === 1
        ? cluster.router
        : path === "metrics"
        ? gateway.internalUrl
        : gateway.url;
    const before = await pings(redis);
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) =>
          fetch(
            `${url(i, i % 3 === 0 ? "metrics" : "readyz")}/${
              i % 3 === 0 ? "metrics" : "readyz"
            }`,
          )
            .then(async (r) => {
              await r.body?.cancel();
              return r.status;
            }),
      ),
    );
    const seconds = Math.ceil((Date.now() - started) / 1000);
    // On a busy machine 300 requests at once can outlast a check's 2 s
    // deadline (503): still an answer from a shared ping, which is what
    // this test counts.
    assert.ok(
      statuses.every((s) => s === 200 || s === 503),
      String(statuses),
    );
    assert.ok(statuses.some((s) => s === 200), String(statuses));
    const used = (await pings(redis)) - before;
    // 2 processes × (readyz + metrics) × one per second, plus slack for a
    // second boundary crossed.
    assert.ok(used <= 4 * (seconds + 1), `${used} pings in ${seconds} s`);
  } finally {
    redis.disconnect();
  }
});

Deno.test("node answers - a node answering presence or stats out of shape counts as unreachable; nothing of its answer is passed on", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const prefix = cluster.etcdPrefix;
  // A node that holds the internal secret (so its record is signed), but
  // answers like no gateway does.
  await using liar = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/internal/presence") {
        return Response.json([
          {
            connId: "<img src=x onerror=alert(1)>",
            nodeId: "gw-1",
            device: null,
            connectedAt: 1,
            token: "leaked",
          },
        ]);
      }
      if (path === "/internal/stats") {
        return Response.json({
          nodeId: "liar",
          connections: -5,
          users: "many",
        });
      }
      return Response.json({});
    },
  );
  const liarUrl = `http://127.0.0.1:${liar.addr.port}`;
  const codec = new NodeRecordCodec([cluster.internalSecret]);
  const etcd = new Etcd3({ hosts: cluster.etcd.url });
  try {
    await etcd.put(`${prefix}/nodes/liar`).value(codec.encode({
      nodeId: "liar",
      url: liarUrl,
      internalUrl: liarUrl,
      startedAt: 1,
      draining: false,
    }));
    await etcd.put(`${prefix}/users/bob/liar`).value(
      JSON.stringify({ since: 1, devices: [] }),
    );
    const { client: bob } = await connect(cluster, 0, "bob");
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/bob/presence")).body.unreachable
          ?.includes("liar"),
      { what: "the router to ask the liar" },
    );
    const presence = await api(cluster, "GET", "/v1/users/bob/presence");
    assert.equal(presence.status, 200);
    assert.deepEqual(presence.body.unreachable, ["liar"]);
    assert.deepEqual(
      presence.body.devices.map((d: { nodeId: string }) => d.nodeId),
      ["gw-1"],
    );
    const text = JSON.stringify(presence.body);
    assert.ok(!text.includes("leaked") && !text.includes("<img"), text);
    const nodes = await api(cluster, "GET", "/v1/nodes");
    const liarRow = nodes.body.find((n: { nodeId: string }) =>
      n.nodeId === "liar"
    );
    assert.deepEqual(
      [liarRow.reachable, liarRow.connections, liarRow.users],
      [false, null, null],
    );
    await bob.close();
  } finally {
    etcd.close();
  }
});
