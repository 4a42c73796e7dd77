/**
 * The order of one connection's messages, without the socket: which frame
 * goes out next, which is a duplicate, which waits for a gap to be read from
 * history, and what the client must be told when history says messages are
 * gone (`gap`) or started over (`reset`).
 *
 * What holds, whatever the arrival order, duplicates and history failures:
 * the connection gets the stored messages of its epoch in seq order, each
 * once; a range it will never get is announced with a `gap` frame, and only
 * after a successful history read showed it gone; a new epoch is announced
 * with a `reset` frame before its first message. A failed read never lets a
 * gap pass: the frames wait (bounded by the session's queue budget) and the
 * read is tried again with backoff.
 *
 * A message without seq (a broadcast, or a push the history could not
 * store) goes out at once; a push id seen that way is remembered, so the same
 * push found later in history with a seq is not written again.
 *
 * @module
 */

/** A message on its way to one connection. */
export type OrderedFrame = {
  /** Seq in the user's history; undefined for a live-only message. */
  seq: number | undefined;
  /** Epoch the seq belongs to; undefined when not known (live-only, older routers). */
  epoch?: string;
  /** Push id. */
  id: string;
  ts: number;
  /** The message frame as sent. */
  json: string;
  /** Meant for another device of the user: moves the seq on, writes nothing. */
  skip?: boolean;
  /** A broadcast: never in history, deduped by the node, not here. */
  broadcast?: boolean;
};

/** One history read: the user's epoch and latest seq, and the entries read. */
export type HistorySlice = {
  epoch: string;
  /** Latest seq of the user in `epoch`. */
  seq: number;
  /** The seq the read started after. */
  after: number;
  /** Entries with seq > `after`, oldest first. */
  frames: OrderedFrame[];
  /** The read stopped at its limit: entries after the last one may follow. */
  more: boolean;
};

/** What the client is told besides messages. */
export type Announcement =
  | { type: "reset"; epoch: string }
  | { type: "gap"; from: number; to: number };

/** Where the order writes to: the socket of a ChannelSession, or a test double. */
export interface OrderSink {
  /** Writes one message frame; false when it could not (the socket is closing). */
  write(frame: OrderedFrame, live: boolean): boolean;
  /** Sends a reset or gap frame. */
  announce(announcement: Announcement): void;
  /** A promise while the socket should take no more (replays wait on it); else undefined. */
  room(): Promise<void> | undefined;
}

/** Options of {@link DeliveryOrder}. */
export type DeliveryOrderOptions = {
  sink: OrderSink;
  /** Reads the user's history after a seq, as frames for this connection. */
  read: (after: number) => Promise<HistorySlice>;
  /** Bytes of frames that may wait for a replay or a gap; past it `onOverflow`. */
  maxQueueBytes: number;
  /** The queue passed its budget: the session closes as a slow consumer. */
  onOverflow: () => void;
  /** A frame was dropped because this connection already had it. */
  onDuplicate?: () => void;
  /** A history read failed; it is tried again. */
  onReadError?: (error: unknown) => void;
  /**
   * Frames were dropped because history, read after they came, never held
   * their seq (a forged delivery, or an append a Redis failover lost).
   */
  onBeyondHistory?: (frames: number) => void;
  /** Milliseconds before the first retry of a failed read, doubling. @default 250 */
  retryMs?: number;
  /** Longest wait between two retries. @default 5000 */
  maxRetryMs?: number;
  /** Waits `ms` or until `signal` aborts (tests pass their own clock). */
  pause?: (ms: number, signal: AbortSignal) => Promise<void>;
};

import { sleep } from "../shared/sleep.ts";
import { OrderQueue, type Queued } from "./_order_queue.ts";

/** Push ids of live-only messages a connection remembers. */
const UNSTORED_IDS = 128;
/** Failed reads after which a look with nothing waiting on it gives up. */
const CATCH_UP_TRIES = 3;

/** The order of one connection; see the module doc. */
export class DeliveryOrder {
  readonly #options: DeliveryOrderOptions;
  readonly #stopped = new AbortController();
  #mode: "starting" | "live" | "filling" = "starting";
  #epoch: string | undefined;
  #lastSeq: number | undefined;
  readonly #queue = new OrderQueue<OrderedFrame>();
  /** A look in history was asked for (a catch-up, or the read limit was hit). */
  #wanted = false;
  #running: Promise<void> | undefined;
  #replayed = 0;
  /** Ids of live-only pushes written here; made on first use. */
  #unstored: Set<string> | undefined;

  constructor(options: DeliveryOrderOptions) {
    this.#options = options;
  }

  /** Highest seq this connection has passed; undefined while its start is unknown. */
  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /** The epoch the connection is in; undefined while unknown. */
  get epoch(): string | undefined {
    return this.#epoch;
  }

  /** False until {@link start}. */
  get live(): boolean {
    return this.#mode !== "starting";
  }

