import assert from "node:assert/strict";
import {
  DeliveryOrder,
  type DeliveryOrderOptions,
  type OrderedFrame,
} from "../../gateway/delivery_order.ts";
import { FakeUserHistory, RecordingSink } from "../_support/order_fakes.ts";

/** An order over a recording sink and a fake history, started at `lastSeq`. */
async function started(
  history: FakeUserHistory,
  lastSeq: number | undefined = history.seq,
  overrides: Partial<DeliveryOrderOptions> = {},
  floor?: number,
) {
  const sink = new RecordingSink();
  let overflowed = false;
  let readErrors = 0;
  const order = new DeliveryOrder({
    sink,
    read: (after) => history.read(after),
    maxQueueBytes: 1 << 20,
    onOverflow: () => overflowed = true,
    onReadError: () => readErrors++,
    pause: () => Promise.resolve(),
    ...overrides,
  });
  await order.start({ epoch: history.epoch, lastSeq, floor }, undefined);
  return {
    order,
    sink,
    overflowed: () => overflowed,
    readErrors: () => readErrors,
  };
}

const unstored = (id: string): OrderedFrame => ({
  seq: undefined,
  id,
  ts: 0,
  json: "{}",
});

Deno.test("delivery order - live frames in order go out at once, duplicates are dropped", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history);
  const one = history.append("a");
  const two = history.append("b");
  order.deliver(one);
  order.deliver(two);
  order.deliver(one);
  assert.deepEqual(sink.seqs(), [1, 2]);
  assert.deepEqual(history.reads, []);
});

Deno.test("delivery order - a frame past a gap waits while history fills the gap", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history);
  history.append("a");
  const two = history.append("b");
  order.deliver(two);
  await order.idle();
  assert.deepEqual(sink.ids(), ["a", "b"]);
});

Deno.test("delivery order - a fillable gap is never passed over, however many fills one busy stretch takes", async () => {
  const history = new FakeUserHistory();
  // While each read is out, two more pushes are stored and the later one
  // overtakes the earlier: every read leaves a new gap behind it.
  const read = (after: number) => {
    const slice = history.read(after);
    if (history.seq < 12) {
      history.append(`m${history.seq + 1}`);
      order.deliver(history.append(`m${history.seq + 1}`));
    }
    return slice;
  };
  history.append("m1");
  const sink = new RecordingSink();
  const order: DeliveryOrder = new DeliveryOrder({
    sink,
    read,
    maxQueueBytes: 1 << 20,
    onOverflow: () => {},
  });
  await order.start({ epoch: history.epoch, lastSeq: 0 }, undefined);
  order.deliver(history.append("m2"));
  await order.idle();
  for (const e of history.entries) order.deliver(history.frame(e.seq, e.id));
  assert.deepEqual(sink.seqs(), history.entries.map((e) => e.seq));
  assert.equal(sink.seen.filter((s) => s.type === "gap").length, 0);
});

Deno.test("delivery order - history down: a gap is held and read again until history answers", async () => {
  const history = new FakeUserHistory();
  const pauses: (() => void)[] = [];
  const { order, sink, readErrors } = await started(history, 0, {
    pause: () => new Promise((resolve) => pauses.push(resolve)),
  });
  history.append("a");
  history.failWith = new Error("redis down");
  order.deliver(history.append("b"));
  for (let failed = 1; failed <= 5; failed++) {
    while (pauses.length === 0) await Promise.resolve();
    assert.equal(readErrors(), failed);
    assert.deepEqual(sink.seqs(), [], "nothing passes the gap");
    if (failed === 5) history.failWith = undefined;
    pauses.shift()!();
  }
  await order.idle();
  assert.deepEqual(sink.ids(), ["a", "b"]);
  assert.equal(readErrors(), 5);
});

Deno.test("delivery order - a gap history no longer holds is announced, then the rest follows", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history, 0);
  for (const id of ["a", "b", "c", "d"]) history.append(id);
  history.trim(2);
  order.deliver(history.frame(4, "d"));
  await order.idle();
  assert.deepEqual(sink.seen, [
    { type: "gap", from: 1, to: 2 },
    { type: "message", seq: 3, id: "c" },
    { type: "message", seq: 4, id: "d" },
  ]);
});

