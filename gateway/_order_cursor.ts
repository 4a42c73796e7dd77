/**
 * Where one connection stands in its user's history (the epoch and the last
 * seq it passed) and the writes that move it on: a frame passed, a gap
 * announced, a duplicate counted. The live path of {@link DeliveryOrder} and
 * its history fill (`_history_fill.ts`) both move the one cursor.
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

/** Push ids of live-only messages a connection remembers. */
const UNSTORED_IDS = 128;

/** Gap ranges a connection remembers (the latest few; made on the first gap). */
const GAPS_KEPT = 8;

type GapRange = { epoch: string | undefined; from: number; to: number };

/** See the module doc. */
export class OrderCursor {
  /** The epoch the connection is in; undefined while unknown. */
  epoch: string | undefined;
  /** Highest seq passed; undefined while the start is unknown. */
  lastSeq: number | undefined;
  readonly #options: { sink: OrderSink; onDuplicate?: () => void };
  /** Ids of live-only pushes written here; made on first use. */
  #unstored: Set<string> | undefined;
  /**
   * Seqs up to here (in this epoch) came before the connection started
   * without `since`: a late copy of one never reached it.
   */
  floor: { epoch: string | undefined; seq: number } | undefined;
  /**
   * The latest seq ranges announced gone, oldest first: a late copy of one
   * was not had here. A copy later than the last {@link GAPS_KEPT} gaps
   * counts as had.
   */
  #gaps: GapRange[] | undefined;

  constructor(options: { sink: OrderSink; onDuplicate?: () => void }) {
    this.#options = options;
  }

  /** Writes a frame that moves no seq (live-only). */
  write(frame: OrderedFrame, live: boolean): boolean {
    return this.#options.sink.write(frame, live);
  }

  /** Sends a reset or gap frame. */
  announce(announcement: Announcement): void {
    this.#options.sink.announce(announcement);
  }

  /** True when a live-only push with this id was written here. */
  wentOutUnstored(id: string): boolean {
    return this.#unstored?.has(id) ?? false;
  }

  /** Remembers the id of a live-only push written here (the latest few). */
  rememberUnstored(id: string): void {
    const ids = this.#unstored ??= new Set();
    ids.add(id);
    if (ids.size > UNSTORED_IDS) ids.delete(ids.values().next().value!);
  }

  /**
   * Moves the connection to `frame`'s seq and writes it, unless it is meant
   * for another device or went out already without a seq. "written", "had"
   * (it went out live-only before) or "not" (a skip, or the socket refused).
   */
  pass(frame: OrderedFrame, live: boolean): "written" | "had" | "not" {
    this.lastSeq = frame.seq;
    if (frame.skip) return "not";
    if (this.#unstored?.has(frame.id)) return "had";
    return this.#options.sink.write(frame, live) ? "written" : "not";
  }

  /**
   * Drops a frame the connection is past, counting it unless it was a skip.
   * True when the connection has the message (a history read or an earlier
   * copy wrote it), false when its seq was announced gone: a push answers
   * `devices` from this, and 0 would tell the caller the user is offline.
   */
  duplicate(frame: OrderedFrame): boolean {
    if (frame.skip) return false;
    this.#options.onDuplicate?.();
    const seq = frame.seq;
    if (seq === undefined) return true;
    const floor = this.floor;
    if (floor !== undefined && floor.epoch === this.epoch && seq <= floor.seq) {
      return false;
    }
    return !this.#gaps?.some((gone) =>
      gone.epoch === this.epoch && seq >= gone.from && seq <= gone.to
    );
  }

  /** Announces that seqs after `lastSeq` up to `to` are gone, and moves past them. */
  gap(to: number): void {
    const from = (this.lastSeq ?? 0) + 1;
    if (to < from) return;
    this.#options.sink.announce({ type: "gap", from, to });
    const gaps = this.#gaps ??= [];
    gaps.push({ epoch: this.epoch, from, to });
    if (gaps.length > GAPS_KEPT) gaps.shift();
    this.lastSeq = to;
  }

  /** Waits while the socket should take no more. */
  async room(): Promise<void> {
    const wait = this.#options.sink.room();
    if (wait) await wait;
  }
}
