import assert from "node:assert/strict";
import { startTestGateway } from "../_support/embedded.ts";
import { TestClient } from "../_support/ws_client.ts";
import { waitFor } from "../_support/until.ts";

Deno.test("push - three devices of one user each get it once with the same seq", async () => {
  await using gw = await startTestGateway();
  const devices = await Promise.all(
    ["phone", "laptop", "tablet"].map(async (device) =>
      (await TestClient.welcomed(await gw.wsUrl("alice", { device }))).client
    ),
  );
  try {
    const { status, body } = await gw.api("POST", "/v1/push", {
      users: ["alice"],
      data: { hello: "world" },
    });
    assert.equal(status, 200);
    assert.deepEqual(body.results, [{ user: "alice", seq: 1, devices: 3 }]);
    for (const client of devices) {
      const [message] = await client.waitMessages(1);
      assert.equal(message!.seq, 1);
      assert.equal(message!.id, body.id);
      assert.deepEqual(message!.data, { hello: "world" });
      assert.equal(typeof message!.ts, "number");
    }
    // A second push proves nothing else was queued behind the first.
    await gw.api("POST", "/v1/push", { users: ["alice"], data: 2 });
    for (const client of devices) {
      const messages = await client.waitMessages(2);
      assert.deepEqual(messages.map((m) => m.seq), [1, 2]);
    }
  } finally {
    await Promise.all(devices.map((c) => c.close()));
  }
});

Deno.test("push - the device field reaches only connections with that label", async () => {
  await using gw = await startTestGateway();
  const phone =
    (await TestClient.welcomed(await gw.wsUrl("dora", { device: "phone" })))
      .client;
  const laptop =
    (await TestClient.welcomed(await gw.wsUrl("dora", { device: "laptop" })))
      .client;
  const { body } = await gw.api("POST", "/v1/push", {
    users: ["dora"],
    data: "only phone",
    device: "phone",
  });
  assert.equal(body.results[0].devices, 1);
  await phone.waitMessages(1);
  await gw.api("POST", "/v1/push", { users: ["dora"], data: "everyone" });
  const laptopMessages = await laptop.waitMessages(1);
  assert.equal(laptopMessages[0]!.data, "everyone");
  assert.equal((await phone.waitMessages(2)).length, 2);
  await phone.close();
  await laptop.close();
});

Deno.test("push - user A never receives user B's messages", async () => {
  await using gw = await startTestGateway();
  const a = (await TestClient.welcomed(await gw.wsUrl("user-a"))).client;
  const b = (await TestClient.welcomed(await gw.wsUrl("user-b"))).client;
  for (let i = 0; i < 20; i++) {
    await gw.api("POST", "/v1/push", {
      users: [i % 2 ? "user-a" : "user-b"],
      data: { i },
    });
  }
  const aMessages = await a.waitMessages(10);
  const bMessages = await b.waitMessages(10);
  assert.deepEqual(aMessages.map((m) => (m.data as { i: number }).i), [
    1,
    3,
    5,
    7,
    9,
    11,
    13,
    15,
    17,
    19,
  ]);
  assert.deepEqual(bMessages.map((m) => (m.data as { i: number }).i), [
    0,
    2,
    4,
    6,
    8,
    10,
    12,
    14,
    16,
    18,
  ]);
  // Each user's seq counts its own messages only.
  assert.deepEqual(aMessages.map((m) => m.seq), [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
  ]);
  await a.close();
  await b.close();
});

Deno.test("push - a repeated id returns the same answer and is delivered once", async () => {
  await using gw = await startTestGateway();
  const client = (await TestClient.welcomed(await gw.wsUrl("erin"))).client;
  const first = await gw.api("POST", "/v1/push", {
    users: ["erin"],
    data: "x",
    id: "order-42",
  });
  const second = await gw.api("POST", "/v1/push", {
    users: ["erin"],
    data: "x",
    id: "order-42",
  });
  assert.equal(first.status, 200);
  assert.deepEqual(second, first);
  await gw.api("POST", "/v1/push", { users: ["erin"], data: "after" });
  const messages = await client.waitMessages(2);
  assert.deepEqual(messages.map((m) => m.data), ["x", "after"]);
  assert.deepEqual(messages.map((m) => m.seq), [1, 2]);
  await client.close();
});

