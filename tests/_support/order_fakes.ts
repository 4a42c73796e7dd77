/**
 * Doubles for {@link DeliveryOrder} tests: a sink that records what a client
 * would see, and a user history with epochs, trims and failing reads.
 *
 * @module
 */
import type {
  Announcement,
  HistorySlice,
  OrderedFrame,
  OrderSink,
} from "../../gateway/delivery_order.ts";

/** What the client saw, in order. */
export type Seen =
  | { type: "message"; seq: number | undefined; id: string }
  | Announcement;

/** A sink that records every frame as the client would see it. */
export class RecordingSink implements OrderSink {
  readonly seen: Seen[] = [];
  /** While set, room() waits on it (a full socket buffer). */
  full: Promise<void> | undefined;

  write(frame: OrderedFrame): boolean {
    this.seen.push({ type: "message", seq: frame.seq, id: frame.id });
    return true;
  }

  announce(announcement: Announcement): void {
    this.seen.push(announcement);
  }

  room(): Promise<void> | undefined {
    return this.full;
  }

  /** Seqs of the messages seen (undefined for live-only ones). */
  seqs(): (number | undefined)[] {
    return this.seen.flatMap((s) => s.type === "message" ? [s.seq] : []);
  }

  /** Ids of the messages seen. */
  ids(): string[] {
    return this.seen.flatMap((s) => s.type === "message" ? [s.id] : []);
  }
}

/** One user's history: epochs with their entries, trims and expiries. */
export class FakeUserHistory {
  epoch = "e1";
  #epochs = 1;
  seq = 0;
  /** Retained entries of the current epoch. */
  entries: { seq: number; id: string; device?: string }[] = [];
  /** When set, reads reject with it. */
  failWith: Error | undefined;
  reads: number[] = [];
  limit = 1000;

  /** Stores a message; returns it as the frame a router would deliver. */
  append(id: string, device?: string): OrderedFrame {
    this.seq++;
    this.entries.push({ seq: this.seq, id, ...(device ? { device } : {}) });
    return this.frame(this.seq, id);
  }

  /** The live frame of a seq of the current epoch. */
  frame(seq: number, id: string): OrderedFrame {
    return { seq, epoch: this.epoch, id, ts: 0, json: `{"seq":${seq}}` };
  }

  /** Keeps only the newest `keep` entries. */
  trim(keep: number): void {
    this.entries = this.entries.slice(Math.max(0, this.entries.length - keep));
  }

  /** The keys expired: a new epoch from seq 0. */
  expire(): void {
    this.epoch = `e${++this.#epochs}`;
    this.seq = 0;
    this.entries = [];
  }

  /** The read a connection's order makes, device-filtered for `device`. */
  read = (
    after: number,
    device: string | null = null,
  ): Promise<HistorySlice> => {
    this.reads.push(after);
    if (this.failWith) return Promise.reject(this.failWith);
    const entries = this.entries.filter((e) => e.seq > after).slice(
      0,
      this.limit,
    );
    return Promise.resolve({
      epoch: this.epoch,
      seq: this.seq,
      after,
      more: entries.length >= this.limit,
      frames: entries.map((e) => ({
        ...this.frame(e.seq, e.id),
        skip: e.device !== undefined && e.device !== device,
      })),
    });
  };
}
