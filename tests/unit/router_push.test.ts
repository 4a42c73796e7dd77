import assert from "node:assert/strict";
import {
  API_KEY,
  historyWith,
  routerFixture,
} from "../_support/router_fixture.ts";
import {
  idempotencyKey,
  keyFingerprint,
} from "../../router/idempotency_key.ts";
import { waitFor } from "../_support/until.ts";
import { type History, MemoryHistory } from "../../shared/history/mod.ts";
import type { DeliverTarget } from "../../shared/node_api.ts";
import { PushResponse } from "../../router/schemas.ts";
import type { MissedDeliveries } from "../../router/missed_deliveries.ts";
import { PartialAppendError } from "../../shared/errors.ts";

/** Three nodes: alice on n1, bob on n2 (two devices), carol on n1 and n2; n3 holds dave only. */
async function threeNodes() {
  const f = await routerFixture();
  const n1 = await f.addNode("n1");
  const n2 = await f.addNode("n2");
  const n3 = await f.addNode("n3");
  await f.connect(n1, "alice");
  await f.connect(n2, "bob", "phone");
  await f.connect(n2, "bob", "laptop");
  await f.connect(n1, "carol");
  await f.connect(n2, "carol");
  await f.connect(n3, "dave");
  return { f, n1, n2, n3 };
}

Deno.test("push - users on two of three nodes: each owner called once with its targets, the third never", async () => {
  const { f, n1, n2, n3 } = await threeNodes();
  await using _ = f;
  const response = await f.request("/v1/push", {
    json: { users: ["alice", "bob", "carol"], data: { n: 1 }, id: "p1" },
  });
  assert.equal(response.status, 200);
  const body = PushResponse.parse(await response.json());
  assert.deepEqual(body, {
    id: "p1",
    results: [
      { user: "alice", seq: 1, devices: 1 },
      { user: "bob", seq: 1, devices: 2 },
      { user: "carol", seq: 1, devices: 2 },
    ],
  });
  assert.equal(n1.delivered.length, 1);
  assert.equal(n2.delivered.length, 1);
  assert.equal(n3.delivered.length, 0);
  const [d1] = n1.delivered;
  assert.deepEqual(await withEpochs(f.history, d1!.targets), [
    { user: "alice", seq: 1 },
    { user: "carol", seq: 1 },
  ]);
  assert.equal(d1?.id, "p1");
  assert.equal(d1?.dataJson, '{"n":1}');
  assert.equal("device" in d1!, false);
  assert.deepEqual(await withEpochs(f.history, n2.delivered[0]!.targets), [
    { user: "bob", seq: 1 },
    { user: "carol", seq: 1 },
  ]);
  assert.equal(n1.delivered[0]?.ts, n2.delivered[0]?.ts);
});

Deno.test("push - same id twice delivers once and answers the same", async () => {
  const { f, n1, n2 } = await threeNodes();
  await using _ = f;
  const json = { users: ["alice", "bob"], data: "x", id: "dup" };
  const first = await (await f.request("/v1/push", { json })).json();
  const second = await (await f.request("/v1/push", {
    // A retry with another body still gets the first answer.
    json: { ...json, users: ["carol"] },
  })).json();
  assert.deepEqual(second, first);
  assert.equal(n1.delivered.length, 1);
  assert.equal(n2.delivered.length, 1);
  const read = await f.history.read("alice", 0, 10);
  assert.equal(read.messages.length, 1);
});

Deno.test("push - a push id still in progress is waited for, then answered", async () => {
  const { f, n1 } = await threeNodes();
  await using _ = f;
  let open!: () => void;
  n1.gate = new Promise((resolve) => open = resolve);
  const json = { users: ["alice"], data: 1, id: "slow" };
  const first = f.request("/v1/push", { json });
  // The first holds the reservation, blocked in deliver.
  await waitFor(() => n1.entered > 0, { what: "first deliver" });
  const second = f.request("/v1/push", { json });
  await new Promise((r) => setTimeout(r, 120));
  open();
  const [a, b] = await Promise.all([first, second]);
  assert.deepEqual(await b.json(), await a.json());
  assert.equal(n1.delivered.length, 1);
});

Deno.test("push - a push id held too long by another request is 409 push_in_progress", async () => {
  await using f = await routerFixture({ override: { pendingWaitMs: 100 } });
  const held = idempotencyKey(keyFingerprint(API_KEY), "push", "held");
  assert.equal((await f.history.reserve(held)).state, "reserved");
  const response = await f.request("/v1/push", {
    json: { users: ["u"], data: 1, id: "held" },
  });
  assert.equal(response.status, 409);
  assert.equal((await response.json()).error.code, "push_in_progress");
});

