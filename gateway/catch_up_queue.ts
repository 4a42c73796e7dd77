/**
 * The one delayed look in history after a user's first connection on a
 * node (see connect_flow.ts, CATCH_UP_MS): sessions wait in arrival order
 * and one timer serves them all. A timer per connection, cancelled through
 * an abort listener on the session, cost every connection an
 * AbortController and a listener record for its whole life.
 *
 * @module
 */
import type { ChannelSession } from "./channel_session.ts";

/** Sessions due for a catch-up after a fixed delay; one timer for all. */
export class CatchUpQueue {
  readonly #delayMs: number;
  /** Session → when its look is due; insertion order is due order. */
  readonly #due = new Map<ChannelSession, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(delayMs: number) {
    this.#delayMs = delayMs;
  }

  /** Sessions waiting (for tests). */
  get size(): number {
    return this.#due.size;
  }

  /** Looks in history for `session` after the delay. */
  add(session: ChannelSession): void {
    this.#due.delete(session);
    this.#due.set(session, performance.now() + this.#delayMs);
    this.#timer ??= setTimeout(() => this.#run(), this.#delayMs);
  }

  /** `session` closed: no look, and it is not held until then. */
  delete(session: ChannelSession): void {
    this.#due.delete(session);
    if (this.#due.size === 0) this.#stop();
  }

  #run(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const [session, due] of this.#due) {
      if (due > now) {
        this.#timer = setTimeout(() => this.#run(), due - now);
        return;
      }
      this.#due.delete(session);
      void session.catchUp();
    }
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
