import assert from "node:assert/strict";
import { historyWith, routerFixture } from "../_support/router_fixture.ts";
import { waitFor } from "../_support/until.ts";
import { MemoryHistory } from "../../shared/history/mod.ts";
import {
  MessagesResponse,
  NodesResponse,
  PresenceResponse,
} from "../../router/schemas.ts";

Deno.test("presence - aggregates devices over owner nodes, oldest first", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  const n2 = await f.addNode("n2");
  const n3 = await f.addNode("n3");
  await f.connect(n1, "alice", "phone", 300);
  await f.connect(n2, "alice", "laptop", 100);
  await f.connect(n1, "alice", null, 200);
  const response = await f.request("/v1/users/alice/presence");
  assert.equal(response.status, 200);
  const body = PresenceResponse.parse(await response.json());
  assert.equal(body.user, "alice");
  assert.equal(body.online, true);
  assert.deepEqual(
    body.devices.map((d) => [d.nodeId, d.device, d.connectedAt]),
    [
      ["n2", "laptop", 100],
      ["n1", null, 200],
      ["n1", "phone", 300],
    ],
  );
  assert.deepEqual(n3.presenceAsked, []);
  assert.deepEqual(n1.presenceAsked, ["alice"]);
});

Deno.test("presence - an offline user is not online and no node is asked", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  const body = await (await f.request("/v1/users/nobody/presence")).json();
  assert.deepEqual(body, { user: "nobody", online: false, devices: [] });
  assert.equal(n1.entered, 0);
});

Deno.test("presence - a failing owner is listed unreachable", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  const n2 = await f.addNode("n2");
  await f.connect(n1, "alice");
  await f.connect(n2, "alice");
  n2.failWith = new Error("down");
  const body = await (await f.request("/v1/users/alice/presence")).json();
  assert.equal(body.devices.length, 1);
  assert.deepEqual(body.unreachable, ["n2"]);
});

Deno.test("disconnect - kicks on every owner node and sums closed", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  const n2 = await f.addNode("n2");
  const n3 = await f.addNode("n3");
  await f.connect(n1, "alice", "phone");
  await f.connect(n1, "alice", "laptop");
  await f.connect(n2, "alice", "phone");
  const response = await f.request("/v1/users/alice/disconnect", {
    method: "POST",
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { closed: 3 });
  assert.deepEqual(n1.kicks, [{ user: "alice" }]);
  assert.deepEqual(n2.kicks, [{ user: "alice" }]);
  assert.deepEqual(n3.kicks, []);
});

Deno.test("disconnect - one device label only", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice", "phone");
  await f.connect(n1, "alice", "laptop");
  const body = await (await f.request("/v1/users/alice/disconnect", {
    json: { device: "phone" },
  })).json();
  assert.deepEqual(body, { closed: 1 });
  assert.deepEqual(n1.kicks, [{ user: "alice", device: "phone" }]);
  const bad = await f.request("/v1/users/alice/disconnect", {
    json: { device: 3 },
  });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.message, "device: must be a string");
});

Deno.test("users - percent-encoded ids with slash, space, percent and emoji reach the right user", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  for (const user of ["a/b", "a b", "😀 é", "100%", "a/../b", "x?y#z"]) {
    await f.connect(n1, user);
    const path = `/v1/users/${encodeURIComponent(user)}`;
    const presence = await (await f.request(`${path}/presence`)).json();
    assert.equal(presence.user, user);
    assert.equal(presence.online, true, user);
    assert.equal(n1.presenceAsked.at(-1), user);

    await (await f.request("/v1/push", {
      json: { users: [user], data: user },
    })).body?.cancel();
    const messages = await (await f.request(`${path}/messages`)).json();
    assert.equal(messages.user, user);
    assert.deepEqual(messages.messages.map((m: { data: string }) => m.data), [
      user,
    ]);

    const kicked = await (await f.request(`${path}/disconnect`, {
      method: "POST",
    })).json();
    assert.deepEqual(kicked, { closed: 1 }, user);
    assert.equal(n1.kicks.at(-1)?.user, user);
  }
});

Deno.test("users - a malformed escape or invalid id in the path is 400 naming user", async () => {
  await using f = await routerFixture();
  const cases: [string, string][] = [
    ["%E2%82", "user: must be percent-encoded UTF-8"],
    ["%0A", "user: must not contain control characters"],
    [
      encodeURIComponent("x".repeat(129)),
      "user: must be 1 to 128 characters",
    ],
  ];
  for (const [segment, message] of cases) {
    const response = await f.request(`/v1/users/${segment}/presence`);
    assert.equal(response.status, 400, segment);
    assert.deepEqual(await response.json(), {
      error: { code: "bad_request", message },
    });
  }
});