Deno.test("push - an offline user is stored with a seq, 0 devices, and readable via the messages API", async () => {
  await using f = await routerFixture();
  const node = await f.addNode("n1");
  const response = await f.request("/v1/push", {
    json: { users: ["offline"], data: { hi: ["there"] }, id: "m1" },
  });
  assert.deepEqual((await response.json()).results, [
    { user: "offline", seq: 1, devices: 0 },
  ]);
  assert.equal(node.delivered.length, 0);
  const messages = await (await f.request("/v1/users/offline/messages")).json();
  assert.equal(messages.user, "offline");
  assert.equal(messages.seq, 1);
  assert.equal(typeof messages.epoch, "string");
  assert.equal(messages.messages.length, 1);
  assert.deepEqual(
    { ...messages.messages[0], ts: 0 },
    { seq: 1, id: "m1", data: { hi: ["there"] }, ts: 0 },
  );
});

Deno.test("push - seqs per user strictly increase", async () => {
  const { f, n1 } = await threeNodes();
  await using _ = f;
  const seqs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const users = i % 2 === 0 ? ["alice", "x"] : ["alice"];
    const body = await (await f.request("/v1/push", {
      json: { users, data: i },
    })).json();
    seqs.push(body.results[0].seq);
  }
  assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
  assert.deepEqual(n1.delivered.map((d) => d.targets[0]?.seq), seqs);
  // Default ids are distinct UUIDs.
  assert.equal(new Set(n1.delivered.map((d) => d.id)).size, 5);
});

Deno.test("push - duplicate users get the message once", async () => {
  const { f, n1 } = await threeNodes();
  await using _ = f;
  const body = await (await f.request("/v1/push", {
    json: { users: ["alice", "alice", "zed", "alice"], data: 1 },
  })).json();
  assert.deepEqual(body.results.map((r: { user: string }) => r.user), [
    "alice",
    "zed",
  ]);
  assert.deepEqual(await withEpochs(f.history, n1.delivered[0]!.targets), [
    { user: "alice", seq: 1 },
  ]);
  assert.equal((await f.history.read("alice", 0, 10)).seq, 1);
});

Deno.test("push - device is passed on and counts only matching connections", async () => {
  const { f, n2 } = await threeNodes();
  await using _ = f;
  const body = await (await f.request("/v1/push", {
    json: { users: ["bob"], data: 1, device: "phone" },
  })).json();
  assert.equal(body.results[0].devices, 1);
  assert.equal(n2.delivered[0]?.device, "phone");
});

