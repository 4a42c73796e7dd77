/**
 * An attacker with write access to etcd, on a real cluster: a rogue node
 * record (with a user key pointing at it) and a rewrite of a live gateway's
 * own record must not bring a single request, nor the internal secret, to
 * the attacker's server; the gateway restores its own record.
 */
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";

Deno.test("cluster trust - rogue and rewritten node records in etcd receive nothing", async () => {
  const lines: string[] = [];
  await using cluster = await startTestCluster({
    nodes: 1,
    onLine: (_name, line) => lines.push(line),
  });
  const prefix = cluster.etcdPrefix;

  // The attacker's server records whatever reaches it.
  const seen: { path: string; authorization: string | null }[] = [];
  await using rogue = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      seen.push({
        path: new URL(request.url).pathname,
        authorization: request.headers.get("authorization"),
      });
      // Answers like a node would, to draw as much traffic as it can.
      return Response.json({ results: [], devices: 1 });
    },
  );
  const rogueUrl = `http://127.0.0.1:${rogue.addr.port}`;

  const etcd = new Etcd3({ hosts: cluster.etcd.url });
  try {
    // 1. A rogue node with bob on it, even carrying a made-up signature;
    // its user key lists ten old devices so that bob's connect evicts them
    // through the rogue's internal URL (the gateway's path to the secret).
    const record = {
      url: rogueUrl,
      internalUrl: rogueUrl,
      startedAt: Date.now(),
      draining: false,
    };
    await etcd.put(`${prefix}/nodes/evil`).value(JSON.stringify(record));
    await etcd.put(`${prefix}/nodes/evil2`).value(
      JSON.stringify({ ...record, sig: "AAAA" }),
    );
    const devices = Array.from({ length: 10 }, (_, i) => ({
      connId: `old-${i}`,
      connectedAt: 1 + i,
    }));
    for (const node of ["evil", "evil2"]) {
      await etcd.put(`${prefix}/users/bob/${node}`).value(
        JSON.stringify({ since: 1, devices }),
      );
    }
    await waitFor(
      () =>
        ["evil", "evil2"].every((node) =>
          lines.some((l) =>
            l.includes("node record that is not authenticated") &&
            l.includes(`"${node}"`)
          )
        ),
      { what: "a warning about the rogue records" },
    );

    const { client: bob } = await connect(cluster, 0, "bob");
    const pushed = await api(cluster, "POST", "/v1/push", {
      users: ["bob"],
      data: { n: 1 },
    });
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
    await bob.next((f) => f.type === "message");
    const broadcast = await api(cluster, "POST", "/v1/broadcast", {
      data: { n: 2 },
    });
    assert.equal(broadcast.status, 200, JSON.stringify(broadcast.body));
    await bob.next((f) => f.type === "message");
    const presence = await api(cluster, "GET", "/v1/users/bob/presence");
    assert.equal(presence.status, 200);
    assert.deepEqual(
      presence.body.devices.map((d: { nodeId: string }) => d.nodeId),
      ["gw-1"],
    );
    const nodes = await api(cluster, "GET", "/v1/nodes");
    assert.deepEqual(
      nodes.body.map((n: { nodeId: string }) => n.nodeId),
      ["gw-1"],
    );

    // 2. gw-1's own record rewritten on its own lease to the rogue's URL.
    const key = `${prefix}/nodes/gw-1`;
    const original = await etcd.get(key).exec();
    const kv = original.kvs[0]!;
    const own = JSON.parse(kv.value.toString());
    await etcd.put(key).value(
      JSON.stringify({ ...own, internalUrl: rogueUrl }),
    ).lease(kv.lease);
    await waitFor(
      () => lines.some((l) => l.includes("node record rewritten")),
      { what: "gw-1 noticing its rewritten record" },
    );
    await waitFor(
      async () => (await etcd.get(key).string()) === kv.value.toString(),
      { what: "gw-1 restoring its record" },
    );
    // A deleted record comes back the same way.
    await etcd.delete().key(key);
    await waitFor(
      async () => (await etcd.get(key).string()) === kv.value.toString(),
      { what: "gw-1 restoring its deleted record" },
    );
    // Pushes reach bob again through the restored record.
    await waitFor(async () => {
      const again = await api(cluster, "POST", "/v1/push", {
        users: ["bob"],
        data: { n: 3 },
      });
      return again.body.results?.[0]?.devices === 1;
    }, { what: "a push delivered after the restore" });
    await bob.next((f) =>
      f.type === "message" && JSON.stringify(f.data) === `{"n":3}`
    );
    await bob.close();
  } finally {
    etcd.close();
  }
  assert.deepEqual(seen, [], "nothing reached the rogue server");
  assert.ok(
    lines.some((l) =>
      l.includes("node entered the route cache") && l.includes('"gw-1"')
    ),
    "the router logs nodes entering its route cache",
  );
});
