/**
 * Model-based test of one connection's delivery order: random interleavings
 * of pushes delivered at once, late, twice or never; live-only pushes (some
 * of which land in history later); broadcasts; history reads that succeed,
 * fail or hang; trims and expiries (new epochs); catch-ups. Afterwards, with
 * history answering again, the client must have seen, per epoch, every
 * stored message of its device once and in seq order, every other seq
 * announced as gone (and really gone) or skipped for another device or
 * already seen live, and every live-only message once.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Announcement,
  DeliveryOrder,
  type HistorySlice,
  type OrderedFrame,
  type OrderSink,
} from "../../gateway/delivery_order.ts";

type Entry = { seq: number; id: string; other: boolean };
type Seen =
  | { type: "message"; seq?: number; epoch?: string; id: string }
  | Announcement;

/** The system under test with its surroundings: history, network, client. */
class World implements OrderSink {
  epoch = "e1";
  #epochs = 1;
  seq = 0;
  /** Every entry ever stored, by epoch (what the client may be shown). */
  readonly log = new Map<string, Entry[]>([["e1", []]]);
  /** Retained entries of the current epoch. */
  retained: Entry[] = [];
  /** `epoch:seq` of entries that left history (trimmed or expired). */
  readonly gone = new Set<string>();
  /** Frames on their way to the node, in any order. */
  network: OrderedFrame[] = [];
  readonly reads: {
    after: number;
    resolve: (s: HistorySlice) => void;
    reject: (e: Error) => void;
  }[] = [];
  readonly seen: Seen[] = [];
  readonly liveOnly = new Set<string>();
  #ids = 0;
  order!: DeliveryOrder;

  newId(): string {
    return `m${++this.#ids}`;
  }

  store(id: string, other = false): OrderedFrame {
    const entry = { seq: ++this.seq, id, other };
    this.retained.push(entry);
    this.log.get(this.epoch)!.push(entry);
    return this.#frame(entry);
  }

  #frame(e: Entry): OrderedFrame {
    return {
      seq: e.seq,
      epoch: this.epoch,
      id: e.id,
      ts: 0,
      json: `{"seq":${e.seq}}`,
      ...(e.other ? { skip: true } : {}),
    };
  }

  trim(keep: number): void {
    const cut = Math.max(0, this.retained.length - keep);
    for (const e of this.retained.slice(0, cut)) {
      this.gone.add(`${this.epoch}:${e.seq}`);
    }
    this.retained = this.retained.slice(cut);
  }

  expire(): void {
    for (const e of this.retained) this.gone.add(`${this.epoch}:${e.seq}`);
    this.epoch = `e${++this.#epochs}`;
    this.log.set(this.epoch, []);
    this.seq = 0;
    this.retained = [];
  }

  slice(after: number): HistorySlice {
    return {
      epoch: this.epoch,
      seq: this.seq,
      after,
      more: false,
      frames: this.retained.filter((e) => e.seq > after).map((e) =>
        this.#frame(e)
      ),
    };
  }

  read = (after: number): Promise<HistorySlice> =>
    new Promise((resolve, reject) =>
      this.reads.push({ after, resolve, reject })
    );

  write(frame: OrderedFrame): boolean {
    this.seen.push({
      type: "message",
      id: frame.id,
      ...(frame.seq === undefined ? {} : { seq: frame.seq }),
      ...(frame.epoch === undefined ? {} : { epoch: frame.epoch }),
    });
    return true;
  }

  announce(announcement: Announcement): void {
    this.seen.push(announcement);
  }

  room(): undefined {
    return undefined;
  }
}

