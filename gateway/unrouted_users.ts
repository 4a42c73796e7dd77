/**
 * Users connected to this node whom routers may not know here yet: their
 * registration is stuck behind an etcd outage. Routers store their pushes in
 * history and send them to the node they last saw (or nowhere), so until a
 * router routes one of their pushes here, their connections look in history
 * every `intervalMs`.
 *
 * @module
 */

/** Options of {@link UnroutedUsers}. */
export type UnroutedUsersOptions = {
  /** Milliseconds between two looks in history for one user. */
  intervalMs: number;
  /**
   * Milliseconds the looks go on after the registration landed, while
   * routers catch up with it (a watch may re-list only seconds later).
   */
  graceMs: number;
  /** Looks in history for every connection of `user` on this node. */
  catchUp: (user: string) => void;
};

/** See the module doc. */
export class UnroutedUsers {
  readonly #options: UnroutedUsersOptions;
  readonly #users = new Map<
    string,
    {
      poll: ReturnType<typeof setInterval>;
      grace?: ReturnType<typeof setTimeout>;
    }
  >();

  constructor(options: UnroutedUsersOptions) {
    this.#options = options;
  }

  /** Users being looked after. */
  get size(): number {
    return this.#users.size;
  }

  /**
   * Looks in history for `user` until a router routes a push here, or
   * `graceMs` after `registered` settles.
   */
  add(user: string, registered: Promise<unknown>): void {
    if (this.#users.has(user)) return;
    const { intervalMs, graceMs, catchUp } = this.#options;
    const entry: {
      poll: ReturnType<typeof setInterval>;
      grace?: ReturnType<typeof setTimeout>;
    } = { poll: setInterval(() => catchUp(user), intervalMs) };
    this.#users.set(user, entry);
    const settled = () => {
      if (this.#users.get(user) !== entry) return;
      entry.grace = setTimeout(() => this.remove(user), graceMs);
    };
    registered.then(settled, settled);
  }

  /** A router delivered a push for `user` here: it knows. */
  routed(user: string): void {
    if (this.#users.size > 0) this.remove(user);
  }

  /** Stops looking for `user` (routed, or no connection left here). */
  remove(user: string): void {
    const entry = this.#users.get(user);
    if (!entry) return;
    clearInterval(entry.poll);
    clearTimeout(entry.grace);
    this.#users.delete(user);
  }

  /** Stops every look (the node stops). */
  clear(): void {
    for (const user of [...this.#users.keys()]) this.remove(user);
  }
}
