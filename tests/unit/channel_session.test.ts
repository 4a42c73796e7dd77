import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type ChannelOptions,
  ChannelSession,
  type OrderedFrame,
  type SessionSocket,
} from "../../gateway/channel_session.ts";
import type { CloseReason } from "../../shared/protocol.ts";

const utf8 = new TextEncoder();

/** A socket whose peer reads nothing until `drain`: sends fill its buffer. */
class FakeSocket implements SessionSocket {
  readyState = 1;
  #buffered = 0;
  /** Times the session asked for `bufferedAmount`. */
  reads = 0;
  sent: string[] = [];
  closedWith: number | undefined;
  get bufferedAmount(): number {
    this.reads++;
    return this.#buffered;
  }
  send(data: string): void {
    this.sent.push(data);
    this.#buffered += utf8.encode(data).length;
  }
  /** The peer read `bytes` (or everything). */
  drain(bytes = this.#buffered): void {
    this.#buffered = Math.max(0, this.#buffered - bytes);
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  seqs(): (number | string)[] {
    return this.sent.map((json) => JSON.parse(json).seq ?? "broadcast");
  }
}

const frame = (seq: number | undefined, skip = false): OrderedFrame => ({
  seq,
  epoch: "e1",
  id: `m${seq}`,
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
      fill: (_info, after) => {
        fills.push(after);
        const frames = history.filter((seq) => seq > after).map((seq) =>
          frame(seq)
        );
        return Promise.resolve({
          epoch: "e1",
          seq: history.at(-1) ?? 0,
          after,
          frames,
          more: false,
        });
      },
      ...overrides,
    },
  );
  return { s, socket, fills, closes };
}

Deno.test("channel session - replay then queued live frames, each seq once and in order", async () => {
  const { s, socket } = session([1, 2, 3, 4]);
  s.deliver(frame(4));
  s.deliver(frame(3));
  await s.goLive({ epoch: "e1", lastSeq: 1 }, {
    epoch: "e1",
    seq: 3,
    after: 1,
    frames: [frame(2), frame(3)],
    more: false,
  });
  s.deliver(frame(5));
  s.deliver(frame(3));
  assert.deepEqual(socket.seqs(), [2, 3, 4, 5]);
});

Deno.test("channel session - gap and reset announcements go out as frames", async () => {
  const { s, socket } = session([3]);
  await s.goLive({ epoch: "e1", lastSeq: 0 }, undefined);
  s.deliver(frame(3));
  await s.idle();
  assert.deepEqual(socket.sent.map((json) => JSON.parse(json)), [
    { type: "gap", from: 1, to: 2 },
    { type: "message", seq: 3 },
  ]);
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
  await s.goLive({ epoch: "e1", lastSeq: 0 }, undefined);
  let seq = 0;
  while (socket.closedWith === undefined && seq < 1000) s.deliver(frame(++seq));
  assert.equal(socket.closedWith, 4008);
  const bytes = socket.sent.reduce((n, json) => n + json.length, 0);
  assert.ok(bytes <= 1000, `${bytes} bytes sent within 1000`);
  assert.ok(
    bytes + frame(seq).json.length > 1000,
    "the refused frame did not fit",
  );
});

Deno.test("channel session - writes far below the buffer limit do not read the socket's buffered amount", async () => {
  const { s, socket } = session([], { sendBufferBytes: 1 << 20 });
  await s.goLive({ epoch: "e1", lastSeq: 0 }, undefined);
  const before = socket.reads;
  for (let seq = 1; seq <= 200; seq++) s.deliver(frame(seq));
  assert.equal(socket.sent.length, 200);
  assert.equal(socket.reads, before);
});

Deno.test("channel session - a write is refused exactly when the socket's buffered bytes plus the frame pass the limit", async () => {
  // Frames of any text (multi-byte UTF-8 too), the peer reading at random
  // moments: each write decides as a reading of the socket before it would.
  const step = fc.oneof(
    fc.record({
      text: fc.string({
        unit: fc.constantFrom("a", "é", "€", "😀", "\n"),
        maxLength: 200,
        size: "max",
      }),
    }),
    fc.record({ drain: fc.nat({ max: 400 }) }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 50, max: 2000 }),
      fc.array(step, { maxLength: 120 }),
      async (limit, steps) => {
        const { s, socket } = session([], { sendBufferBytes: limit });
        await s.goLive({ epoch: "e1", lastSeq: 0 }, undefined);
        let seq = 0;
        for (const item of steps) {
          if ("drain" in item) {
            socket.drain(item.drain);
            continue;
          }
          seq++;
          const next: OrderedFrame = {
            ...frame(seq),
            json: JSON.stringify({ type: "message", seq, text: item.text }),
          };
          const buffered = socket.bufferedAmount;
          const refuse = buffered + next.json.length > limit;
          const sentBefore = socket.sent.length;
          s.deliver(next);
          assert.equal(socket.sent.length === sentBefore, refuse);
          if (refuse) {
            assert.equal(socket.closedWith, 4008);
            return;
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("channel session - a closed session takes nothing and reads no more", async () => {
  const { s, socket, fills } = session([1, 2]);
  await s.goLive({ epoch: "e1", lastSeq: 0 }, undefined);
  s.close("disconnected");
  assert.equal(s.deliver(frame(2)), false);
  await s.catchUp();
  assert.deepEqual(fills, []);
  assert.equal(socket.closedWith, 4003);
});

Deno.test("channel session - inbound frames: bursts of twice the rate pass, then 1008 until the bucket refills", () => {
  let now = 1_000_000;
  const { s, socket, closes } = session([], { now: () => now });
  // inboundRate 10: a burst of 20 passes, the 21st closes the session.
  for (let i = 0; i < 20; i++) assert.equal(s.admitInbound(), true, `#${i}`);
  assert.equal(socket.closedWith, undefined);
  assert.equal(s.admitInbound(), false);
  assert.deepEqual(closes, ["policy"]);
  assert.equal(socket.closedWith, 1008);

  // Another session: 100 ms refill one frame; a long pause refills at most the burst.
  const other = session([], { now: () => now });
  for (let i = 0; i < 20; i++) other.s.admitInbound();
  now += 100;
  assert.equal(other.s.admitInbound(), true, "refilled one after 100 ms");
  now += 60_000;
  for (let i = 0; i < 20; i++) {
    assert.equal(other.s.admitInbound(), true, `after a pause #${i}`);
  }
  assert.equal(other.s.admitInbound(), false, "the burst is capped at 20");
});

Deno.test("channel session - the buffered-bytes bound is never below what the socket and the queue hold", async () => {
  const { s, socket } = session([1, 2, 3], { sendBufferBytes: 1 << 20 });
  const check = (when: string) => {
    const bound = s.bufferedBytesBound;
    assert.ok(bound >= s.bufferedBytes, `${when}: bound ${bound}`);
  };
  // Before the live phase, frames wait in the order's queue.
  s.deliver(frame(4));
  s.deliver(frame(5));
  check("queued");
  await s.goLive({ epoch: "e1", lastSeq: 3 }, undefined);
  check("queue written");
  for (let seq = 6; seq < 30; seq++) s.deliver(frame(seq));
  check("written");
  socket.drain(100);
  check("partly drained");
  socket.drain();
  check("drained");
  assert.equal(s.bufferedBytes, 0);
  assert.equal(s.bufferedBytesBound, 0, "a reading resets the bound");
});
