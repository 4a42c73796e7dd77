import assert from "node:assert/strict";
import {
  WsgwClient,
  type WsgwClientOptions,
} from "../../client/wsgw_client.ts";
import { FakeGateway } from "../_support/client_fake_gateway.ts";
import {
  browserLikeWebSockets,
  fakeWebSockets,
  recordEvents,
} from "../_support/client_fakes.ts";
import { freePort, waitFor } from "../_support/until.ts";

function clientOf(url: string, options: Partial<WsgwClientOptions> = {}) {
  const client = new WsgwClient({
    url,
    token: "tok",
    minDelay: 1,
    maxDelay: 5,
    ...options,
  });
  return { client, events: recordEvents(client) };
}

const unauthorized = () =>
  Response.json({ error: { code: "unauthorized", message: "bad token" } }, {
    status: 401,
  });

for (
  const [code, name] of [[4001, "evicted"], [4003, "disconnected"]] as const
) {
  Deno.test(`client reconnect - no reconnect after ${code} (${name})`, async () => {
    await using gateway = new FakeGateway();
    const { client, events } = clientOf(gateway.url);
    try {
      client.connect();
      const conn = await gateway.connection(0);
      conn.welcome();
      await conn.close(code, name);
      await waitFor(() => events.closed.length === 1, { what: "closed" });
      assert.equal(client.state, "closed");
      assert.deepEqual(events.states, ["connecting", "connected", "closed"]);
      assert.deepEqual(events.closed, [{ code, reason: name }]);
      assert.deepEqual(events.disconnected, [{
        code,
        reason: name,
        wasConnected: true,
      }]);
      assert.deepEqual(events.errors.map((e) => [e.code, e.closeCode]), [[
        name,
        code,
      ]]);
      assert.equal(gateway.connections.length, 1);
    } finally {
      await client.close();
    }
  });
}

Deno.test("client reconnect - the token function is called before every connection", async () => {
  await using gateway = new FakeGateway();
  let calls = 0;
  const { client } = clientOf(gateway.url, {
    token: async () => {
      await Promise.resolve();
      return `token-${++calls}`;
    },
  });
  try {
    client.connect();
    for (let i = 0; i < 4; i++) {
      const conn = await gateway.connection(i);
      assert.equal(conn.token, `token-${i + 1}`);
      conn.welcome();
      if (i < 3) await conn.close(1012, "node draining");
    }
    assert.equal(calls, 4);
  } finally {
    await client.close();
  }
});

Deno.test("client reconnect - close() while open closes with 1000 and stops", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway.url);
  client.connect();
  const conn = await gateway.connection(0);
  conn.welcome();
  await waitFor(() => events.welcomes.length === 1);
  await client.close();
  assert.deepEqual(await conn.closed, { code: 1000, reason: "client closed" });
  assert.deepEqual(events.states, ["connecting", "connected", "closed"]);
  assert.deepEqual(events.closed, [{ code: 1000, reason: "client closed" }]);
  assert.equal(gateway.connections.length, 1);
});

Deno.test("client reconnect - close() during the backoff wait cancels the retry", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway.url, {
    minDelay: 60_000,
    maxDelay: 60_000,
  });
  client.connect();
  const conn = await gateway.connection(0);
  await conn.close(1011);
  await waitFor(() => events.connecting.length === 2, {
    what: "connecting again",
  });
  assert.equal(client.state, "connecting");
  await client.close(); // a leaked 60 s timer would fail the test
  assert.equal(client.state, "closed");
  assert.equal(gateway.connections.length, 1);
});

Deno.test("client reconnect - close() while the token is being fetched opens nothing", async () => {
  const sockets = fakeWebSockets();
  const { promise, resolve } = Promise.withResolvers<string>();
  const { client } = clientOf("ws://gateway.test/ws", {
    token: () => promise,
    WebSocket: sockets.WebSocket,
  });
  client.connect();
  await client.close();
  resolve("late");
  await promise;
  await new Promise((flushed) => setTimeout(flushed, 0));
  assert.equal(sockets.instances.length, 0);
});

Deno.test("client reconnect - a connection silent after a ping is dropped and replaced", async () => {
  await using gateway = new FakeGateway({ answerPings: false });
  const { client, events } = clientOf(gateway.url, {
    pingInterval: 10,
    pongTimeout: 30,
  });
  try {
    client.connect();
    const first = await gateway.connection(0);
    first.welcome();
    const second = await gateway.connection(1);
    assert.ok(first.pings() >= 1, "the client pinged");
    assert.deepEqual(await first.closed, {
      code: 3008,
      reason: "ping timeout",
    });
    second.welcome({ connId: "c2" });
    await waitFor(() => client.connId === "c2");
    assert.ok(events.states.includes("connecting"));
  } finally {
    await client.close();
  }
});

