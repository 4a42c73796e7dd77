/**
 * The frames of PROTOCOL.md beyond welcome/message: `reset` (a new epoch,
 * seq tracking from 0), `gap` (lost seqs skipped), and the id dedupe of
 * messages first delivered without seq.
 */
import assert from "node:assert/strict";
import { WsgwClient } from "../../client/wsgw_client.ts";
import { FakeGateway } from "../_support/client_fake_gateway.ts";
import { recordEvents } from "../_support/client_fakes.ts";
import { waitFor } from "../_support/until.ts";

function clientOf(gateway: FakeGateway) {
  const client = new WsgwClient({
    url: gateway.url,
    token: "tok",
    minDelay: 1,
    maxDelay: 5,
  });
  return { client, events: recordEvents(client) };
}

Deno.test("client frames - reset takes the new epoch, stands at 0 and delivers the new seqs from 1", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway);
  try {
    client.connect();
    const first = await gateway.connection(0);
    first.welcome({ seq: 0, epoch: "old" });
    for (const seq of [1, 2, 3]) first.message(seq);
    await waitFor(() => client.lastSeq === 3);
    first.send({ type: "reset", epoch: "new" });
    first.message(1, "new 1"); // would be a duplicate in the old epoch
    first.message(2, "new 2");
    first.message(2, "new 2 again");
    await waitFor(() => events.messages.length === 5, { what: "5 messages" });
    assert.deepEqual(events.resets, [{ epoch: "new", previousEpoch: "old" }]);
    assert.deepEqual(events.messages.slice(3).map((m) => m.data), [
      "new 1",
      "new 2",
    ]);
    assert.equal(client.epoch, "new");
    await first.close(1012);
    const second = await gateway.connection(1);
    assert.equal(second.url.search, "?since=2&epoch=new");
  } finally {
    await client.close();
  }
});

Deno.test("client frames - gap moves lastSeq to its end and reports the range", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway);
  try {
    client.connect();
    const conn = await gateway.connection(0);
    conn.welcome({ seq: 0, epoch: "e" });
    conn.message(1);
    conn.send({ type: "gap", from: 2, to: 6 });
    conn.message(5); // inside the gap: cannot be new any more
    conn.message(7);
    await waitFor(() => client.lastSeq === 7);
    assert.deepEqual(events.gaps, [{ from: 2, to: 6 }]);
    assert.deepEqual(events.messages.map((m) => m.seq), [1, 7]);
    conn.send({ type: "gap", from: 1, to: 3 }); // behind: lastSeq stays
    await waitFor(() => events.gaps.length === 2);
    assert.equal(client.lastSeq, 7);
    conn.send({ type: "gap", from: "x" });
    await waitFor(() => events.errors.length === 1);
    assert.equal(events.errors[0]!.code, "bad_frame");
  } finally {
    await client.close();
  }
});

Deno.test("client frames - a message first delivered without seq is not delivered again when replayed with one", async () => {
  await using gateway = new FakeGateway();
  const { client, events } = clientOf(gateway);
  try {
    client.connect();
    const first = await gateway.connection(0);
    first.welcome({ seq: 0, epoch: "e" });
    first.message(1);
    // History was down: the push came live, without seq.
    first.send({ type: "message", id: "p2", data: "live", ts: 1 });
    await waitFor(() => events.messages.length === 2);
    await first.close(1012);
    const second = await gateway.connection(1);
    assert.equal(second.url.searchParams.get("since"), "1");
    second.welcome({ seq: 3, epoch: "e" });
    // The replay has it with its seq now: dropped, but the seq counts.
    second.send({ type: "message", seq: 2, id: "p2", data: "live", ts: 1 });
    second.message(3);
    await waitFor(() => client.lastSeq === 3);
    assert.deepEqual(events.messages.map((m) => [m.seq, m.id]), [
      [1, "m1"],
      [undefined, "p2"],
      [3, "m3"],
    ]);
    // The same seq-less id twice on one connection is dropped too.
    second.send({ type: "message", id: "p4", data: 4, ts: 1 });
    second.send({ type: "message", id: "p4", data: 4, ts: 1 });
    second.message(4);
    await waitFor(() => client.lastSeq === 4);
    assert.deepEqual(events.messages.slice(3).map((m) => m.id), ["p4", "m4"]);
  } finally {
    await client.close();
  }
});
