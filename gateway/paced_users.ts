/**
 * Work per user served at a bounded rate: the looks in history of a user's
 * connections, the device-limit check. A lease restored with 20,000 users, a
 * router asking after a failed delivery, or clients moved during an etcd
 * outage would otherwise send one backend read per user all at once; here at
 * most `perTick` users are served every `tickMs`, and a user asked for twice
 * before its turn is served once.
 *
 * @module
 */

/** Options of {@link PacedUsers}. */
export type PacedUsersOptions = {
  /** Starts the work for `user` (not awaited). */
  serve: (user: string) => void;
  /** Users served per tick. @default 1000 */
  perTick?: number;
  /** Milliseconds between ticks. @default 50 */
  tickMs?: number;
};

/** See the module doc. */
export class PacedUsers {
  readonly #serve: (user: string) => void;
  readonly #perTick: number;
  readonly #tickMs: number;
  /** Insertion-ordered: the users asked for first are served first. */
  readonly #pending = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: PacedUsersOptions) {
    this.#serve = options.serve;
    this.#perTick = options.perTick ?? 1000;
    this.#tickMs = options.tickMs ?? 50;
  }

  /** Users waiting for their turn. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Asks for `user` to be served, in the next tick with room. */
  request(user: string): void {
    this.#pending.add(user);
    this.#schedule();
  }

  /** {@link request} for each of `users`. */
  requestAll(users: Iterable<string>): void {
    for (const user of users) this.#pending.add(user);
    this.#schedule();
  }

  /** Drops everything pending (the node stops). */
  clear(): void {
    this.#pending.clear();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#pending.size === 0) return;
    // The first tick runs at once: a single request is not delayed.
    this.#timer = setTimeout(() => this.#tick(), 0);
  }

  #tick(): void {
    this.#timer = undefined;
    let served = 0;
    for (const user of this.#pending) {
      if (served++ >= this.#perTick) break;
      this.#pending.delete(user);
      this.#serve(user);
    }
    if (this.#pending.size > 0) {
      this.#timer = setTimeout(() => this.#tick(), this.#tickMs);
    }
  }
}