/** Lets the order's promise chains run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await Promise.resolve();
}

type Command = fc.AsyncCommand<object, World>;

function command(
  name: string,
  run: (w: World) => void | Promise<void>,
): Command {
  return {
    check: () => true,
    async run(_m, w) {
      await run(w);
      await settle();
    },
    toString: () => name,
  };
}

const commands = [
  fc.constantFrom("now", "later", "never", "other").map((how) =>
    command(`push(${how})`, (w) => {
      const frame = w.store(w.newId(), how === "other");
      if (how === "now") w.order.deliver(frame);
      if (how === "later") w.network.push(frame);
    })
  ),
  fc.constantFrom("no", "stored", "retried").map((lands) =>
    command(`liveOnly(lands=${lands})`, (w) => {
      const id = w.newId();
      w.liveOnly.add(id);
      w.order.deliver({ seq: undefined, id, ts: 0, json: "{}" });
      // The append timed out but landed; a retry may deliver it with a seq.
      if (lands !== "no") {
        const frame = w.store(id);
        if (lands === "retried") w.network.push(frame);
      }
    })
  ),
  fc.constant(command("broadcast", (w) => {
    const id = w.newId();
    w.liveOnly.add(id);
    w.order.deliver({ seq: undefined, id, ts: 0, json: "{}", broadcast: true });
  })),
  fc.tuple(fc.nat(), fc.boolean()).map(([i, twice]) =>
    command(`arrive(${i}, twice=${twice})`, (w) => {
      if (w.network.length === 0) return;
      const at = i % w.network.length;
      const frame = w.network[at]!;
      if (!twice) w.network.splice(at, 1);
      w.order.deliver(frame);
    })
  ),
  fc.integer({ min: 1, max: 4 }).map((keep) =>
    command(`trim(${keep})`, (w) => w.trim(keep))
  ),
  fc.constant(command("expire", (w) => w.expire())),
  fc.boolean().map((ok) =>
    command(`answerRead(${ok})`, (w) => {
      const read = w.reads.shift();
      if (!read) return;
      if (ok) read.resolve(w.slice(read.after));
      else read.reject(new Error("history down"));
    })
  ),
  fc.constant(command("catchUp", (w) => void w.order.catchUp())),
];

/** Answers every read until the order is live with nothing waiting. */
async function quiesce(w: World): Promise<void> {
  for (let round = 0; round < 500; round++) {
    await settle();
    const read = w.reads.shift();
    if (read) read.resolve(w.slice(read.after));
    else if (w.order.live && w.order.queuedBytes === 0) return;
  }
  throw new Error("the order did not settle with history answering");
}

/** The invariant: what the client saw, checked against everything stored. */
function check(w: World, startEpoch: string, startSeq: number): void {
  const ids = w.seen.flatMap((s) => s.type === "message" ? [s.id] : []);
  assert.equal(new Set(ids).size, ids.length, `an id twice: ${ids}`);
  for (const id of w.liveOnly) assert.ok(ids.includes(id), `${id} lost`);
  const seenLiveOnly = new Set(
    w.seen.flatMap((s) =>
      s.type === "message" && s.seq === undefined ? [s.id] : []
    ),
  );
  let epoch = startEpoch;
  let at = startSeq;
  /** Seqs after `at` up to `to` (exclusive) may pass unseen only for a reason. */
  const passSilently = (to: number) => {
    for (let seq = at + 1; seq < to; seq++) {
      const entry = w.log.get(epoch)![seq - 1]!;
      assert.ok(
        entry.other || seenLiveOnly.has(entry.id),
        `${epoch}:${seq} (${entry.id}) neither seen, announced nor skippable`,
      );
    }
  };
  for (const s of w.seen) {
    if (s.type === "reset") {
      epoch = s.epoch;
      at = 0;
    } else if (s.type === "gap") {
      assert.ok(
        s.from > at && s.to >= s.from,
        `gap ${s.from}..${s.to} at ${at}`,
      );
      passSilently(s.from);
      for (let seq = s.from; seq <= s.to; seq++) {
        assert.ok(
          w.gone.has(`${epoch}:${seq}`),
          `${epoch}:${seq} announced gone but held`,
        );
      }
      at = s.to;
    } else if (s.seq !== undefined) {
      assert.equal(s.epoch, epoch, `message of ${s.epoch} in ${epoch}`);
      assert.ok(s.seq > at, `seq ${s.seq} after ${at}`);
      passSilently(s.seq);
      const entry = w.log.get(epoch)![s.seq - 1]!;
      assert.equal(s.id, entry.id);
      assert.equal(entry.other, false, "another device's message written");
      at = s.seq;
    }
  }
  assert.equal(epoch, w.epoch, "the client ends in the current epoch");
  passSilently(w.seq + 1);
}

Deno.test("delivery order property - per epoch, every stored message once and in order, the rest announced; live-only ones once", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 4 }),
      fc.commands(commands, { maxCommands: 40 }),
      async (stored, cmds) => {
        const w = new World();
        for (let i = 0; i < stored; i++) w.store(w.newId());
        w.order = new DeliveryOrder({
          sink: w,
          read: w.read,
          maxQueueBytes: 1 << 20,
          onOverflow: () => assert.fail("queue overflow"),
          pause: () => Promise.resolve(),
        });
        const startSeq = w.seq;
        await w.order.start({ epoch: w.epoch, lastSeq: startSeq }, undefined);
        await fc.asyncModelRun(() => ({ model: {}, real: w }), cmds);
        for (const frame of w.network) w.order.deliver(frame);
        w.network = [];
        await quiesce(w);
        void w.order.catchUp();
        await quiesce(w);
        check(w, "e1", startSeq);
      },
    ),
    { numRuns: Number(Deno.env.get("WSGW_PROPERTY_RUNS") ?? 3000) },
  );
});
