/**
 * A bounded set of recent ids, oldest forgotten first: what the node keeps
 * to recognise a broadcast it already wrote when a router's retry brings it
 * again (the first request arrived, its answer was lost).
 *
 * @module
 */

/** See the module doc. */
export class RecentIds {
  readonly #limit: number;
  /** Insertion-ordered, so the first id is the oldest. */
  readonly #ids = new Set<string>();

  /** Keeps at most `limit` ids. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Records `id`; false when it was already there. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#limit) {
      this.#ids.delete(this.#ids.values().next().value!);
    }
    return true;
  }
}
