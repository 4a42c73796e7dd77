import assert from "node:assert/strict";
import { backoffDelay } from "../../client/_backoff.ts";
import { WsgwClient } from "../../client/wsgw_client.ts";
import {
  FakeTimers,
  fakeWebSockets,
  recordEvents,
} from "../_support/client_fakes.ts";

Deno.test("client backoff - delays stay within full-jitter bounds", () => {
  for (let attempt = 0; attempt < 20; attempt++) {
    const ceiling = Math.min(30_000, 500 * 2 ** attempt);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(attempt, 500, 30_000, Math.random);
      assert.ok(delay >= 0 && delay < ceiling, `attempt ${attempt}: ${delay}`);
    }
    assert.equal(backoffDelay(attempt, 500, 30_000, () => 0), 0);
    assert.equal(
      backoffDelay(attempt, 500, 30_000, () => 0.5),
      Math.floor(ceiling / 2),
    );
  }
});

Deno.test("client backoff - a huge attempt number still caps at maxDelay", () => {
  assert.equal(backoffDelay(5000, 500, 30_000, () => 0.999999), 29_999);
});

/** Connections that open, then drop without a welcome: each one is a retry. */
function flakyClient(random: () => number) {
  const timers = new FakeTimers();
  const sockets = fakeWebSockets();
  const client = new WsgwClient({
    url: "ws://gateway.test/ws",
    token: "t",
    minDelay: 10,
    maxDelay: 100,
    stableAfter: 777,
    random,
    timers,
    WebSocket: sockets.WebSocket,
  });
  return { client, timers, sockets, events: recordEvents(client) };
}

Deno.test("client backoff - retry delays double from minDelay and cap at maxDelay", async () => {
  const { client, timers, sockets } = flakyClient(() => 0.9999);
  client.connect();
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    const socket = sockets.instances[i];
    assert.ok(socket, `dial #${i}`);
    socket.open();
    socket.serverClose(1006);
    const [delay, ...rest] = timers.pending;
    assert.equal(rest.length, 0, "only the retry timer is pending");
    delays.push(delay!);
    timers.fire(delay!);
  }
  assert.deepEqual(delays, [9, 19, 39, 79, 99, 99, 99]);
  await client.close();
  assert.deepEqual(timers.pending, []);
});

const WELCOME = {
  type: "welcome",
  connId: "c",
  nodeId: "n",
  userId: "u",
  seq: 0,
  epoch: "e",
  recovered: true,
};

Deno.test("client backoff - a welcome followed at once by a close does not reset the attempts (welcome-then-4008 loop)", async () => {
  const { client, timers, sockets } = flakyClient(() => 0.9999);
  client.connect();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    const socket = sockets.instances.at(-1)!;
    socket.open();
    socket.receive(WELCOME);
    socket.serverClose(4008, "slow consumer");
    const retry = timers.pending.filter((ms) => ms !== 777 && ms !== 10_000);
    assert.equal(retry.length, 1, `one retry pending: ${timers.pending}`);
    delays.push(retry[0]!);
    timers.fire(retry[0]!);
  }
  assert.deepEqual(delays, [9, 19, 39, 79, 99]);
  await client.close();
  assert.deepEqual(timers.pending, []);
});

Deno.test("client backoff - a connection that stays up stableAfter resets the attempts", async () => {
  const { client, timers, sockets } = flakyClient(() => 0.9999);
  client.connect();
  for (const expected of [9, 19, 39]) {
    const socket = sockets.instances.at(-1)!;
    socket.open();
    socket.serverClose(1006);
    assert.deepEqual(timers.pending, [expected]);
    timers.fire(expected);
  }
  const socket = sockets.instances.at(-1)!;
  socket.open();
  socket.receive(WELCOME);
  timers.fire(777); // stableAfter
  socket.serverClose(1012, "node draining");
  assert.deepEqual(
    timers.pending.filter((ms) => ms !== 777 && ms !== 10_000),
    [9],
    "back to minDelay after a stable connection",
  );
  await client.close();
});

Deno.test("client backoff - waits in state connecting, not closed", async () => {
  const { client, timers, sockets, events } = flakyClient(() => 0.5);
  client.connect();
  sockets.instances[0]!.open();
  sockets.instances[0]!.serverClose(1006);
  assert.equal(client.state, "connecting");
  assert.deepEqual(events.states, ["connecting"]);
  assert.deepEqual(events.connecting, [
    { attempt: 1, delay: 0, cause: "connect" },
    { attempt: 2, delay: 5, cause: "backoff" },
  ]);
  assert.deepEqual(events.disconnected, [{
    code: 1006,
    reason: "",
    wasConnected: false,
  }]);
  assert.equal(timers.pending.length, 1);
  await client.close();
  assert.deepEqual(events.states.at(-1), "closed");
  assert.deepEqual(timers.pending, [], "close() cancels the retry");
});
