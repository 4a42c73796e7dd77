import assert from "node:assert/strict";
import {
  checkSocketPlan,
  clientProcesses,
  SocketPlanError,
  socketsPerProcess,
  timeLimitMs,
} from "../../ops/bench/socket_plan.ts";

const BOX = { openFiles: 20_000, ephemeralPorts: 28_232 };

Deno.test("socket plan - a 20,000-file process holds 15,000 bench sockets", () => {
  assert.equal(socketsPerProcess(BOX), 15_000);
  assert.equal(clientProcesses(40_000, BOX), 3);
  assert.equal(clientProcesses(100_000, BOX), 7);
  assert.equal(clientProcesses(100, BOX, 2), 2, "the scenario's floor");
});

Deno.test("socket plan - too few client processes names --clients and the count that fits", () => {
  assert.throws(
    () =>
      checkSocketPlan(
        { sockets: 40_000, clients: 2, nodes: 4, survivors: 3 },
        BOX,
      ),
    (error: unknown) =>
      error instanceof SocketPlanError &&
      /--clients 2: 20000 sockets per client process/.test(error.message) &&
      /use --clients 3 or more/.test(error.message),
  );
  checkSocketPlan({ sockets: 40_000, clients: 3, nodes: 4, survivors: 3 }, BOX);
});

Deno.test("socket plan - the storm's survivors must hold the dead node's sockets too", () => {
  // 40k on 3 nodes is 13.3k each, but 20k each on the 2 survivors.
  assert.throws(
    () =>
      checkSocketPlan(
        { sockets: 40_000, clients: 3, nodes: 3, survivors: 2 },
        BOX,
      ),
    /--nodes 3: up to 20000 sockets on one node, over the 15000 that 20000 open files per process allow; use --nodes 4 or more/,
  );
  checkSocketPlan({ sockets: 40_000, clients: 3, nodes: 3, survivors: 3 }, BOX);
});

Deno.test("socket plan - with a big file limit, the port range bounds a node", () => {
  const wide = { openFiles: 1_048_576, ephemeralPorts: 28_232 };
  assert.throws(
    () =>
      checkSocketPlan(
        { sockets: 100_000, clients: 1, nodes: 3, survivors: 3 },
        wide,
      ),
    /over the 28232 that 28232 ephemeral ports per node allow; use --nodes 4/,
  );
  checkSocketPlan(
    { sockets: 100_000, clients: 1, nodes: 4, survivors: 4 },
    wide,
  );
});

Deno.test("socket plan - the time limit grows with the socket count", () => {
  assert.equal(timeLimitMs(0), 60_000);
  assert.equal(timeLimitMs(40_000), 460_000);
  assert.equal(timeLimitMs(100_000), 1_060_000);
});
