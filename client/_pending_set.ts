/**
 * Promises still running (sockets not yet closed, probes in flight), so
 * `close()` can wait for them, but never longer than a bound: a dead peer
 * may never finish the close handshake.
 *
 * @module
 */
import type { WsgwTimers } from "./_types.ts";

/** A set of promises that forget themselves once settled. */
export class PendingSet {
  #timers: WsgwTimers;
  #pending = new Set<Promise<unknown>>();

  constructor(timers: WsgwTimers) {
    this.#timers = timers;
  }

  /** Adds `promise` until it settles; returns it. */
  track<P>(promise: Promise<P>): Promise<P> {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Resolves when all have settled, or after `bound` ms. */
  settled(bound: number): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    let timer: unknown;
    const wait = new Promise<void>((resolve) => {
      timer = this.#timers.setTimeout(resolve, bound);
    });
    return Promise.race([Promise.all(this.#pending), wait]).then(() => {
      this.#timers.clearTimeout(timer);
    });
  }
}
