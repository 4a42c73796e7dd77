/**
 * Where a client stands in its user's message stream: the duplicate
 * threshold within an epoch, and the `since`/`epoch` to resume with.
 *
 * @module
 */
import type { Resume } from "./_connect_url.ts";

/** Tracks delivered seqs per epoch (PROTOCOL.md "Client connection"). */
export class SeqTracker {
  /** Highest seq delivered in this epoch: the duplicate threshold. */
  #delivered: number;
  /** The user's seq when a client without `since` first connected. */
  #start = 0;
  #epoch: string | undefined;
  /** False until a welcome (or a `since` option) gives a position. */
  #resumable: boolean;

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

  /** What the next connection sends; `undefined` before any position. */
  resume(): Resume | undefined {
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

  /** True (and recorded) when `seq` is new in this epoch; false for a duplicate. */
  accept(seq: number): boolean {
    if (seq <= this.#delivered) return false;
    this.#delivered = seq;
    return true;
  }
}
