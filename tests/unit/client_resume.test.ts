import assert from "node:assert/strict";
import { connectUrl } from "../../client/_connect_url.ts";
import {
  WsgwClient,
  type WsgwClientOptions,
} from "../../client/wsgw_client.ts";
import { FakeGateway } from "../_support/client_fake_gateway.ts";
import { recordEvents } from "../_support/client_fakes.ts";
import { waitFor } from "../_support/until.ts";

/** A client of `gateway` with test-sized delays. */
function clientOf(
  gateway: FakeGateway,
  options: Partial<WsgwClientOptions> = {},
) {
  const client = new WsgwClient({
    url: gateway.url,
    token: "tok",
    minDelay: 1,
    maxDelay: 5,
    ...options,
  });
  return { client, events: recordEvents(client) };
}

Deno.test("client resume - the first URL has no query (the token rides in a subprotocol); messages are delivered in order", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway, { token: "a.b-c_d~e" });
  try {
    client.connect();
    const conn = await gateway.connection(0);
    assert.equal(conn.url.search, "");
    assert.equal(conn.token, "a.b-c_d~e");
    conn.welcome({ seq: 0, epoch: "e1", recovered: false });
    conn.message(1, { hello: "world" });
    conn.message(undefined, "to all");
    conn.message(2);
    await waitFor(() => events.messages.length === 3, { what: "3 messages" });
    assert.deepEqual(events.messages, [
      { seq: 1, id: "m1", data: { hello: "world" }, ts: 1 },
      { id: "b", data: "to all", ts: 1, broadcast: true },
      { seq: 2, id: "m2", data: { n: 2 }, ts: 1 },
    ]);
    assert.equal(client.lastSeq, 2);
    assert.deepEqual(events.welcomes, [{
      connId: "c1",
      nodeId: "n1",
      userId: "u1",
      seq: 0,
      epoch: "e1",
      recovered: false,
    }]);
    assert.deepEqual(
      [client.state, client.connId, client.nodeId, client.epoch],
      ["connected", "c1", "n1", "e1"],
    );
  } finally {
    await client.close();
  }
});

Deno.test("client resume - duplicates by seq are dropped within an epoch", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway);
  try {
    client.connect();
    const conn = await gateway.connection(0);
    conn.welcome();
    for (const seq of [1, 2, 2, 1, 3, 3]) conn.message(seq);
    conn.message(undefined);
    conn.message(undefined); // the same broadcast id again: a duplicate
    conn.message(4);
    await waitFor(() => events.messages.some((m) => m.seq === 4));
    assert.deepEqual(events.messages.map((m) => m.seq ?? "b"), [
      1,
      2,
      3,
      "b",
      4,
    ]);
  } finally {
    await client.close();
  }
});

Deno.test("client resume - reconnect carries since and epoch, and drops a replayed duplicate", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway);
  try {
    client.connect();
    const first = await gateway.connection(0);
    first.welcome({ seq: 0, epoch: "ep/1 +x", recovered: false });
    first.message(1);
    first.message(2);
    await waitFor(() => client.lastSeq === 2);
    await first.close(1012, "node draining");
    const second = await gateway.connection(1);
    assert.equal(
      second.url.search,
      `?since=2&epoch=${encodeURIComponent("ep/1 +x")}`,
    );
    assert.equal(second.url.searchParams.get("epoch"), "ep/1 +x");
    second.welcome({ seq: 3, epoch: "ep/1 +x", recovered: true });
    second.message(2); // a node may replay the edge again: dropped
    second.message(3);
    await waitFor(() => client.lastSeq === 3);
    assert.deepEqual(events.messages.map((m) => m.seq), [1, 2, 3]);
  } finally {
    await client.close();
  }
});

