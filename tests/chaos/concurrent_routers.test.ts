/**
 * Two routers push to one user at once, many pushes in flight: deliveries
 * overtake each other on their way to the node, so the connection keeps
 * meeting gaps that history fills. Every push must arrive once and in seq
 * order, however many gap reads one busy stretch takes. (This race did not
 * trip the old gap-fill budget on this box; the exact interleaving that did
 * is in tests/unit/delivery_order.test.ts and the model-based property.)
 */
import assert from "node:assert/strict";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";

const PUSHES = 600;
const IN_FLIGHT = 24;

Deno.test("concurrency - pushes racing through two routers arrive once and in order, every gap filled", async () => {
  await using cluster = await startTestCluster({ nodes: 1, routers: 2 });
  const { client } = await connect(cluster, 0, "busy");
  await using _ = client;
  let next = 0;
  const seqs: number[] = [];
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < PUSHES) {
        const n = next++;
        const router = cluster.routers[n % 2]!.url;
        const answer = await api(cluster, "POST", "/v1/push", {
          users: ["busy"],
          data: n,
        }, router);
        assert.equal(answer.status, 200);
        seqs.push(answer.body.results[0].seq);
      }
    }),
  );
  await waitFor(() => client.messages().length >= PUSHES, {
    timeout: 20_000,
    what: `${PUSHES} messages (have ${client.messages().length})`,
  });
  const got = client.messages().map((m) => m.seq);
  assert.deepEqual(got, Array.from({ length: PUSHES }, (_, i) => i + 1));
  assert.equal(seqs.length, PUSHES);
});
