/**
 * Chaos 4: Redis stopped for 10 s while pushes stream. Pushes are still
 * accepted and delivered live to the clients connected then, without seq
 * (`"stored": false`); nothing can replay those later. Every push accepted
 * with a seq (before and after the outage) reaches every device, once, in
 * order. Clients that reconnect during the outage get a welcome that echoes
 * their since/epoch (`recovered: true`), so they do not reset.
 */
import assert from "node:assert/strict";
import {
  assertClean,
  readyStatus,
  runChaosCase,
  sleep,
  waitUntil,
} from "../_support/chaos_run.ts";
import type { Device } from "../_support/chaos_fleet.ts";

const OUTAGE_MS = 10_000;

Deno.test("chaos - Redis down for 10 s: stored pushes all delivered once and in order, the rest live", async () => {
  const movers: Device[] = [];
  const { figures } = await runChaosCase({
    name: "Redis stopped for 10 s",
    async fault({ cluster, fleet, note }) {
      await cluster.stopRedis();
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
      await sleep(2000);
      // Connects while history is unreadable: 30 clients move nodes.
      movers.push(...fleet.devices.filter((_, i) => i % 10 === 5));
      fleet.move(movers, (d) => (d.home + 1) % 3);
      await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
      await cluster.startRedis();
      const startedAt = Date.now();
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
      note("every /readyz 200 after Redis start", `${ready - startedAt} ms`);
    },
  });
  assertClean(figures);
  assert.ok(figures.unstored > 0, "some pushes were accepted without history");
  // Moved while Redis was down: the welcome kept their position.
  for (const device of movers) {
    const [before, ...after] = device.connections.slice(-2);
    const welcome = after[0]?.welcome;
    assert.ok(welcome, `${device.user} welcomed after the move`);
    assert.equal(welcome.recovered, true, `${device.user} recovered`);
    assert.equal(welcome.epoch, before!.welcome!.epoch);
  }
  assert.equal(figures.resets, 0, "no client reset its seq tracking");
});
