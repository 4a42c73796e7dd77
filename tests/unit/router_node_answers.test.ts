import assert from "node:assert/strict";
import { checkAnswer } from "../../router/node_answers.ts";

Deno.test("node answers - a deliver batch is kept, unknown fields dropped", () => {
  const value = JSON.parse(
    '{"results":[{"devices":{"u1":2,"__proto__":1},"extra":true},{"devices":{}}],"more":1}',
  );
  const result = checkAnswer("deliverBatch", "n1", value);
  assert.ok("answer" in result);
  assert.equal(result.answer.results.length, 2);
  assert.deepEqual(Object.keys(result.answer.results[0]!), ["devices"]);
  assert.equal(result.answer.results[0]!.devices["u1"], 2);
  assert.ok(Object.hasOwn(result.answer.results[0]!.devices, "__proto__"));
  assert.deepEqual(Object.keys(result.answer), ["results"]);
});

Deno.test("node answers - a bad deliver batch names the field", () => {
  const cases: [unknown, string][] = [
    [null, "answer: must be an object"],
    [[], "answer: must be an object"],
    [{}, "results: must be an array"],
    [{ results: [1] }, "results.0: must be an object"],
    [{ results: [{}] }, "results.0.devices: must be an object"],
    [{ results: [{ devices: [] }] }, "results.0.devices: must be an object"],
    [
      { results: [{ devices: {} }, { devices: { u: -1 } }] },
      "results.1.devices.u: must be an integer ≥ 0",
    ],
    [
      { results: [{ devices: { u: 1.5 } }] },
      "results.0.devices.u: must be an integer ≥ 0",
    ],
    [
      { results: [{ devices: { u: "1" } }] },
      "results.0.devices.u: must be an integer ≥ 0",
    ],
  ];
  for (const [value, problem] of cases) {
    assert.deepEqual(checkAnswer("deliverBatch", "n1", value), { problem });
  }
});

Deno.test("node answers - presence and stats must be the node's own", () => {
  const device = {
    connId: "c-1",
    nodeId: "n1",
    device: null,
    connectedAt: 1,
  };
  const own = checkAnswer("presence", "n1", [device]);
  assert.ok("answer" in own);
  assert.deepEqual(own.answer, [device]);
  assert.deepEqual(
    checkAnswer("presence", "n1", [device, { ...device, nodeId: "n2" }]),
    { problem: '1.nodeId: Invalid input: expected "n1"' },
  );
  const stats = {
    nodeId: "n1",
    connections: 1,
    users: 1,
    draining: false,
    startedAt: 1,
  };
  assert.ok("answer" in checkAnswer("stats", "n1", stats));
  assert.deepEqual(checkAnswer("stats", "n2", stats), {
    problem: 'nodeId: Invalid input: expected "n2"',
  });
  // The same schema object serves every node: no answer leaks into another's.
  assert.ok("answer" in checkAnswer("stats", "n2", { ...stats, nodeId: "n2" }));
  assert.deepEqual(checkAnswer("kick", "n1", { closed: -1 }), {
    problem: "closed: Too small: expected number to be >=0",
  });
});

Deno.test("node answers - stats keep version, lease and counters; a negative counter names the field", () => {
  const stats = {
    nodeId: "n1",
    connections: 1,
    users: 1,
    draining: false,
    startedAt: 5,
    version: "0.1.0",
    lease: { id: "7587893548137291522", healthy: true, extra: 1 },
    counters: { connects: 3, closes: 2, deliveries: 9 },
  };
  const kept = checkAnswer("stats", "n1", stats);
  assert.ok("answer" in kept);
  assert.deepEqual(kept.answer.lease, {
    id: "7587893548137291522",
    healthy: true,
  });
  assert.deepEqual(kept.answer.counters, stats.counters);
  assert.equal(kept.answer.version, "0.1.0");
  assert.deepEqual(
    checkAnswer("stats", "n1", {
      ...stats,
      counters: { ...stats.counters, closes: -1 },
    }),
    { problem: "counters.closes: Too small: expected number to be >=0" },
  );
});

Deno.test("node answers - presence keeps a remote address, refuses one too long", () => {
  const device = {
    connId: "c1",
    nodeId: "n1",
    device: null,
    connectedAt: 1,
    remoteAddress: "10.0.0.7",
  };
  const kept = checkAnswer("presence", "n1", [device]);
  assert.ok("answer" in kept);
  assert.equal(kept.answer[0]!.remoteAddress, "10.0.0.7");
  const long = checkAnswer("presence", "n1", [{
    ...device,
    remoteAddress: "x".repeat(129),
  }]);
  assert.ok("problem" in long && long.problem.startsWith("0.remoteAddress"));
});