Deno.test("push - a failing node answers 200 with its users at 0 devices and lists it unreachable", async () => {
  const { f, n1, n2 } = await threeNodes();
  await using _ = f;
  n2.failWith = new Error("connection reset");
  const response = await f.request("/v1/push", {
    json: { users: ["alice", "bob", "carol"], data: 1 },
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.results.map((r: { devices: number }) => r.devices), [
    1,
    0,
    1,
  ]);
  assert.deepEqual(body.unreachable, ["n2"]);
  assert.equal(n1.delivered.length, 1);
  const warned = f.logs.filter((l) => l.event === "node request failed");
  assert.equal(warned.length, 1);
  assert.equal(warned[0]?.nodeId, "n2");
});

Deno.test("push - history append failure delivers live without seq and answers stored: false", async () => {
  const memory = new MemoryHistory({ size: 10, ttl: 60 });
  let fail = true;
  const history = historyWith(memory, {
    append: (users, message) =>
      fail
        ? Promise.reject(new Error("redis down"))
        : memory.append(users, message),
  });
  await using f = await routerFixture({ history });
  const node = await f.addNode("n1");
  await f.connect(node, "alice");
  const response = await f.request("/v1/push", {
    json: { users: ["alice", "bob"], data: 1, id: "live-only" },
  });
  assert.equal(response.status, 200);
  const body = PushResponse.parse(await response.json());
  assert.deepEqual(body, {
    id: "live-only",
    results: [
      { user: "alice", seq: null, devices: 1 },
      { user: "bob", seq: null, devices: 0 },
    ],
    stored: false,
  });
  // seq 0 on the wire: the node writes the frame without a seq.
  assert.deepEqual(node.delivered[0]?.targets, [{ user: "alice", seq: 0 }]);
  const warned = f.logs.filter((l) =>
    l.event === "history unavailable: pushes delivered live only"
  );
  assert.equal(warned.length, 1);
  // The reservation held (only append failed): the same id answers the same.
  fail = false;
  const again = await (await f.request("/v1/push", {
    json: { users: ["alice"], data: 1, id: "live-only" },
  })).json();
  assert.deepEqual(again, body);
  assert.equal(node.delivered.length, 1);
  const next = await (await f.request("/v1/push", {
    json: { users: ["alice"], data: 2 },
  })).json();
  assert.deepEqual(next.results, [{ user: "alice", seq: 1, devices: 1 }]);
  assert.equal(next.stored, undefined);
  const metrics = await f.metricsRegistry.metrics();
  assert.ok(metrics.includes('wsgw_history_errors_total{op="append"} 1'));
});

Deno.test("push - history stored the message for some users only: they get their seq, the others go live only, and the answer says which", async () => {
  const memory = new MemoryHistory({ size: 10, ttl: 60 });
  // bob's keys are on a Redis Cluster master that is down.
  const history = historyWith(memory, {
    append: async (users, message) => {
      const kept = users.filter((user) => user !== "bob");
      const stored = await memory.append(kept, message);
      throw new PartialAppendError(
        "history append stored the message for 2 of 3 users",
        users.map((user) =>
          user === "bob" ? undefined : stored[kept.indexOf(user)]
        ),
      );
    },
  });
  const missed: [string, string[]][] = [];
  await using f = await routerFixture({
    history,
    override: {
      missed: {
        add: (nodeId: string, users: Iterable<string>) =>
          missed.push([nodeId, [...users]]),
      } as unknown as MissedDeliveries,
    },
  });
  const n1 = await f.addNode("n1");
  const n2 = await f.addNode("n2");
  await f.connect(n1, "alice");
  await f.connect(n1, "bob");
  await f.connect(n2, "bob", "laptop");
  await f.connect(n2, "carol");
  n2.failWith = new Error("connection reset");
  const response = await f.request("/v1/push", {
    json: { users: ["alice", "bob", "carol"], data: 1 },
  });
  assert.equal(response.status, 200);
  const body = PushResponse.parse(await response.json());
  assert.deepEqual(body.results, [
    { user: "alice", seq: 1, devices: 1 },
    { user: "bob", seq: null, devices: 1 },
    { user: "carol", seq: 1, devices: 0 },
  ]);
  assert.equal(body.stored, false);
  assert.deepEqual(body.unreachable, ["n2"]);
  // Before, every user went live only: alice's and carol's seqs, stored,
  // were told to nobody.
  const [alice, bob] = n1.delivered[0]!.targets;
  assert.deepEqual(await withEpochs(f.history, [alice!]), [
    { user: "alice", seq: 1 },
  ]);
  assert.deepEqual(bob, { user: "bob", seq: 0 });
  // Only a stored user can be caught up from history when n2 is back.
  assert.deepEqual(missed, [["n2", ["carol"]]]);
  assert.equal(
    f.logs.filter((l) =>
      l.event ===
        "history stored a push for some users only: the others delivered live only"
    ).length,
    1,
  );
});

Deno.test("push - history down altogether: delivered live, and the same id again on this router delivers nothing", async () => {
  const memory = new MemoryHistory({ size: 10, ttl: 60 });
  let down = true;
  const failing = <T>(call: () => Promise<T>) => () =>
    down ? Promise.reject(new Error("redis down")) : call();
  const history = historyWith(memory, {
    append: (users, message) => failing(() => memory.append(users, message))(),
    reserve: (id) => failing(() => memory.reserve(id))(),
    complete: (id, answer) => failing(() => memory.complete(id, answer))(),
    release: (id) => failing(() => memory.release(id))(),
  });
  await using f = await routerFixture({ history });
  const node = await f.addNode("n1");
  await f.connect(node, "alice");
  const json = { users: ["alice"], data: "x", id: "retried" };
  const [first, concurrent] = await Promise.all([
    f.request("/v1/push", { json }).then((r) => r.json()),
    f.request("/v1/push", { json }).then((r) => r.json()),
  ]);
  assert.deepEqual(first, {
    id: "retried",
    results: [{ user: "alice", seq: null, devices: 1 }],
    stored: false,
  });
  assert.deepEqual(concurrent, first);
  assert.equal(node.delivered.length, 1);
  // Redis is back: this replica still knows the id.
  down = false;
  const later = await (await f.request("/v1/push", { json })).json();
  assert.deepEqual(later, first);
  assert.equal(node.delivered.length, 1);
  const broadcast = await f.request("/v1/broadcast", {
    json: { data: 1, id: "b-live" },
  });
  assert.equal(broadcast.status, 200);
  assert.equal(node.broadcasts.length, 1);
});

Deno.test("push - without an id: the append is its only history call (no reservation, no stored answer)", async () => {
  const memory = new MemoryHistory({ size: 10, ttl: 60 });
  const calls: string[] = [];
  const history = historyWith(memory, {
    reserve: (id) => {
      calls.push("reserve");
      return memory.reserve(id);
    },
    complete: (id, answer) => {
      calls.push("complete");
      return memory.complete(id, answer);
    },
  });
  await using f = await routerFixture({ history });
  const node = await f.addNode("n1");
  await f.connect(node, "alice");
  const first = PushResponse.parse(
    await (await f.request("/v1/push", {
      json: { users: ["alice"], data: 1 },
    })).json(),
  );
  assert.deepEqual(first.results, [{ user: "alice", seq: 1, devices: 1 }]);
  assert.deepEqual(calls, []);
  // With its own id a push is reserved and its answer stored.
  await (await f.request("/v1/push", {
    json: { users: ["alice"], data: 2, id: "mine" },
  })).body?.cancel();
  assert.deepEqual(calls, ["reserve", "complete"]);
  assert.equal(node.delivered.length, 2);
});

Deno.test("push - without an id while history is down: delivered live without seq, nothing remembered", async () => {
  const memory = new MemoryHistory({ size: 10, ttl: 60 });
  const history = historyWith(memory, {
    append: () => Promise.reject(new Error("redis down")),
    reserve: () => Promise.reject(new Error("redis down")),
    complete: () => Promise.reject(new Error("redis down")),
  });
  await using f = await routerFixture({ history });
  const node = await f.addNode("n1");
  await f.connect(node, "alice");
  const answers = [];
  for (let i = 0; i < 3; i++) {
    answers.push(
      PushResponse.parse(
        await (await f.request("/v1/push", {
          json: { users: ["alice"], data: i },
        })).json(),
      ),
    );
  }
  assert.deepEqual(answers[0]?.results, [
    { user: "alice", seq: null, devices: 1 },
  ]);
  assert.equal(answers[0]?.stored, false);
  assert.equal(node.delivered.length, 3);
  const warned = f.logs.filter((l) =>
    l.event === "history unavailable: pushes delivered live only"
  );
  assert.equal(warned.length, 1, "one warning for the outage, not one a push");
});

Deno.test("push - users whose node has no record are stored but not routed", async () => {
  await using f = await routerFixture();
  f.store.emit({ type: "user", user: "ghost", nodeId: "gone" });
  await waitFor(() => f.routes.size === 1, { what: "ghost mirrored" });
  const body = await (await f.request("/v1/push", {
    json: { users: ["ghost"], data: 1 },
  })).json();
  assert.deepEqual(body.results, [{ user: "ghost", seq: 1, devices: 0 }]);
  assert.equal(body.unreachable, undefined);
});

Deno.test("broadcast - reaches each live node once, draining ones too", async () => {
  const { f, n1, n2, n3 } = await threeNodes();
  await using _ = f;
  await n3.membership.setDraining(true);
  const response = await f.request("/v1/broadcast", {
    json: { data: { all: true }, id: "b1" },
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    id: "b1",
    nodes: 3,
    devices: 6,
  });
  for (const node of [n1, n2, n3]) {
    assert.equal(node.broadcasts.length, 1, node.nodeId);
    assert.equal(node.broadcasts[0]?.dataJson, '{"all":true}');
    assert.equal(node.delivered.length, 0);
  }
  const again = await (await f.request("/v1/broadcast", {
    json: { data: 2, id: "b1" },
  })).json();
  assert.equal(again.devices, 6);
  assert.equal(n1.broadcasts.length, 1);
});

Deno.test("broadcast - ids do not collide with push ids", async () => {
  const { f, n1 } = await threeNodes();
  await using _ = f;
  await (await f.request("/v1/push", {
    json: { users: ["alice"], data: 1, id: "same" },
  })).body?.cancel();
  const body = await (await f.request("/v1/broadcast", {
    json: { data: 1, id: "same" },
  })).json();
  assert.equal(body.nodes, 3);
  assert.equal(n1.broadcasts.length, 1);
});

Deno.test("broadcast - validates data and its size", async () => {
  await using f = await routerFixture();
  const missing = await f.request("/v1/broadcast", { json: { id: "x" } });
  assert.equal(missing.status, 400);
  assert.equal((await missing.json()).error.message, "data: is required");
  const big = await f.request("/v1/broadcast", {
    json: { data: "x".repeat(2000) },
  });
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error.code, "message_too_large");
});

/**
 * The targets without their epochs, after checking that each names the
 * epoch the user's history is in.
 */
async function withEpochs(
  history: History,
  targets: readonly DeliverTarget[],
): Promise<{ user: string; seq: number }[]> {
  for (const { user, epoch } of targets) {
    assert.equal(epoch, (await history.read(user, 0, 0)).epoch, user);
  }
  return targets.map(({ user, seq }) => ({ user, seq }));
}