Deno.test("push - since replays exactly the missed messages, in order, then live", async () => {
  await using gw = await startTestGateway();
  const first = await TestClient.welcomed(await gw.wsUrl("frank"));
  await gw.api("POST", "/v1/push", { users: ["frank"], data: 1 });
  await gw.api("POST", "/v1/push", { users: ["frank"], data: 2 });
  await first.client.waitMessages(2);
  await first.client.close();
  for (let i = 3; i <= 6; i++) {
    await gw.api("POST", "/v1/push", { users: ["frank"], data: i });
  }

  const again = await TestClient.welcomed(
    await gw.wsUrl("frank", { since: 2, epoch: first.welcome.epoch }),
  );
  assert.equal(again.welcome.seq, 6);
  assert.equal(again.welcome.recovered, true);
  assert.equal(again.welcome.epoch, first.welcome.epoch);
  await gw.api("POST", "/v1/push", { users: ["frank"], data: 7 });
  const messages = await again.client.waitMessages(5);
  assert.deepEqual(messages.map((m) => m.seq), [3, 4, 5, 6, 7]);
  assert.deepEqual(messages.map((m) => m.data), [3, 4, 5, 6, 7]);
  await again.client.close();
});

Deno.test("push - a stale epoch replays the whole history with recovered: false", async () => {
  await using gw = await startTestGateway();
  for (let i = 1; i <= 3; i++) {
    await gw.api("POST", "/v1/push", { users: ["gina"], data: i });
  }
  const { client, welcome } = await TestClient.welcomed(
    await gw.wsUrl("gina", { since: 40, epoch: "from-a-previous-life" }),
  );
  assert.equal(welcome.recovered, false);
  const messages = await client.waitMessages(3);
  assert.deepEqual(messages.map((m) => m.seq), [1, 2, 3]);
  await client.close();
});

Deno.test("push - a since past the user's seq without epoch is treated as another epoch", async () => {
  await using gw = await startTestGateway();
  await gw.api("POST", "/v1/push", { users: ["hank"], data: 1 });
  const { client, welcome } = await TestClient.welcomed(
    await gw.wsUrl("hank", { since: 99 }),
  );
  assert.equal(welcome.recovered, false);
  assert.deepEqual((await client.waitMessages(1)).map((m) => m.seq), [1]);
  await client.close();
});

Deno.test("push - history older than the retained window reports recovered: false", async () => {
  await using gw = await startTestGateway({ WSGW_HISTORY_SIZE: "3" });
  const first = await TestClient.welcomed(await gw.wsUrl("ivy"));
  await first.client.close();
  for (let i = 1; i <= 6; i++) {
    await gw.api("POST", "/v1/push", { users: ["ivy"], data: i });
  }
  const again = await TestClient.welcomed(
    await gw.wsUrl("ivy", { since: 1, epoch: first.welcome.epoch }),
  );
  assert.equal(again.welcome.recovered, false);
  assert.deepEqual((await again.client.waitMessages(3)).map((m) => m.seq), [
    4,
    5,
    6,
  ]);
  await again.client.close();
});

Deno.test("push - a push racing a connect is delivered exactly once", async () => {
  await using gw = await startTestGateway();
  await gw.api("POST", "/v1/push", { users: ["jay"], data: 0 });
  for (let round = 0; round < 20; round++) {
    const url = await gw.wsUrl("jay", { since: 0 });
    const [opened, pushed] = await Promise.all([
      TestClient.welcomed(url),
      gw.api("POST", "/v1/push", { users: ["jay"], data: round }),
    ]);
    const seq = pushed.body.results[0].seq;
    await opened.client.next((f) => f.type === "message" && f.seq === seq);
    const seqs = opened.client.messages().map((m) => m.seq!);
    assert.equal(
      new Set(seqs).size,
      seqs.length,
      `round ${round}: no duplicates`,
    );
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      `round ${round}: in order`,
    );
    await opened.client.close();
  }
});

Deno.test("push - user ids with slash, spaces and emoji work end to end", async () => {
  await using gw = await startTestGateway();
  for (const user of ["team/alice", "Bob Smith", "🦊 fox", "a%2Fb", "x?y#z"]) {
    const { client, welcome } = await TestClient.welcomed(
      await gw.wsUrl(user, { device: "d" }),
    );
    assert.equal(welcome.userId, user);
    const push = await gw.api("POST", "/v1/push", {
      users: [user],
      data: user,
    });
    assert.equal(push.status, 200, user);
    assert.equal(push.body.results[0].devices, 1, user);
    assert.equal((await client.waitMessages(1))[0]!.data, user);
    const path = `/v1/users/${encodeURIComponent(user)}`;
    const presence = await gw.api("GET", `${path}/presence`);
    assert.equal(presence.body.user, user);
    assert.equal(presence.body.online, true, user);
    const history = await gw.api("GET", `${path}/messages`);
    assert.deepEqual(
      history.body.messages.map((m: { data: string }) => m.data),
      [user],
    );
    const kicked = await gw.api("POST", `${path}/disconnect`, {});
    assert.deepEqual(kicked.body, { closed: 1 }, user);
    assert.equal((await client.closed).code, 4003);
  }
});

