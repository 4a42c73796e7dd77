import assert from "node:assert/strict";
import {
  type ChannelOptions,
  ChannelSession,
  type PendingFrame,
  type SessionSocket,
} from "../../gateway/channel_session.ts";
import type { CloseReason } from "../../shared/protocol.ts";

class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: number | undefined;
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  seqs(): (number | string)[] {
    return this.sent.map((json) => JSON.parse(json).seq ?? "broadcast");
  }
}

const frame = (seq: number | undefined, skip = false): PendingFrame => ({
  seq,
  ts: 0,
  json: JSON.stringify({ type: "message", seq }),
  skip,
});

/** A session over a fake socket whose history holds `history` seqs. */
function session(
  history: number[] = [],
  overrides: Partial<ChannelOptions> = {},
) {
  const socket = new FakeSocket();
  const fills: number[] = [];
  const closes: CloseReason[] = [];
  const s = new ChannelSession(
    { connId: "c1", user: "u", device: null, connectedAt: 0 },
    socket,
    {
      sendBufferBytes: 1 << 20,
      inboundRate: 10,
      onClose: (_, reason) => closes.push(reason),
      fill: (after) => {
        fills.push(after);
        return Promise.resolve(
          history.filter((seq) => seq > after).map((seq) => frame(seq)),
        );
      },
      ...overrides,
    },
  );
  return { s, socket, fills, closes };
}

Deno.test("channel session - replay then queued live frames, each seq once and in order", async () => {
  const { s, socket } = session();
  s.deliver(frame(4));
  s.deliver(frame(3));
  await s.goLive(1, [frame(2), frame(3)]);
  s.deliver(frame(5));
  s.deliver(frame(3));
  assert.deepEqual(socket.seqs(), [2, 3, 4, 5]);
});

Deno.test("channel session - a message past a gap waits while the gap is read from history", async () => {
  const { s, socket, fills } = session([5, 6, 7]);
  await s.goLive(4, []);
  // 7 and 6 overtook 5 on their way here.
  s.deliver(frame(7));
  s.deliver(frame(6));
  await s.idle();
  s.deliver(frame(5));
  s.deliver(frame(8));
  assert.deepEqual(socket.seqs(), [5, 6, 7, 8]);
  assert.deepEqual(fills, [4]);
});

Deno.test("channel session - an unfillable gap is passed over, nothing else is held back", async () => {
  let failed = 0;
  const { s, socket } = session([], {
    fill: () => Promise.reject(new Error("history down")),
    onGap: () => failed++,
    fillRetryMs: 1,
  });
  await s.goLive(1, []);
  s.deliver(frame(3));
  s.deliver(frame(4));
  await s.idle();
  assert.deepEqual(socket.seqs(), [3, 4]);
  assert.ok(failed >= 1);
});

Deno.test("channel session - with history down, a message that was only overtaken is still written in order", async () => {
  let failed = 0;
  const { s, socket } = session([], {
    fill: () => Promise.reject(new Error("history down")),
    onGap: () => failed++,
    fillRetryMs: 50,
  });
  await s.goLive(1, []);
  s.deliver(frame(3));
  // 2 comes while the session waits to ask history again.
  await new Promise((resolve) => setTimeout(resolve, 20));
  s.deliver(frame(2));
  await s.idle();
  s.deliver(frame(4));
  assert.deepEqual(socket.seqs(), [2, 3, 4]);
  assert.equal(failed, 1);
});

Deno.test("channel session - skips for another device move the seq without a write", async () => {
  const { s, socket, fills } = session([2]);
  await s.goLive(1, []);
  s.deliver(frame(2, true));
  s.deliver(frame(3));
  assert.deepEqual(socket.seqs(), [3]);
  assert.deepEqual(fills, []);
});

Deno.test("channel session - catch-up finds a message that never came live", async () => {
  const { s, socket } = session([1, 2]);
  await s.goLive(1, []);
  await s.catchUp();
  assert.deepEqual(socket.seqs(), [2]);
});

Deno.test("channel session - broadcasts keep their place between seq messages", async () => {
  const { s, socket } = session();
  s.deliver(frame(3));
  s.deliver(frame(undefined));
  s.deliver(frame(2));
  await s.goLive(1, []);
  assert.deepEqual(socket.seqs(), [2, "broadcast", 3]);
});

Deno.test("channel session - with an unknown start, any seq is taken and becomes the start", async () => {
  const { s, socket, fills } = session([1, 2, 3]);
  await s.goLive(undefined, []);
  s.deliver(frame(9));
  s.deliver(frame(10));
  s.deliver(frame(9));
  assert.deepEqual(socket.seqs(), [9, 10]);
  assert.deepEqual(fills, []);
});

Deno.test("channel session - a queue past the send budget closes the slow consumer with 4008", () => {
  const { s, socket, closes } = session([], { sendBufferBytes: 100 });
  for (let seq = 1; seq < 10; seq++) s.deliver(frame(seq));
  assert.equal(socket.closedWith, 4008);
  assert.deepEqual(closes, ["slowConsumer"]);
  assert.equal(s.deliver(frame(11)), false);
});

Deno.test("channel session - a full socket buffer closes the slow consumer with 4008", async () => {
  const { s, socket } = session([], { sendBufferBytes: 1000 });
  await s.goLive(0, []);
  socket.bufferedAmount = 990;
  s.deliver(frame(1));
  assert.equal(socket.closedWith, 4008);
  assert.deepEqual(socket.sent, []);
});
