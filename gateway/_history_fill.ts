/**
 * The history side of one connection's {@link DeliveryOrder}: reads the
 * user's history after the connection's last seq while a gap or a foreign
 * epoch is queued (or a look was asked for), retrying failed reads with
 * backoff; announces what a read shows gone (`gap`) or started over
 * (`reset`); writes what it read, then the queue, in order.
 *
 * @module
 */
import { sleep } from "../shared/sleep.ts";
import type { OrderCursor, OrderedFrame } from "./_order_cursor.ts";
import type { OrderQueue, Queued } from "./_order_queue.ts";

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

/** The history reads of a {@link DeliveryOrder} (part of its options). */
export type HistoryFillOptions = {
  /** Reads the user's history after a seq, as frames for this connection. */
  read: (after: number) => Promise<HistorySlice>;
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

/** Whether the order was stopped, and a signal for waits (made on first ask). */
export type StopState = {
  readonly stopped: boolean;
  readonly stoppedSignal: AbortSignal;
};

/** Failed reads after which a look with nothing waiting on it gives up. */
const CATCH_UP_TRIES = 3;

/** See the module doc. */
export class HistoryFill {
  /** A look in history was asked for (a catch-up, or the read limit was hit). */
  wanted = false;
  readonly #cursor: OrderCursor;
  readonly #queue: OrderQueue<OrderedFrame>;
  readonly #options: HistoryFillOptions;
  readonly #stop: StopState;
  #replayed = 0;

  constructor(
    cursor: OrderCursor,
    queue: OrderQueue<OrderedFrame>,
    options: HistoryFillOptions,
    stop: StopState,
  ) {
    this.#cursor = cursor;
    this.#queue = queue;
    this.#options = options;
    this.#stop = stop;
  }

  /** History messages written so far. */
  get replayed(): number {
    return this.#replayed;
  }

  /**
   * Applies `slice` (read when `mark` frames had arrived), writes the queue
   * in order, and reads history while a gap or a foreign epoch is queued or a
   * look was asked for; then calls `live` (in the same turn as the last look
   * at the queue, so no frame can slip in between) unless stopped.
   */
  async run(
    slice: HistorySlice | undefined,
    mark: number,
    live: () => void,
  ): Promise<void> {
    const stop = this.#stop;
    let failures = 0;
    while (!stop.stopped) {
      if (slice) await this.#apply(slice, mark);
      slice = undefined;
      await this.#flushQueue();
      if (stop.stopped) break;
      const waiting = this.#queue.length > 0;
      if (!waiting && !this.wanted) break;
      this.wanted = false;
      mark = this.#queue.mark;
      try {
        slice = await this.#options.read(this.#cursor.lastSeq ?? 0);
        failures = 0;
      } catch (error) {
        this.#options.onReadError?.(error);
        failures++;
        // A look with nothing waiting on it gives up after a few tries; a
        // gap never passes on a failure, it waits for history to answer.
        // Frames may have arrived during the read: the queue decides now.
        const held = this.#queue.length > 0;
        if (!held && failures >= CATCH_UP_TRIES) break;
        if (!held) this.wanted = true;
        await this.#pause(failures);
      }
    }
    if (!stop.stopped) live();
  }

  /** Announces what `slice` shows gone or restarted, and writes its entries. */
  async #apply(slice: HistorySlice, mark: number): Promise<void> {
    const cursor = this.#cursor;
    if (cursor.epoch !== undefined && slice.epoch !== cursor.epoch) {
      await this.#endEpoch(slice.epoch, mark);
      // The read started past the old epoch's seq: read the new one from 1.
      if (slice.after !== 0) {
        this.wanted = true;
        return;
      }
    }
    cursor.epoch = slice.epoch;
    this.#queue.dropDead(slice.epoch, mark);
    if (cursor.lastSeq === undefined) {
      // A start unknown (history was unreadable at connect): begin at the
      // earliest frame waiting, or at the latest seq when none waits.
      const first = this.#queue.first(cursor.epoch);
      cursor.lastSeq = first?.seq !== undefined
        ? Math.min(first.seq - 1, slice.seq)
        : slice.seq;
    }
    for (const frame of slice.frames) {
      if (this.#stop.stopped) return;
      const seq = frame.seq!;
      if (seq <= cursor.lastSeq!) continue;
      if (seq > cursor.lastSeq! + 1) cursor.gap(seq - 1);
      await cursor.room();
      if (cursor.pass(frame, false) === "written") this.#replayed++;
    }
    if (slice.more) this.wanted = true;
    else if (slice.seq > cursor.lastSeq!) cursor.gap(slice.seq);
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
    const cursor = this.#cursor;
    const old = cursor.epoch;
    const queue = this.#queue.take(old);
    const keep: Queued<OrderedFrame>[] = [];
    for (const frame of queue) {
      if (frame.seq === undefined || frame.epoch === epoch) keep.push(frame);
      else if (frame.epoch === old || frame.epoch === undefined) {
        const seq = frame.seq;
        if (cursor.lastSeq !== undefined && seq <= cursor.lastSeq) continue;
        if (cursor.lastSeq !== undefined && seq > cursor.lastSeq + 1) {
          cursor.gap(seq - 1);
        }
        await cursor.room();
        cursor.pass(frame, true);
      } else if (frame.arrival >= mark) keep.push(frame);
    }
    for (const frame of keep) this.#queue.putBack(frame);
    cursor.announce({ type: "reset", epoch });
    cursor.epoch = epoch;
    cursor.lastSeq = 0;
  }

  /**
   * Writes queued frames while they are next in order; stops at a gap or a
   * frame of another epoch, which stay queued for a read.
   */
  async #flushQueue(): Promise<void> {
    const cursor = this.#cursor;
    while (this.#queue.length > 0 && !this.#stop.stopped) {
      const queue = this.#queue.take(cursor.epoch);
      let progressed = false;
      for (const frame of queue) {
        if (this.#stop.stopped) return;
        if (!this.#nextInOrder(frame)) {
          this.#queue.putBack(frame);
          continue;
        }
        progressed = true;
        await cursor.room();
        if (frame.seq === undefined) {
          cursor.write(frame, true);
        } else if (
          cursor.lastSeq !== undefined && frame.seq <= cursor.lastSeq
        ) {
          cursor.duplicate(frame);
        } else cursor.pass(frame, true);
      }
      if (!progressed) return;
    }
  }

  /** True when `frame` can go out now (or be dropped as a duplicate). */
  #nextInOrder(frame: Queued<OrderedFrame>): boolean {
    const cursor = this.#cursor;
    if (frame.seq === undefined) return true;
    if (frame.epoch !== undefined && frame.epoch !== cursor.epoch) {
      if (cursor.epoch !== undefined) return false;
      cursor.epoch = frame.epoch;
    }
    if (cursor.lastSeq === undefined) cursor.lastSeq = frame.seq - 1;
    return frame.seq <= cursor.lastSeq + 1;
  }

  #pause(failures: number): Promise<void> {
    const { retryMs = 250, maxRetryMs = 5000 } = this.#options;
    const ms = Math.min(retryMs * 2 ** (failures - 1), maxRetryMs);
    const pause = this.#options.pause ?? sleep;
    return pause(ms, this.#stop.stoppedSignal);
  }
}