Deno.test("push - an offline user's messages wait in history for the next connect", async () => {
  await using gw = await startTestGateway();
  const { body } = await gw.api("POST", "/v1/push", {
    users: ["kim"],
    data: "while away",
  });
  assert.deepEqual(body.results, [{ user: "kim", seq: 1, devices: 0 }]);
  const { client } = await TestClient.welcomed(
    await gw.wsUrl("kim", { since: 0 }),
  );
  assert.equal((await client.waitMessages(1))[0]!.data, "while away");
  await client.close();
});

Deno.test("broadcast - every connection gets it once, without seq", async () => {
  await using gw = await startTestGateway();
  const clients = await Promise.all(
    ["u1", "u2", "u2"].map(async (u) =>
      (await TestClient.welcomed(await gw.wsUrl(u))).client
    ),
  );
  const { status, body } = await gw.api("POST", "/v1/broadcast", {
    data: { news: 1 },
  });
  assert.equal(status, 200);
  assert.equal(body.devices, 3);
  assert.equal(body.nodes, 1);
  for (const client of clients) {
    const [message] = await client.waitMessages(1);
    assert.equal(message!.broadcast, true);
    assert.equal(message!.seq, undefined);
    assert.deepEqual(message!.data, { news: 1 });
  }
  await Promise.all(clients.map((c) => c.close()));
});

Deno.test("presence and disconnect - a device label closes only that device with 4003", async () => {
  await using gw = await startTestGateway();
  const phone =
    (await TestClient.welcomed(await gw.wsUrl("lee", { device: "phone" })))
      .client;
  const laptop =
    (await TestClient.welcomed(await gw.wsUrl("lee", { device: "laptop" })))
      .client;
  const presence = await gw.api("GET", "/v1/users/lee/presence");
  assert.equal(presence.body.online, true);
  assert.deepEqual(
    presence.body.devices.map((d: { device: string }) => d.device).sort(),
    ["laptop", "phone"],
  );
  for (const device of presence.body.devices) {
    assert.equal(device.nodeId, gw.node.nodeId);
    assert.equal(typeof device.connId, "string");
    assert.equal(typeof device.connectedAt, "number");
  }
  const kicked = await gw.api("POST", "/v1/users/lee/disconnect", {
    device: "phone",
  });
  assert.deepEqual(kicked.body, { closed: 1 });
  assert.equal((await phone.closed).code, 4003);
  assert.equal(laptop.isClosed, undefined);
  await gw.api("POST", "/v1/users/lee/disconnect");
  assert.equal((await laptop.closed).code, 4003);
  await waitFor(async () =>
    (await gw.api("GET", "/v1/users/lee/presence")).body.online === false
  );
  const offline = await gw.api("GET", "/v1/users/lee/presence");
  assert.deepEqual(offline.body, { user: "lee", online: false, devices: [] });
});

Deno.test("push - concurrent pushes to one user arrive once each, in seq order", async () => {
  await using gw = await startTestGateway();
  const { client } = await TestClient.welcomed(await gw.wsUrl("nora"));
  await Promise.all(
    Array.from(
      { length: 60 },
      (_, i) => gw.api("POST", "/v1/push", { users: ["nora"], data: i }),
    ),
  );
  const messages = await client.waitMessages(60);
  assert.deepEqual(
    messages.map((m) => m.seq),
    Array.from({ length: 60 }, (_, i) => i + 1),
  );
  await client.close();
});

Deno.test("push - a replay skips messages aimed at another device of the user", async () => {
  await using gw = await startTestGateway();
  const first = await TestClient.welcomed(
    await gw.wsUrl("olga", { device: "laptop" }),
  );
  await first.client.close();
  await gw.api("POST", "/v1/push", {
    users: ["olga"],
    data: "phone only",
    device: "phone",
  });
  await gw.api("POST", "/v1/push", { users: ["olga"], data: "everyone" });
  const again = await TestClient.welcomed(
    await gw.wsUrl("olga", {
      device: "laptop",
      since: 0,
      epoch: first.welcome.epoch,
    }),
  );
  await again.client.next((f) => f.type === "message" && f.data === "everyone");
  assert.deepEqual(again.client.messages().map((m) => [m.seq, m.data]), [[
    2,
    "everyone",
  ]]);
  const history = await gw.api("GET", "/v1/users/olga/messages");
  assert.deepEqual(
    history.body.messages.map((m: { device?: string }) => m.device),
    ["phone", undefined],
  );
  await again.client.close();
});
