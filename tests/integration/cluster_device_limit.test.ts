/**
 * The device limit holds for a user's connections on all nodes together:
 * past WSGW_MAX_DEVICES, the oldest connection anywhere is closed with 4001.
 */
import assert from "node:assert/strict";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";
import type { TestClient } from "../_support/ws_client.ts";

Deno.test("cluster - eleven devices over three nodes leave ten, the oldest closed with 4001", async () => {
  await using cluster = await startTestCluster({ nodes: 3 });
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      clients.push(
        (await connect(cluster, i % 3, "zoe", { device: `d${i}` })).client,
      );
    }
    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/zoe/presence")).body.devices
          .length === 10,
      { what: "ten devices of zoe in presence" },
    );
    assert.ok(
      clients.every((c) => c.isClosed === undefined),
      "ten is within the limit",
    );

    // The eleventh lands on gw-2; the oldest (d0) lives on gw-1.
    clients.push((await connect(cluster, 1, "zoe", { device: "d10" })).client);
    const started = Date.now();
    assert.equal((await clients[0]!.closed).code, 4001);
    // Timing is reported, not asserted (a loaded CI box must not flake).
    // deno-lint-ignore no-console
    console.log(
      `oldest device evicted ${
        Date.now() - started
      } ms after the eleventh connected`,
    );

    await waitFor(
      async () =>
        (await api(cluster, "GET", "/v1/users/zoe/presence")).body.devices
          .length === 10,
      { what: "ten devices of zoe after the eviction" },
    );
    const presence = await api(cluster, "GET", "/v1/users/zoe/presence");
    const labels = presence.body.devices.map((d: { device: string }) =>
      d.device
    ).sort();
    assert.deepEqual(
      labels,
      Array.from({ length: 10 }, (_, i) => `d${i + 1}`).sort(),
    );
    assert.ok(clients.slice(1).every((c) => c.isClosed === undefined));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});
