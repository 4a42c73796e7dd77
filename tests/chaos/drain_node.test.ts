/**
 * Chaos 2: SIGTERM drains one gateway node while pushes stream. Its clients
 * get 1012, reconnect to the other nodes with since/epoch; the node keeps
 * delivering to the clients it has not closed yet, revokes its lease, exits.
 */
import assert from "node:assert/strict";
import { assertClean, runChaosCase } from "../_support/chaos_run.ts";

Deno.test("chaos - drain of a node mid-stream: nothing lost, duplicated or out of order", async () => {
  const { figures } = await runChaosCase({
    name: "drain one node (SIGTERM)",
    async fault({ cluster, fleet, note }) {
      const gateway = cluster.gateways[2]!;
      const victims = fleet.onNode(2);
      note("clients on the drained node", victims.length);
      fleet.markDown(2);
      const began = Date.now();
      await gateway.stop();
      note("drain until exit", `${Date.now() - began} ms`);
      const back = await fleet.waitAllOpen(30_000, victims);
      note("all of them connected elsewhere after", `${back - began} ms`);
      const codes = fleet.devices.flatMap((d) =>
        d.connections.filter((c) => c.node === 2 && c.closeCode !== undefined)
          .map((c) => c.closeCode)
      );
      note("close codes seen", [...new Set(codes)].join(","));
      assert.deepEqual([...new Set(codes)], [1012]);
      await gateway.start();
      fleet.markUp(2);
    },
  });
  assertClean(figures);
  assert.ok(figures.reconnects >= 90, `reconnects: ${figures.reconnects}`);
});
