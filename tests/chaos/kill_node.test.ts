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
      const victims = fleet.onNode(1).length;
      fleet.markDown(1);
      await cluster.killGateway(1);
      note("clients on the killed node", victims);
      // Its keys go with its lease; then it comes back, empty.
      await sleep(cluster.leaseTtl * 1000 + 1000);
      await cluster.gateways[1]!.start();
      fleet.markUp(1);
    },
  });
  assertClean(figures);
  assert.ok(figures.reconnects >= 90, `reconnects: ${figures.reconnects}`);
});
