/**
 * Chaos 1: `kill -9` of one gateway node while pushes stream. Its clients
 * reconnect to the other nodes with since/epoch; history fills the gap.
 */
import assert from "node:assert/strict";
import { assertClean, runChaosCase, sleep } from "../_support/chaos_run.ts";

Deno.test("chaos - kill -9 of a node mid-stream: nothing lost, duplicated or out of order", async () => {
  const { figures } = await runChaosCase({
    name: "kill -9 one node",
    async fault({ cluster, fleet, note }) {
      const victims = fleet.onNode(1);
      fleet.markDown(1);
      const killedAt = Date.now();
      await cluster.killGateway(1);
      note("clients on the killed node", victims.length);
      const back = await fleet.waitAllOpen(30_000, victims);
      note("all of them connected elsewhere after", `${back - killedAt} ms`);
      // Its keys go with its lease; then it comes back, empty.
      await sleep(killedAt + cluster.leaseTtl * 1000 + 1000 - Date.now());
      await cluster.gateways[1]!.start();
      fleet.markUp(1);
    },
  });
  assertClean(figures);
  // Until its lease expires the router still sends to the dead node and
  // says so; then the mapping is gone.
  assert.ok(figures.unreachable > 0, "answers listed the dead node");
  assert.ok(
    figures.lastUnreachableMs! <= 3000 + 3000,
    `last unreachable ${figures.lastUnreachableMs} ms after the kill`,
  );
  assert.ok(figures.reconnects >= 90, `reconnects: ${figures.reconnects}`);
});