Deno.test("client resume - a new epoch (recovered: false) resets tracking and delivers the replay", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway);
  try {
    client.connect();
    const first = await gateway.connection(0);
    first.welcome({ seq: 0, epoch: "old", recovered: false });
    for (const seq of [1, 2, 3, 4, 5]) first.message(seq);
    await waitFor(() => client.lastSeq === 5);
    await first.close(1012);
    const second = await gateway.connection(1);
    assert.equal(second.url.searchParams.get("since"), "5");
    assert.equal(second.url.searchParams.get("epoch"), "old");
    // History was lost: seqs restart in a new epoch, whole history replayed.
    second.welcome({ seq: 2, epoch: "new", recovered: false });
    assert.equal((await waitFor(() => events.welcomes[1])).recovered, false);
    assert.equal(client.epoch, "new");
    assert.equal(client.lastSeq, 0);
    second.message(1, "new 1");
    second.message(2, "new 2");
    second.message(2, "new 2 again");
    await waitFor(() => client.lastSeq === 2);
    assert.deepEqual(events.messages.slice(5).map((m) => m.data), [
      "new 1",
      "new 2",
    ]);
    await second.close(1011);
    const third = await gateway.connection(2);
    assert.equal(third.url.searchParams.get("since"), "2");
    assert.equal(third.url.searchParams.get("epoch"), "new");
  } finally {
    await client.close();
  }
});

Deno.test("client resume - a fresh client resumes from the welcome's seq, not from 0", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway);
  try {
    client.connect();
    const first = await gateway.connection(0);
    // No `since`: the node replays nothing; seq 7 is the user's latest.
    first.welcome({ seq: 7, epoch: "e", recovered: false });
    await waitFor(() => events.welcomes.length === 1);
    assert.equal(client.lastSeq, 7);
    first.message(7, "raced the connect"); // pushed while connecting: still new
    await waitFor(() => events.messages.length === 1);
    await first.close(1012);
    const second = await gateway.connection(1);
    assert.equal(second.url.searchParams.get("since"), "7");
  } finally {
    await client.close();
  }
});

Deno.test("client resume - since/epoch options resume a saved position", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway, { since: 41, epoch: "saved" });
  try {
    client.connect();
    const conn = await gateway.connection(0);
    assert.equal(conn.url.search, "?since=41&epoch=saved");
    conn.welcome({ seq: 42, epoch: "saved", recovered: true });
    conn.message(41);
    conn.message(42);
    await waitFor(() => events.messages.length === 1);
    assert.equal(events.messages[0]!.seq, 42);
  } finally {
    await client.close();
  }
});

Deno.test("client resume - connectUrl keeps other parameters and replaces stale ones", () => {
  const base = new URL("wss://gw.example/ws?app=x&since=9");
  assert.equal(
    connectUrl(base, { since: 3, epoch: undefined }),
    "wss://gw.example/ws?app=x&since=3",
  );
  assert.equal(
    connectUrl(base, { since: 3, epoch: "e" }, "t/+="),
    "wss://gw.example/ws?app=x&token=t%2F%2B%3D&since=3&epoch=e",
  );
  assert.equal(connectUrl(new URL("ws://h/ws"), undefined), "ws://h/ws");
});

Deno.test("client resume - the query transport puts the token in the URL for old gateways", async () => {
  await using gateway = new FakeGateway();
  const { client } = clientOf(gateway, {
    token: "a b&c=d/é",
    tokenTransport: "query",
  });
  try {
    client.connect();
    const conn = await gateway.connection(0);
    assert.equal(conn.url.search, `?token=${encodeURIComponent("a b&c=d/é")}`);
  } finally {
    await client.close();
  }
});

Deno.test("client resume - server error frames and unreadable frames become error events", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway);
  try {
    client.connect();
    const conn = await gateway.connection(0);
    conn.welcome();
    conn.send({ type: "error", code: "unknown_type", message: "unknown type" });
    conn.send("not json");
    conn.send({ type: "future-frame" }); // ignored: forward compatible
    conn.message(1);
    await waitFor(() => events.messages.length === 1);
    assert.deepEqual(events.errors.map((e) => [e.code, e.serverCode]), [
      ["server", "unknown_type"],
      ["bad_frame", undefined],
    ]);
    assert.equal(events.errors[0]!.message, "unknown type");
    assert.equal(client.state, "connected");
  } finally {
    await client.close();
  }
});
