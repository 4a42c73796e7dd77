/**
 * Every wait of the client is bounded, and it reacts to the browser's
 * lifecycle: timing-only tests with fake timers, sockets, fetch and
 * environment (no real time passes).
 */
import assert from "node:assert/strict";
import {
  WsgwClient,
  WsgwClientError,
  type WsgwClientOptions,
  type WsgwEnvironment,
  WsgwStopError,
} from "../../client/wsgw_client.ts";
import {
  FakeTimers,
  fakeWebSockets,
  recordEvents,
} from "../_support/client_fakes.ts";

const WELCOME = {
  type: "welcome",
  connId: "c",
  nodeId: "n",
  userId: "u",
  seq: 0,
  epoch: "e",
  recovered: true,
};

/** A browser-like environment the test drives. */
class FakeEnvironment extends EventTarget implements WsgwEnvironment {
  isOnline = true;
  isVisible = true;
  online(): boolean {
    return this.isOnline;
  }
  visible(): boolean {
    return this.isVisible;
  }
  fire(type: string): void {
    this.dispatchEvent(new Event(type));
  }
}

/** Lets pending promise callbacks (token function, probe) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function setup(options: Partial<WsgwClientOptions> = {}) {
  const timers = new FakeTimers();
  const sockets = fakeWebSockets();
  const environment = new FakeEnvironment();
  let clock = 1_000_000;
  const client = new WsgwClient({
    url: "ws://gateway.test/ws",
    token: "t",
    minDelay: 100,
    maxDelay: 10_000,
    pingInterval: 1000,
    pongTimeout: 500,
    handshakeTimeout: 3000,
    tokenTimeout: 2000,
    stableAfter: 5000,
    random: () => 0.5,
    timers,
    environment,
    now: () => clock,
    probe: false,
    WebSocket: sockets.WebSocket,
    ...options,
  });
  return {
    client,
    timers,
    sockets,
    environment,
    events: recordEvents(client),
    advance: (ms: number) => clock += ms,
  };
}

Deno.test("client lifecycle - connect() resolves with the welcome and wasRecovering", async () => {
  const { client, sockets, events } = setup({ since: 3, epoch: "e" });
  const ready = client.connect();
  sockets.instances[0]!.open();
  sockets.instances[0]!.receive(WELCOME);
  const connected = await ready;
  assert.equal(connected.connId, "c");
  assert.equal(connected.wasRecovering, true);
  assert.deepEqual(events.connected, [connected]);
  assert.equal(client.state, "connected");
  await client.close();
});

Deno.test("client lifecycle - connect() rejects with a typed error when the client stops first", async () => {
  const { client } = setup();
  const ready = client.connect();
  await client.close();
  await assert.rejects(ready, (error) => {
    assert.ok(error instanceof WsgwClientError);
    assert.equal(error.code, "closed");
    return true;
  });
});

Deno.test("client lifecycle - a token function that hangs times out and is retried", async () => {
  const signals: AbortSignal[] = [];
  const { client, timers, events, sockets } = setup({
    token: ({ signal }) => {
      signals.push(signal);
      return new Promise<string>(() => {});
    },
  });
  client.connect();
  await flush();
  assert.deepEqual(timers.pending, [2000]);
  timers.fire(2000);
  await flush();
  assert.deepEqual(events.errors.map((e) => e.code), ["token_timeout"]);
  assert.ok(signals[0]!.aborted, "the call's signal was aborted");
  assert.equal(client.state, "connecting");
  assert.deepEqual(events.connecting.at(-1), {
    attempt: 2,
    delay: 50,
    cause: "backoff",
  });
  timers.fire(50);
  await flush();
  assert.equal(signals.length, 2, "called again");
  assert.equal(sockets.instances.length, 0);
  await client.close();
  assert.deepEqual(timers.pending, []);
});

Deno.test("client lifecycle - WsgwStopError from the token function stops the client for good", async () => {
  const { client, events, sockets } = setup({
    token: () => {
      throw new WsgwStopError("logged out");
    },
  });
  const ready = client.connect();
  await assert.rejects(ready, (error) => {
    assert.ok(error instanceof WsgwClientError);
    assert.equal(error.code, "token_stopped");
    return true;
  });
  assert.equal(client.state, "closed");
  assert.deepEqual(events.errors.map((e) => [e.code, e.message]), [[
    "token_stopped",
    "logged out",
  ]]);
  assert.deepEqual(events.closed, [{ code: 1000, reason: "token stopped" }]);
  assert.equal(sockets.instances.length, 0);
});

Deno.test("client lifecycle - no welcome within handshakeTimeout drops the socket and retries", async () => {
  const { client, timers, sockets, events } = setup();
  client.connect();
  const socket = sockets.instances[0]!; // stays CONNECTING, like a stopped node
  timers.fire(3000);
  assert.equal(socket.readyState, 3, "closed by the client");
  assert.deepEqual(events.errors.map((e) => e.code), ["handshake_timeout"]);
  assert.deepEqual(events.disconnected, [{
    code: 3008,
    reason: "handshake timeout",
    wasConnected: false,
  }]);
  timers.fire(50);
  assert.equal(sockets.instances.length, 2, "dialed again");
  await client.close();
});

Deno.test("client lifecycle - a 503 with Retry-After (read by the CORS probe) delays the retry that long", async () => {
  const requests: RequestInit[] = [];
  const { client, timers, sockets, events } = setup({
    probe: true,
    fetch: (_url, init) => {
      requests.push(init!);
      return Promise.resolve(
        new Response("busy", { status: 503, headers: { "retry-after": "7" } }),
      );
    },
  });
  client.connect();
  sockets.instances[0]!.serverClose(1006); // the browser hides the 503
  await flush();
  assert.equal(requests[0]!.mode, "cors");
  assert.deepEqual(requests[0]!.headers, { authorization: "Bearer t" });
  assert.deepEqual(events.connecting.at(-1), {
    attempt: 2,
    delay: 7050,
    cause: "retry-after",
  });
  assert.deepEqual(events.errors, [], "an outage is no error");
  assert.ok(timers.pending.includes(7050));
  await client.close();
});

Deno.test("client lifecycle - an unreadable probe answer (CORS refused) never counts as a refusal", async () => {
  const { client, sockets, events } = setup({
    probe: true,
    maxAuthFailures: 1,
    fetch: () => Promise.reject(new TypeError("Failed to fetch")),
  });
  client.connect();
  sockets.instances[0]!.serverClose(1006);
  await flush();
  assert.equal(client.state, "connecting");
  assert.deepEqual(events.errors, []);
  await client.close();
});

Deno.test("client lifecycle - offline drops the socket at once; online redials at once with jitter", async () => {
  const { client, timers, sockets, environment, events } = setup();
  client.connect();
  sockets.instances[0]!.open();
  sockets.instances[0]!.receive(WELCOME);
  environment.isOnline = false;
  environment.fire("offline");
  assert.equal(sockets.instances[0]!.readyState, 3);
  assert.equal(client.state, "connecting");
  assert.deepEqual(events.disconnected, [{
    code: 3008,
    reason: "offline",
    wasConnected: true,
  }]);
  // Offline for long: the backoff grows meanwhile.
  for (let i = 1; i < 6; i++) {
    timers.fire(events.connecting.at(-1)!.delay);
    sockets.instances[i]!.serverClose(1006);
    await flush();
  }
  assert.ok(events.connecting.at(-1)!.delay > 1000);
  environment.isOnline = true;
  environment.fire("online");
  assert.deepEqual(events.connecting.at(-1), {
    attempt: 1,
    delay: 100,
    cause: "online",
  });
  timers.fire(100);
  assert.equal(sockets.instances.length, 7);
  await client.close();
});

Deno.test("client lifecycle - visible after a long sleep pings the live socket at once, and a dead one is replaced", async () => {
  const { client, timers, sockets, environment, events, advance } = setup();
  client.connect();
  const socket = sockets.instances[0]!;
  socket.open();
  socket.receive(WELCOME);
  environment.isVisible = false;
  environment.fire("visibilitychange");
  advance(60_000);
  environment.isVisible = true;
  environment.fire("visibilitychange");
  assert.deepEqual(socket.sent, ['{"type":"ping"}']);
  timers.fire(500); // no pong
  assert.equal(socket.readyState, 3);
  assert.deepEqual(events.disconnected.at(-1), {
    code: 3008,
    reason: "ping timeout",
    wasConnected: true,
  });
  assert.equal(client.state, "connecting");
  await client.close();
});

Deno.test("client lifecycle - a short hide changes nothing", async () => {
  const { client, sockets, environment, advance } = setup();
  client.connect();
  const socket = sockets.instances[0]!;
  socket.open();
  socket.receive(WELCOME);
  environment.isVisible = false;
  environment.fire("visibilitychange");
  advance(500);
  environment.isVisible = true;
  environment.fire("visibilitychange");
  assert.deepEqual(socket.sent, []);
  await client.close();
});

Deno.test("client lifecycle - close() removes the lifecycle listeners", async () => {
  const { client, sockets, environment } = setup();
  client.connect();
  await client.close();
  environment.fire("online");
  assert.equal(sockets.instances.length, 1);
  assert.equal(client.state, "closed");
});

/** An unsigned JWT-shaped token expiring at `exp` (seconds). */
function jwtExpiring(exp: number, id: string): string {
  const part = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-")
      .replace(/\//g, "_");
  return `${part({ alg: "HS256" })}.${part({ exp, sub: "u", id })}.sig`;
}

Deno.test("client lifecycle - the token is refreshed on the live connection before it expires", async () => {
  const reasons: string[] = [];
  let clock = 1_000_000_000;
  const { client, timers, sockets } = setup({
    now: () => clock,
    refreshBefore: 60_000,
    token: ({ reason }) => {
      reasons.push(reason);
      return jwtExpiring(clock / 1000 + 300, `t${reasons.length}`);
    },
  });
  client.connect();
  await flush();
  const socket = sockets.instances[0]!;
  socket.open();
  socket.receive(WELCOME);
  // 300 s token, refreshed 60 s before exp.
  assert.ok(timers.pending.includes(240_000), `${timers.pending}`);
  clock += 240_000;
  timers.fire(240_000);
  await flush();
  assert.deepEqual(reasons, ["connect", "refresh"]);
  const frames = socket.sent.map((s) => JSON.parse(s));
  assert.deepEqual(frames, [{
    type: "token",
    token: jwtExpiring(clock / 1000 + 300, "t2"),
  }]);
  assert.equal(client.state, "connected", "no reconnect");
  assert.ok(timers.pending.includes(240_000), "the next refresh is planned");
  await client.close();
});

Deno.test("client lifecycle - setToken() sends a new token to the live connection and uses it for the next one", async () => {
  const { client, sockets } = setup({ tokenTransport: "query" });
  client.connect();
  const socket = sockets.instances[0]!;
  socket.open();
  socket.receive(WELCOME);
  client.setToken("fresh");
  assert.deepEqual(socket.sent.map((s) => JSON.parse(s)), [{
    type: "token",
    token: "fresh",
  }]);
  socket.serverClose(1012);
  await client.close();
  client.connect();
  assert.match(sockets.instances.at(-1)!.url, /token=fresh/);
  assert.throws(() => client.setToken(""), /token must be/);
  await client.close();
});

Deno.test("client lifecycle - a refused refresh (error frame token_*) is reported, the connection stays", async () => {
  const { client, sockets, events } = setup();
  client.connect();
  const socket = sockets.instances[0]!;
  socket.open();
  socket.receive(WELCOME);
  socket.receive({
    type: "error",
    code: "token_mismatch",
    message: "the new token names another user or device",
  });
  assert.deepEqual(events.errors.map((e) => [e.code, e.serverCode]), [[
    "token_refresh",
    "token_mismatch",
  ]]);
  assert.equal(client.state, "connected");
  await client.close();
});

Deno.test("client lifecycle - WsgwStopError from a refresh closes the live socket and stops", async () => {
  let clock = 1_000_000_000;
  let calls = 0;
  const { client, timers, sockets, events } = setup({
    now: () => clock,
    refreshBefore: 60_000,
    token: () => {
      if (++calls > 1) throw new WsgwStopError("logged out");
      return jwtExpiring(clock / 1000 + 300, "t1");
    },
  });
  client.connect();
  await flush();
  const socket = sockets.instances[0]!;
  socket.open();
  socket.receive(WELCOME);
  clock += 240_000;
  timers.fire(240_000);
  await flush();
  assert.equal(socket.readyState, 3, "the live socket was closed");
  assert.equal(client.state, "closed");
  assert.deepEqual(events.closed, [{ code: 1000, reason: "token stopped" }]);
  assert.deepEqual(timers.pending, []);
});

Deno.test("client lifecycle - close() with a peer that never completes the close handshake resolves within its bound", async () => {
  const { client, timers, sockets } = setup();
  client.connect();
  const socket = sockets.instances[0]!;
  socket.open();
  socket.receive(WELCOME);
  socket.close = () => {}; // a dead peer: no close event ever comes
  let resolved = false;
  const closing = client.close().then(() => resolved = true);
  await flush();
  assert.equal(resolved, false);
  assert.deepEqual(timers.pending, [500], "bounded by min(1 s, pongTimeout)");
  timers.fire(500);
  await closing;
  assert.equal(client.state, "closed");
});

Deno.test("client lifecycle - an error before open without a close event (Node 20) still ends the attempt", async () => {
  const { client, sockets, events } = setup();
  client.connect();
  sockets.instances[0]!.onerror?.(new Event("error"));
  await flush();
  assert.deepEqual(events.disconnected, [{
    code: 1006,
    reason: "",
    wasConnected: false,
  }]);
  assert.equal(events.connecting.length, 2, "a retry is scheduled");
  await client.close();
});
