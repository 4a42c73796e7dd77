/**
 * Chaos 3: etcd stopped for 15 s while pushes stream. Connected clients keep
 * receiving through the router's route cache; clients that move to another
 * node meanwhile are served at once, their registrations queue and land when
 * etcd is back; `/readyz` says not ready while etcd is away.
 */
import assert from "node:assert/strict";
import {
  assertClean,
  readyStatus,
  runChaosCase,
  sleep,
  waitUntil,
} from "../_support/chaos_run.ts";
import { ownersInEtcd } from "../_support/cluster.ts";

const OUTAGE_MS = 15_000;

Deno.test("chaos - etcd down for 15 s: nothing lost, duplicated or out of order", async () => {
  const moved: string[] = [];
  const { figures } = await runChaosCase({
    name: "etcd stopped for 15 s",
    async fault({ cluster, fleet, note }) {
      await cluster.stopEtcd();
      const stoppedAt = Date.now();
      const notReady = await waitUntil(
        async () =>
          (await Promise.all(
            [...cluster.gateways.map((g) => g.url), cluster.router].map(
              readyStatus,
            ),
          )).every((status) => status === 503),
        10_000,
        "every process to report not ready",
      );
      note("every /readyz 503 after", `${notReady - stoppedAt} ms`);
      // New registrations while etcd is away: 30 clients move nodes.
      await sleep(2000);
      const movers = fleet.devices.filter((_, i) => i % 10 === 0);
      moved.push(...movers.map((d) => d.user));
      fleet.move(movers, (d) => (d.home + 1) % 3);
      await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
      await cluster.startEtcd();
      const startedAt = Date.now();
      note("clients moved during the outage", movers.length);
      const ready = await waitUntil(
        async () =>
          (await Promise.all(
            [...cluster.gateways.map((g) => g.url), cluster.router].map(
              readyStatus,
            ),
          )).every((status) => status === 200),
        30_000,
        "every process ready again",
      );
      note("every /readyz 200 after etcd start", `${ready - startedAt} ms`);
      const landed = await waitUntil(
        async () => {
          for (const device of movers) {
            const owners = await ownersInEtcd(cluster, device.user);
            if (owners.join() !== `gw-${device.home + 1}`) return false;
          }
          return true;
        },
        30_000,
        "the moved clients registered on their new nodes",
      );
      note("queued registrations landed after", `${landed - startedAt} ms`);
    },
  });
  assertClean(figures);
  assert.equal(moved.length, 30);
});