Deno.test("client reconnect - answered pings keep the connection", async () => {
  await using gateway = new FakeGateway();
  const { client } = clientOf(gateway.url, {
    pingInterval: 5,
    pongTimeout: 2000,
  });
  try {
    client.connect();
    const conn = await gateway.connection(0);
    conn.welcome();
    await waitFor(() => conn.pings() >= 5, { what: "5 pings" });
    assert.deepEqual(conn.received[0], { type: "ping" });
    assert.equal(gateway.connections.length, 1);
    assert.equal(client.state, "connected");
  } finally {
    await client.close();
  }
});

Deno.test("client reconnect - HTTP 401 with fresh tokens stops after maxAuthFailures", async () => {
  await using gateway = new FakeGateway({ refuse: unauthorized });
  const reasons: string[] = [];
  const { client, events } = clientOf(gateway.url, {
    token: ({ reason }) => {
      reasons.push(reason);
      return `fresh-${reasons.length}`;
    },
  });
  client.connect();
  await waitFor(() => events.closed.length === 1, { what: "closed" });
  assert.deepEqual(reasons, ["connect", "unauthorized"]);
  assert.equal(gateway.refused, 2);
  assert.equal(gateway.requests.length, 2, "Deno shows the 401: no probe");
  assert.deepEqual(events.errors.map((e) => [e.code, e.closeCode]), [[
    "unauthorized",
    1006,
  ]]);
  assert.deepEqual(events.closed, [{ code: 1006, reason: "unauthorized" }]);
  assert.equal(client.state, "closed");
  await client.close();
});

Deno.test("client reconnect - where the status is hidden, a probe answered by the server counts as refusal", async () => {
  await using gateway = new FakeGateway({ refuse: unauthorized });
  const sockets = browserLikeWebSockets();
  const { client, events } = clientOf(gateway.url, {
    WebSocket: sockets.WebSocket,
    maxAuthFailures: 2,
  });
  client.connect();
  await waitFor(() => events.closed.length === 1, { what: "closed" });
  assert.equal(sockets.dials(), 2);
  assert.equal(gateway.requests.length, 4, "each failure was probed once");
  // Probes carry the token in an Authorization header, never in the URL.
  assert.deepEqual(gateway.tokens, ["tok", "tok", "tok", "tok"]);
  assert.ok(gateway.requests.every((u) => u.search === ""));
  assert.equal(events.errors[0]!.code, "unauthorized");
  await client.close();
});

Deno.test("client reconnect - an unreachable gateway is an outage: it keeps retrying", async () => {
  const sockets = browserLikeWebSockets();
  const { client, events } = clientOf(`ws://127.0.0.1:${freePort()}/ws`, {
    WebSocket: sockets.WebSocket,
    maxAuthFailures: 2,
  });
  try {
    client.connect();
    await waitFor(() => sockets.dials() >= 6, { what: "6 dials" });
    assert.equal(client.state, "connecting");
    assert.deepEqual(events.errors, []);
  } finally {
    await client.close();
  }
  assert.deepEqual(events.closed, [{ code: 1000, reason: "client closed" }]);
});

Deno.test("client reconnect - 503 (a draining node) does not count against the token", async () => {
  await using gateway = new FakeGateway({
    refuse: () => new Response("draining", { status: 503 }),
  });
  const { client, events } = clientOf(gateway.url, { maxAuthFailures: 2 });
  try {
    client.connect();
    await waitFor(() => gateway.refused >= 6, { what: "6 refusals" });
    assert.equal(client.state, "connecting");
    assert.deepEqual(events.errors, []);
  } finally {
    await client.close();
  }
});

Deno.test("client reconnect - a connection that opens resets the auth failure count", async () => {
  await using gateway = new FakeGateway({
    refuse: (_url, token) => token === "bad" ? unauthorized() : undefined,
  });
  const tokens = ["bad", "bad", "good", "bad", "bad", "good"];
  const { client, events } = clientOf(gateway.url, {
    token: () => tokens.shift() ?? "good",
    maxAuthFailures: 3,
  });
  try {
    client.connect();
    const first = await gateway.connection(0);
    first.welcome();
    await first.close(1012);
    const second = await gateway.connection(1);
    second.welcome();
    await waitFor(() => events.welcomes.length === 2);
    assert.deepEqual(gateway.tokens, [
      "bad",
      "bad",
      "good",
      "bad",
      "bad",
      "good",
    ]);
    assert.deepEqual(events.errors, []);
  } finally {
    await client.close();
  }
});

Deno.test("client reconnect - invalid options are refused by name", () => {
  assert.throws(
    () => new WsgwClient({ url: "ftp://x/ws", token: "t" }),
    /url must be a ws: or wss: URL/,
  );
  assert.throws(
    () => new WsgwClient({ url: "ws://x/ws", token: "" }),
    /token must be/,
  );
  assert.throws(
    () => new WsgwClient({ url: "ws://x/ws", token: "t", minDelay: -1 }),
    /minDelay must be a positive number/,
  );
  assert.throws(
    () => new WsgwClient({ url: "ws://x/ws", token: "t", since: 1.5 }),
    /since must be a non-negative integer/,
  );
});