Deno.test("delivery order - a new epoch is announced with reset and its messages follow from seq 1", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history, 0);
  for (const id of ["a", "b", "c"]) order.deliver(history.append(id));
  history.expire();
  const [x, y] = [history.append("x"), history.append("y")];
  order.deliver(x);
  order.deliver(y);
  await order.idle();
  order.deliver(history.append("z"));
  assert.deepEqual(sink.seen, [
    { type: "message", seq: 1, id: "a" },
    { type: "message", seq: 2, id: "b" },
    { type: "message", seq: 3, id: "c" },
    { type: "reset", epoch: "e2" },
    { type: "message", seq: 1, id: "x" },
    { type: "message", seq: 2, id: "y" },
    { type: "message", seq: 3, id: "z" },
  ]);
  assert.equal(order.epoch, "e2");
});

Deno.test("delivery order - a live-only push found later in history with a seq is not written again", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history);
  order.deliver(history.append("p1"));
  // The append timed out: delivered without seq; then it landed as seq 2.
  order.deliver(unstored("late"));
  order.deliver(unstored("late"));
  history.append("late");
  order.deliver(history.append("p3"));
  await order.idle();
  assert.deepEqual(sink.ids(), ["p1", "late", "p3"]);
  assert.equal(order.lastSeq, 3);
});

Deno.test("delivery order - broadcasts are not deduped here and keep their place while starting", async () => {
  const history = new FakeUserHistory();
  history.append("a");
  const sink = new RecordingSink();
  const order = new DeliveryOrder({
    sink,
    read: (after) => history.read(after),
    maxQueueBytes: 1 << 20,
    onOverflow: () => {},
  });
  const b = { ...unstored("b1"), broadcast: true };
  order.deliver(history.append("c"));
  order.deliver(b);
  order.deliver(b);
  await order.start(
    { epoch: history.epoch, lastSeq: 0 },
    await history.read(0),
  );
  assert.deepEqual(sink.ids(), ["a", "c", "b1", "b1"]);
});

Deno.test("delivery order - skips for another device move the seq without a write or a read", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history);
  history.append("other", "tablet");
  order.deliver({ ...history.frame(1, "other"), skip: true });
  order.deliver(history.append("mine"));
  assert.deepEqual(sink.ids(), ["mine"]);
  assert.deepEqual(history.reads, []);
});

Deno.test("delivery order - catch-up finds a message that never came live", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history);
  history.append("routed elsewhere");
  await order.catchUp();
  assert.deepEqual(sink.ids(), ["routed elsewhere"]);
});

Deno.test("delivery order - a catch-up with history down gives up after a few tries", async () => {
  const history = new FakeUserHistory();
  const { order, readErrors } = await started(history);
  history.failWith = new Error("down");
  await order.catchUp();
  assert.equal(readErrors(), 3);
  assert.equal(order.live, true);
});

Deno.test("delivery order - with an unknown start, the first seq seen becomes the start", async () => {
  const history = new FakeUserHistory();
  for (let i = 0; i < 8; i++) history.append(`old${i}`);
  const { order, sink } = await started(history, undefined);
  order.deliver(history.append("nine"));
  order.deliver(history.append("ten"));
  assert.deepEqual(sink.ids(), ["nine", "ten"]);
  assert.deepEqual(history.reads, []);
});

Deno.test("delivery order - a read that hits its limit reads on", async () => {
  const history = new FakeUserHistory();
  history.limit = 2;
  const { order, sink } = await started(history, 0);
  for (const id of ["a", "b", "c", "d", "e"]) history.append(id);
  await order.catchUp();
  assert.deepEqual(sink.ids(), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(history.reads, [0, 2, 4]);
});

Deno.test("delivery order - a queue past its budget overflows", () => {
  const history = new FakeUserHistory();
  const sink = new RecordingSink();
  let overflowed = false;
  const order = new DeliveryOrder({
    sink,
    read: (after) => history.read(after),
    maxQueueBytes: 30,
    onOverflow: () => overflowed = true,
  });
  for (let i = 0; i < 5; i++) order.deliver(history.append(`m${i}`));
  assert.equal(overflowed, true);
});

Deno.test("delivery order - a frame beyond what history holds (forged, or lost in a failover) is dropped after a read; later pushes still arrive", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history);
  order.deliver(history.append("a"));
  order.deliver(history.frame(1_000_000, "forged"));
  await order.idle();
  order.deliver(history.append("b"));
  order.deliver(history.append("c"));
  assert.deepEqual(sink.ids(), ["a", "b", "c"]);
  assert.ok(history.reads.length <= 2, `${history.reads.length} reads`);
});