  /** Bytes of frames waiting. */
  get queuedBytes(): number {
    return this.#queue.bytes;
  }

  /**
   * Hands a message over: written now when it is next, dropped when this
   * connection had it, queued behind a replay or a gap read otherwise.
   * Returns true unless dropped or stopped.
   */
  deliver(frame: OrderedFrame): boolean {
    if (this.#stopped.signal.aborted) return false;
    const seq = frame.seq;
    if (seq === undefined) {
      if (!frame.broadcast) {
        if (this.#unstored?.has(frame.id)) return this.#duplicate(frame);
        this.#rememberUnstored(frame.id);
      }
      if (this.#mode === "starting") return this.#enqueue(frame);
      return this.#options.sink.write(frame, true);
    }
    if (this.#mode !== "live") return this.#enqueue(frame);
    if (frame.epoch !== undefined) {
      if (this.#epoch === undefined) this.#epoch = frame.epoch;
      else if (frame.epoch !== this.#epoch) return this.#hold(frame);
    }
    const last = this.#lastSeq ?? seq - 1;
    if (seq <= last) return this.#duplicate(frame);
    if (seq > last + 1) return this.#hold(frame);
    return this.#pass(frame, true);
  }

  /**
   * Starts the live phase at `epoch`/`lastSeq` (undefined when unknown) with
   * the history read of the connect flow, if it had one. Writes that read
   * (announcing what it shows gone), then what arrived meanwhile, in order.
   * Resolves with the number of history messages written.
   */
  async start(
    position: { epoch: string | undefined; lastSeq: number | undefined },
    slice: HistorySlice | undefined,
  ): Promise<number> {
    this.#epoch = position.epoch;
    this.#lastSeq = position.lastSeq;
    this.#mode = "filling";
    this.#running = this.#pump(slice, 0);
    await this.#running;
    return this.#replayed;
  }

  /** Looks in history for messages that nothing after them revealed. */
  catchUp(): Promise<void> {
    if (this.#mode === "starting" || this.#stopped.signal.aborted) {
      return this.idle();
    }
    this.#wanted = true;
    if (this.#mode === "live") this.#startPump();
    return this.idle();
  }

  /** Resolves once no replay or gap read is running. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** The connection is gone: drop everything, stop reading. */
  stop(): void {
    this.#stopped.abort();
    this.#queue.clear();
  }

  /**
   * Moves the connection to `frame`'s seq and writes it, unless it is meant
   * for another device or went out already without a seq. True when written.
   */
  #pass(frame: OrderedFrame, live: boolean): boolean {
    this.#lastSeq = frame.seq;
    if (frame.skip || this.#unstored?.has(frame.id)) return false;
    return this.#options.sink.write(frame, live);
  }

  #duplicate(frame: OrderedFrame): false {
    if (!frame.skip) this.#options.onDuplicate?.();
    return false;
  }

  #rememberUnstored(id: string): void {
    const ids = this.#unstored ??= new Set();
    ids.add(id);
    if (ids.size > UNSTORED_IDS) ids.delete(ids.values().next().value!);
  }

  #hold(frame: OrderedFrame): boolean {
    if (!this.#enqueue(frame)) return false;
    this.#startPump();
    return true;
  }

  #enqueue(frame: OrderedFrame): boolean {
    if (this.#queue.bytes + frame.json.length > this.#options.maxQueueBytes) {
      this.#options.onOverflow();
      return false;
    }
    this.#queue.push(frame);
    return true;
  }

  #startPump(): void {
    if (this.#mode !== "live") return;
    this.#mode = "filling";
    this.#running = this.#pump(undefined, this.#queue.mark).finally(() => {
      if (this.#mode !== "filling") this.#running = undefined;
    });
  }

  /**
   * Applies `slice` (read when `mark` frames had arrived), writes the queue
   * in order, and reads history while a gap or a foreign epoch is queued or a
   * look was asked for; then goes live.
   */
  async #pump(slice: HistorySlice | undefined, mark: number): Promise<void> {
    const signal = this.#stopped.signal;
    let failures = 0;
    while (!signal.aborted) {
      if (slice) await this.#apply(slice, mark);
      slice = undefined;
      await this.#flushQueue();
      if (signal.aborted) break;
      const waiting = this.#queue.length > 0;
      if (!waiting && !this.#wanted) break;
      this.#wanted = false;
      mark = this.#queue.mark;
      try {
        slice = await this.#options.read(this.#lastSeq ?? 0);
        failures = 0;
      } catch (error) {
        this.#options.onReadError?.(error);
        failures++;
        // A look with nothing waiting on it gives up after a few tries; a
        // gap never passes on a failure, it waits for history to answer.
        // Frames may have arrived during the read: the queue decides now.
        const held = this.#queue.length > 0;
        if (!held && failures >= CATCH_UP_TRIES) break;
        if (!held) this.#wanted = true;
        await this.#pause(failures);
      }
    }
    if (!signal.aborted) this.#mode = "live";
  }

  /** Announces what `slice` shows gone or restarted, and writes its entries. */
  async #apply(slice: HistorySlice, mark: number): Promise<void> {
    if (this.#epoch !== undefined && slice.epoch !== this.#epoch) {
      await this.#endEpoch(slice.epoch, mark);
      // The read started past the old epoch's seq: read the new one from 1.
      if (slice.after !== 0) {
        this.#wanted = true;
        return;
      }
    }
    this.#epoch = slice.epoch;
    this.#queue.dropDead(slice.epoch, mark);
    if (this.#lastSeq === undefined) {
      // A start unknown (history was unreadable at connect): begin at the
      // earliest frame waiting, or at the latest seq when none waits.
      const first = this.#queue.first(this.#epoch);
      this.#lastSeq = first?.seq !== undefined
        ? Math.min(first.seq - 1, slice.seq)
        : slice.seq;
    }
    for (const frame of slice.frames) {
      if (this.#stopped.signal.aborted) return;
      const seq = frame.seq!;
      if (seq <= this.#lastSeq!) continue;
      if (seq > this.#lastSeq! + 1) this.#gap(seq - 1);
      await this.#room();
      if (this.#pass(frame, false)) this.#replayed++;
    }
    if (slice.more) this.#wanted = true;
    else if (slice.seq > this.#lastSeq!) this.#gap(slice.seq);
    // A frame is delivered only after its append: one past what history
    // held when this read started was never stored (or was lost since).
    // Waiting for it would re-read history forever; writing it would make
    // the connection skip the real messages of those seqs.
    const dropped = this.#queue.dropBeyond(slice.epoch, slice.seq, mark);
    if (dropped > 0) this.#options.onBeyondHistory?.(dropped);
  }

  /**
   * The user's history is on a new epoch: the frames of the old one that
   * wait here go out (whatever is between them is gone with it), frames of
   * other epochs that arrived before the read are dropped (gone too), and the
   * client is told to start over.
   */
  async #endEpoch(epoch: string, mark: number): Promise<void> {
    const old = this.#epoch;
    const queue = this.#queue.take(old);
    const keep: Queued<OrderedFrame>[] = [];
    for (const frame of queue) {
      if (frame.seq === undefined || frame.epoch === epoch) keep.push(frame);
      else if (frame.epoch === old || frame.epoch === undefined) {
        const seq = frame.seq;
        if (this.#lastSeq !== undefined && seq <= this.#lastSeq) continue;
        if (this.#lastSeq !== undefined && seq > this.#lastSeq + 1) {
          this.#gap(seq - 1);
        }
        await this.#room();
        this.#pass(frame, true);
      } else if (frame.arrival >= mark) keep.push(frame);
    }
    for (const frame of keep) this.#queue.putBack(frame);
    this.#options.sink.announce({ type: "reset", epoch });
    this.#epoch = epoch;
    this.#lastSeq = 0;
  }

  /**
   * Writes queued frames while they are next in order; stops at a gap or a
   * frame of another epoch, which stay queued for a read.
   */
  async #flushQueue(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped.signal.aborted) {
      const queue = this.#queue.take(this.#epoch);
      let progressed = false;
      for (const frame of queue) {
        if (this.#stopped.signal.aborted) return;
        if (!this.#nextInOrder(frame)) {
          this.#queue.putBack(frame);
          continue;
        }
        progressed = true;
        await this.#room();
        if (frame.seq === undefined) {
          this.#options.sink.write(frame, true);
        } else if (this.#lastSeq !== undefined && frame.seq <= this.#lastSeq) {
          this.#duplicate(frame);
        } else this.#pass(frame, true);
      }
      if (!progressed) return;
    }
  }

  /** True when `frame` can go out now (or be dropped as a duplicate). */
  #nextInOrder(frame: Queued<OrderedFrame>): boolean {
    if (frame.seq === undefined) return true;
    if (frame.epoch !== undefined && frame.epoch !== this.#epoch) {
      if (this.#epoch !== undefined) return false;
      this.#epoch = frame.epoch;
    }
    if (this.#lastSeq === undefined) this.#lastSeq = frame.seq - 1;
    return frame.seq <= this.#lastSeq + 1;
  }

  /** Announces that seqs after `lastSeq` up to `to` are gone, and moves past them. */
  #gap(to: number): void {
    const from = (this.#lastSeq ?? 0) + 1;
    if (to < from) return;
    this.#options.sink.announce({ type: "gap", from, to });
    this.#lastSeq = to;
  }

  async #room(): Promise<void> {
    const wait = this.#options.sink.room();
    if (wait) await wait;
  }

  #pause(failures: number): Promise<void> {
    const { retryMs = 250, maxRetryMs = 5000 } = this.#options;
    const ms = Math.min(retryMs * 2 ** (failures - 1), maxRetryMs);
    const pause = this.#options.pause ?? sleep;
    return pause(ms, this.#stopped.signal);
  }
}
