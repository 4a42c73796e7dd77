/**
 * Keeps repeated log lines down: a dead node or a down backend fails every
 * request, and one line per key per interval says as much as thousands.
 *
 * @module
 */

/** Answers whether an event with a given key may be logged now. */
export class Throttle {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, number>();

  /** @param intervalMs quiet time per key after a logged event. @default 10000 */
  constructor(intervalMs = 10_000, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** True at most once per interval per `key`. */
  allow(key: string): boolean {
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    // Keys are node ids and error codes; clearing keeps dead ones from piling up.
    if (this.#last.size >= 1000) this.#last.clear();
    this.#last.set(key, now);
    return true;
  }
}
