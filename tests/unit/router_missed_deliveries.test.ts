import assert from "node:assert/strict";
import { MissedDeliveries } from "../../router/missed_deliveries.ts";
import { historyWith, routerFixture } from "../_support/router_fixture.ts";
import { MemoryHistory } from "../../shared/history/mod.ts";
import { waitFor } from "../_support/until.ts";

Deno.test("missed deliveries - users of a failed delivery are caught up once the node answers again", async () => {
  await using f = await routerFixture();
  using missed = new MissedDeliveries({
    nodes: f.deps.nodes,
    node: (nodeId) => f.routes.node(nodeId),
    log: f.deps.log,
    retryMs: 5,
    maxRetryMs: 20,
  });
  f.deps.missed = missed;
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice");
  await f.connect(n1, "bob");
  n1.failWith = new Error("partitioned");
  const answer = await (await f.request("/v1/push", {
    json: { users: ["alice", "bob"], data: 1 },
  })).json();
  assert.deepEqual(answer.unreachable, ["n1"]);
  assert.equal(missed.size, 2);
  // Still cut off: the asks keep failing and nothing is forgotten.
  await waitFor(() => n1.entered >= 4, { what: "a few failed asks" });
  assert.equal(missed.size, 2);
  n1.failWith = undefined;
  await waitFor(() => n1.catchUps.length > 0, { what: "the catch-up" });
  assert.deepEqual(n1.catchUps[0]!.sort(), ["alice", "bob"]);
  assert.equal(missed.size, 0);
});

Deno.test("missed deliveries - a node that left the cluster is forgotten", async () => {
  await using f = await routerFixture();
  using missed = new MissedDeliveries({
    nodes: f.deps.nodes,
    node: (nodeId) => f.routes.node(nodeId),
    log: f.deps.log,
    retryMs: 5,
  });
  missed.add("gone", ["alice"]);
  await waitFor(() => missed.size === 0, { what: "the node to be forgotten" });
});

Deno.test("missed deliveries - a push history could not store adds nobody (nothing to catch up)", async () => {
  const memory = new MemoryHistory({ size: 10, ttl: 60 });
  await using f = await routerFixture({
    history: historyWith(memory, {
      append: () => Promise.reject(new Error("redis down")),
    }),
  });
  using missed = new MissedDeliveries({
    nodes: f.deps.nodes,
    node: (nodeId) => f.routes.node(nodeId),
    log: f.deps.log,
  });
  f.deps.missed = missed;
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice");
  n1.failWith = new Error("down");
  const answer = await (await f.request("/v1/push", {
    json: { users: ["alice"], data: 1 },
  })).json();
  assert.equal(answer.stored, false);
  assert.equal(missed.size, 0);
});