Deno.test("messages - since and limit page through history oldest first", async () => {
  await using f = await routerFixture();
  for (let i = 1; i <= 5; i++) {
    await (await f.request("/v1/push", {
      json: { users: ["u"], data: { i }, id: `m${i}` },
    })).body?.cancel();
  }
  const all = MessagesResponse.parse(
    await (await f.request("/v1/users/u/messages")).json(),
  );
  assert.equal(all.seq, 5);
  assert.deepEqual(all.messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(all.messages[0]?.data, { i: 1 });
  assert.equal(all.messages[0]?.id, "m1");
  const page = await (await f.request("/v1/users/u/messages?since=2&limit=2"))
    .json();
  assert.deepEqual(page.messages.map((m: { seq: number }) => m.seq), [3, 4]);
  assert.equal(page.seq, 5);
  assert.equal(page.epoch, all.epoch);
  const none = await (await f.request("/v1/users/nobody/messages")).json();
  assert.deepEqual(none.messages, []);
  assert.equal(none.seq, 0);
});

Deno.test("messages - bad since or limit is 400 naming the parameter", async () => {
  await using f = await routerFixture();
  const cases: [string, string][] = [
    ["since=-1", "since: must be a non-negative integer"],
    ["since=abc", "since: must be a non-negative integer"],
    ["since=1.5", "since: must be a non-negative integer"],
    ["limit=0", "limit: must be an integer from 1 to 1000"],
    ["limit=1001", "limit: must be an integer from 1 to 1000"],
    ["limit=ten", "limit: must be an integer from 1 to 1000"],
  ];
  for (const [query, message] of cases) {
    const response = await f.request(`/v1/users/u/messages?${query}`);
    assert.equal(response.status, 400, query);
    assert.equal((await response.json()).error.message, message);
  }
  const max = await f.request("/v1/users/u/messages?limit=1000");
  assert.equal(max.status, 200);
  await max.body?.cancel();
});

Deno.test("messages - a history failure is 503 history_unavailable", async () => {
  const memory = new MemoryHistory({ size: 10, ttl: 60 });
  const history = historyWith(memory, {
    read: () => Promise.reject(new Error("redis down")),
  });
  await using f = await routerFixture({ history });
  const response = await f.request("/v1/users/u/messages");
  assert.equal(response.status, 503);
  assert.equal((await response.json()).error.code, "history_unavailable");
});

Deno.test("nodes - lists every live node with its stats; a silent one as unreachable", async () => {
  await using f = await routerFixture();
  const n2 = await f.addNode("n2");
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice");
  await f.connect(n1, "alice");
  await f.connect(n1, "bob");
  n2.failWith = new Error("timeout");
  await n2.membership.setDraining(true);
  await waitFor(() => f.routes.node("n2")?.draining, { what: "drain seen" });
  const response = await f.request("/v1/nodes");
  assert.equal(response.status, 200);
  const body = NodesResponse.parse(await response.json());
  assert.deepEqual(body, [
    {
      nodeId: "n1",
      url: "http://n1.test",
      connections: 3,
      users: 2,
      draining: false,
      startedAt: 1,
      reachable: true,
      version: null,
      lease: null,
      counters: null,
    },
    {
      nodeId: "n2",
      url: "http://n2.test",
      connections: null,
      users: null,
      draining: true,
      startedAt: 1,
      reachable: false,
      version: null,
      lease: null,
      counters: null,
    },
  ]);
});

Deno.test("nodes - a node that left is no longer listed", async () => {
  await using f = await routerFixture();
  const n1 = await f.addNode("n1");
  await f.addNode("n2");
  await n1.membership.leave();
  await waitFor(() => !f.routes.node("n1"), { what: "n1 gone" });
  const body = await (await f.request("/v1/nodes")).json();
  assert.deepEqual(body.map((n: { nodeId: string }) => n.nodeId), ["n2"]);
});

Deno.test("presence - an end user's address goes to admin keys only", async () => {
  await using f = await routerFixture({
    env: { WSGW_API_KEYS: "push-only-key:push,test-key" },
  });
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice", "phone", 100);
  const asPush = await (await f.request("/v1/users/alice/presence", {
    headers: { authorization: "Bearer push-only-key" },
  })).json();
  assert.equal(asPush.devices.length, 1);
  assert.equal("remoteAddress" in asPush.devices[0], false);
  const asAdmin = await (await f.request("/v1/users/alice/presence")).json();
  assert.equal(asAdmin.devices[0].remoteAddress, "203.0.113.7");
});
