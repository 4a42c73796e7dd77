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
 * This file holds the live path; the connection's position is an
 * `OrderCursor` (`_order_cursor.ts`), the reads of history and what they
 * announce are its `HistoryFill` (`_history_fill.ts`), the frames held back
 * an `OrderQueue` (`_order_queue.ts`).
 *
 * @module
 */

import {
  type Announcement,
  OrderCursor,
  type OrderedFrame,
  type OrderSink,
} from "./_order_cursor.ts";
import {
  HistoryFill,
  type HistoryFillOptions,
  type HistorySlice,
} from "./_history_fill.ts";
import { OrderQueue } from "./_order_queue.ts";

export type { Announcement, HistorySlice, OrderedFrame, OrderSink };

/** Options of {@link DeliveryOrder}. */
export type DeliveryOrderOptions = HistoryFillOptions & {
  sink: OrderSink;
  /** Bytes of frames that may wait for a replay or a gap; past it `onOverflow`. */
  maxQueueBytes: number;
  /** The queue passed its budget: the session closes as a slow consumer. */
  onOverflow: () => void;
  /** A frame was dropped because this connection already had it. */
  onDuplicate?: () => void;
};

/** The order of one connection; see the module doc. */
/** Where a connection starts (DeliveryOrder.start). */
export type StartPosition = {
  /** The epoch it starts in; undefined when unknown. */
  epoch: string | undefined;
  /** The seq it stands at; undefined when unknown. */
  lastSeq: number | undefined;
  /**
   * Seqs up to here came before a device that connected without `since`: it
   * never had them (a late live copy of one is not counted as reached).
   */
  floor?: number;
};

export class DeliveryOrder {
  readonly #options: DeliveryOrderOptions;
  #stopped = false;
  /** Made on first ask (a wait between failed reads): most connections never need one. */
  #stopSignal: AbortController | undefined;
  #mode: "starting" | "live" | "filling" = "starting";
  readonly #cursor: OrderCursor;
  readonly #queue = new OrderQueue<OrderedFrame>();
  readonly #fill: HistoryFill;
  #running: Promise<void> | undefined;

  constructor(options: DeliveryOrderOptions) {
    this.#options = options;
    this.#cursor = new OrderCursor(options);
    this.#fill = new HistoryFill(
      this.#cursor,
      this.#queue,
      options,
      this,
    );
  }

  /** Highest seq this connection has passed; undefined while its start is unknown. */
  get lastSeq(): number | undefined {
    return this.#cursor.lastSeq;
  }

  /** The epoch the connection is in; undefined while unknown. */
  get epoch(): string | undefined {
    return this.#cursor.epoch;
  }

  /** True once {@link stop}ped. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Aborts on {@link stop} (aborted already when asked after it). */
  get stoppedSignal(): AbortSignal {
    if (!this.#stopSignal) {
      this.#stopSignal = new AbortController();
      if (this.#stopped) this.#stopSignal.abort();
    }
    return this.#stopSignal.signal;
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
   * True when the connection has or will have the message (written, queued,
   * or had it already); false when stopped, overflowing, or its seq was
   * announced gone.
   */
  deliver(frame: OrderedFrame): boolean {
    if (this.#stopped) return false;
    const cursor = this.#cursor;
    const seq = frame.seq;
    if (seq === undefined) {
      if (!frame.broadcast) {
        if (cursor.wentOutUnstored(frame.id)) return cursor.duplicate(frame);
        cursor.rememberUnstored(frame.id);
      }
      if (this.#mode === "starting") return this.#enqueue(frame);
      return cursor.write(frame, true);
    }
    if (this.#mode !== "live") return this.#enqueue(frame);
    if (frame.epoch !== undefined) {
      if (cursor.epoch === undefined) cursor.epoch = frame.epoch;
      else if (frame.epoch !== cursor.epoch) return this.#hold(frame);
    }
    const last = cursor.lastSeq ?? seq - 1;
    if (seq <= last) return cursor.duplicate(frame);
    if (seq > last + 1) return this.#hold(frame);
    return cursor.pass(frame, true) !== "not";
  }

  /**
   * Starts the live phase at `epoch`/`lastSeq` (undefined when unknown) with
   * the history read of the connect flow, if it had one. Writes that read
   * (announcing what it shows gone), then what arrived meanwhile, in order.
   * Resolves with the number of history messages written.
   */
  async start(
    position: StartPosition,
    slice: HistorySlice | undefined,
  ): Promise<number> {
    this.#cursor.epoch = position.epoch;
    this.#cursor.lastSeq = position.lastSeq;
    if (position.floor !== undefined) {
      this.#cursor.floor = { epoch: position.epoch, seq: position.floor };
    }
    this.#mode = "filling";
    this.#running = this.#pump(slice, 0);
    await this.#running;
    return this.#fill.replayed;
  }

  /** Looks in history for messages that nothing after them revealed. */
  catchUp(): Promise<void> {
    if (this.#mode === "starting" || this.#stopped) {
      return this.idle();
    }
    this.#fill.wanted = true;
    if (this.#mode === "live") this.#startPump();
    return this.idle();
  }

  /** Resolves once no replay or gap read is running. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** The connection is gone: drop everything, stop reading. */
  stop(): void {
    this.#stopped = true;
    this.#stopSignal?.abort();
    this.#queue.clear();
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

  /** Runs the history fill from `slice`/`mark`; goes live when it is done. */
  #pump(slice: HistorySlice | undefined, mark: number): Promise<void> {
    return this.#fill.run(slice, mark, () => {
      this.#mode = "live";
    });
  }
}