Deno.test("delivery order - a catch-up that gives up on history still writes a frame that came during its last read", async () => {
  const history = new FakeUserHistory();
  const reads: { reject: (e: Error) => void }[] = [];
  const sink = new RecordingSink();
  const order = new DeliveryOrder({
    sink,
    read: () => new Promise((_, reject) => reads.push({ reject })),
    maxQueueBytes: 1 << 20,
    onOverflow: () => {},
    pause: () => Promise.resolve(),
  });
  await order.start({ epoch: history.epoch, lastSeq: 0 }, undefined);
  void order.catchUp();
  for (let failed = 0; failed < 3; failed++) {
    while (reads.length === 0) await Promise.resolve();
    // The last read is out when the next push arrives, in order.
    if (failed === 2) order.deliver(history.append("during"));
    reads.shift()!.reject(new Error("down"));
  }
  await order.idle();
  assert.deepEqual(sink.ids(), ["during"]);
  assert.equal(order.queuedBytes, 0);
});

Deno.test("delivery order - a live frame the connection already got from history counts as reached, not as offline", async () => {
  // A push answers `devices` from these results, and 0 tells the caller the
  // user is offline: a connection whose catch-up read wrote the message a
  // moment before its live copy arrived has it.
  const history = new FakeUserHistory();
  const { order, sink } = await started(history, 0);
  const one = history.append("a");
  await order.catchUp();
  assert.deepEqual(sink.seqs(), [1]);
  assert.equal(order.deliver(one), true);
  assert.deepEqual(sink.seqs(), [1], "written once");
  // A live-only push retried by a node client: also had.
  assert.equal(order.deliver(unstored("u1")), true);
  assert.equal(order.deliver(unstored("u1")), true);
  assert.equal(sink.ids().filter((id) => id === "u1").length, 1);
});

Deno.test("delivery order - a late frame of a seq announced gone does not count as reached, in an earlier gap too", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history, 0);
  for (const id of ["a", "b", "c", "d"]) history.append(id);
  history.trim(2);
  order.deliver(history.frame(4, "d"));
  await order.idle();
  assert.deepEqual(sink.seen[0], { type: "gap", from: 1, to: 2 });
  assert.equal(order.deliver(history.frame(2, "b")), false);
  assert.equal(order.deliver(history.frame(3, "c")), true);
  // A second gap: a late copy from the first one still was not had.
  for (const id of ["e", "f", "g", "h"]) history.append(id);
  history.trim(2);
  order.deliver(history.frame(8, "h"));
  await order.idle();
  assert.deepEqual(
    sink.seen.filter((f) => "type" in f && f.type === "gap"),
    [{ type: "gap", from: 1, to: 2 }, { type: "gap", from: 5, to: 6 }],
  );
  assert.equal(order.deliver(history.frame(2, "b")), false, "first gap");
  assert.equal(order.deliver(history.frame(6, "f")), false, "last gap");
  assert.equal(order.deliver(history.frame(3, "c")), true, "written");
});

Deno.test("delivery order - a late copy of a seq from before a new device's start does not count as reached", async () => {
  // A device connecting without `since` starts at the user's latest seq: a
  // live copy of that seq arriving afterwards never reaches it.
  const history = new FakeUserHistory();
  const one = history.append("a");
  const { order, sink } = await started(history, history.seq, {}, history.seq);
  assert.equal(order.deliver(one), false);
  assert.deepEqual(sink.seqs(), []);
  const two = history.append("b");
  assert.equal(order.deliver(two), true);
  assert.equal(order.deliver(two), true, "a retried copy: had");
});

Deno.test("delivery order - a stored copy of a push that went out live-only counts as reached", async () => {
  const history = new FakeUserHistory();
  const { order, sink } = await started(history, 0);
  assert.equal(order.deliver(unstored("x")), true);
  const stored = { ...history.append("x") };
  assert.equal(order.deliver(stored), true);
  assert.equal(sink.ids().filter((id) => id === "x").length, 1);
});
