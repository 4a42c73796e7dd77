import assert from "node:assert/strict";
import { routerFixture } from "../_support/router_fixture.ts";

const OTHER = { authorization: "Bearer other-key" };

Deno.test("idempotency - the same push id from two API keys: two pushes, each key its own answer", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice");
  await f.connect(n1, "bob");
  const first = await (await f.request("/v1/push", {
    json: { users: ["alice"], data: "from key 1", id: "order-7" },
  })).json();
  const second = await (await f.request("/v1/push", {
    headers: OTHER,
    json: { users: ["bob"], data: "from key 2", id: "order-7" },
  })).json();
  assert.deepEqual(second.results.map((r: { user: string }) => r.user), [
    "bob",
  ], "the second key did not get the first key's answer (or its users)");
  assert.equal(second.results[0].devices, 1);
  assert.equal(first.results[0].user, "alice");
  assert.equal(n1.delivered.length, 2);
  // Each key's retry still gets its own first answer.
  const retry = await (await f.request("/v1/push", {
    headers: OTHER,
    json: { users: ["bob"], data: "again", id: "order-7" },
  })).json();
  assert.deepEqual(retry, second);
  assert.equal(n1.delivered.length, 2);
});

Deno.test("idempotency - a push id and a broadcast id never stand for each other", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice");
  await (await f.request("/v1/push", {
    json: { users: ["alice"], data: 1, id: "broadcast:daily" },
  })).body?.cancel();
  const broadcast = await (await f.request("/v1/broadcast", {
    json: { data: "daily digest", id: "daily" },
  })).json();
  assert.equal(broadcast.id, "daily");
  assert.equal(broadcast.nodes, 1, "the broadcast went out");
  assert.equal(n1.broadcasts.length, 1);
});

Deno.test("idempotency - the same id from two keys to one user: two messages in its history", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice");
  await (await f.request("/v1/push", {
    json: { users: ["alice"], data: "a", id: "same" },
  })).body?.cancel();
  await (await f.request("/v1/push", {
    headers: OTHER,
    json: { users: ["alice"], data: "b", id: "same" },
  })).body?.cancel();
  const read = await f.history.read("alice", 0, 10);
  assert.deepEqual(read.messages.map((m) => m.dataJson), ['"a"', '"b"']);
});
