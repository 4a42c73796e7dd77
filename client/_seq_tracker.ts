/**
 * Where a client stands in its user's message stream: the duplicate
 * threshold within an epoch, the `since`/`epoch` to resume with, and the
 * recent ids of messages that came without a seq.
 *
 * @module
 */
import type { ResumePoint } from "./_connect_url.ts";

/** Ids of seq-less messages remembered; a reconnect replays far fewer. */
const SEQLESS_IDS = 512;

/** Tracks delivered seqs per epoch (PROTOCOL.md "Client connection"). */
export class SeqTracker {
  /** Highest seq delivered in this epoch: the duplicate threshold. */
  #delivered: number;
  /** The user's seq when a client without `since` first connected. */
  #start = 0;
  #epoch: string | undefined;
  /** False until a welcome (or a `since` option) gives a position. */
  #resumable: boolean;
  /** Insertion-ordered: the oldest id is dropped first. */
  #seqless = new Set<string>();

  constructor(since: number | undefined, epoch: string | undefined) {
    this.#delivered = since ?? 0;
    this.#resumable = since !== undefined;
    this.#epoch = epoch;
  }

  /** The `since` of the next connection. */
  get position(): number {
    return Math.max(this.#delivered, this.#start);
  }

  get epoch(): string | undefined {
    return this.#epoch;
  }

  /** True when the next connection resumes a position. */
  get resuming(): boolean {
    return this.#resumable;
  }

  /** What the next connection sends; `undefined` before any position. */
  resume(): ResumePoint | undefined {
    if (!this.#resumable) return undefined;
    return { since: this.position, epoch: this.#epoch || undefined };
  }

  /** Applies a welcome frame. */
  welcome(seq: number, epoch: string, recovered: boolean): void {
    if (!this.#resumable) {
      // Without `since` the node replays nothing: resume from here next time.
      // Not a duplicate threshold: a push racing this connect may still come.
      this.#start = seq;
    } else if (!recovered) {
      // New epoch (or a gap): the node replays what it retains and seqs may
      // have restarted, so nothing seen before can be called a duplicate.
      this.#delivered = this.#start = 0;
    }
    this.#resumable = true;
    this.#epoch = epoch;
  }

  /** A `reset` frame: a new epoch whose messages follow from seq 1. */
  reset(epoch: string): void {
    this.#delivered = this.#start = 0;
    this.#epoch = epoch;
    this.#resumable = true;
  }

  /** A `gap` frame: seqs up to `to` will never come. */
  gap(to: number): void {
    this.#delivered = Math.max(this.#delivered, to);
  }

  /**
   * True (and recorded) when the message is new; false for a duplicate: a
   * seq at or below the threshold, or an id already delivered without seq.
   */
  accept(seq: number | undefined, id: string): boolean {
    if (seq === undefined) {
      if (this.#seqless.has(id)) return false;
      this.#seqless.add(id);
      if (this.#seqless.size > SEQLESS_IDS) {
        this.#seqless.delete(this.#seqless.values().next().value!);
      }
      return true;
    }
    if (seq <= this.#delivered) return false;
    this.#delivered = seq;
    // Delivered live before history had it: the seq counts, the copy not.
    return !this.#seqless.has(id);
  }
}
