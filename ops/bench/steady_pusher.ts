/**
 * Pushes at a steady rate to random users through the router, in an open
 * loop (each push is due at a fixed time, whatever the answers), and keeps
 * what the router accepted: per user the highest seq it answered, and the
 * number of (user, seq) deliveries it promised.
 *
 * @module
 */

/** Where and how to push. */
export type SteadyPusherOptions = {
  /** The router's `/v1/push`. */
  pushUrl: string;
  authorization: string;
  /** Pushes per second. */
  rate: number;
  /** Random users per push (duplicates dropped), of `u0` … `u<users - 1>`. */
  usersPerPush: number;
  users: number;
  /** Pushes in flight at most; a push due while that many wait is skipped and counted. */
  maxInFlight?: number;
};

/** What the pusher did so far. */
export type PushCounts = {
  /** Pushes the router answered with 200. */
  accepted: number;
  /** (user, seq) pairs the router answered: messages that must arrive. */
  acceptedDeliveries: number;
  /** Pushes that failed: an error status, a network error, a timeout. */
  failed: number;
  /** Pushes not sent: due while `maxInFlight` were still waiting. */
  skipped: number;
};

/** A running open-loop pusher; {@link stop} ends it and waits for answers. */
export class SteadyPusher {
  /** user → highest seq the router answered for it. */
  readonly expected = new Map<string, number>();
  readonly counts: PushCounts = {
    accepted: 0,
    acceptedDeliveries: 0,
    failed: 0,
    skipped: 0,
  };
  readonly #options: SteadyPusherOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #began = 0;
  #sent = 0;

  constructor(options: SteadyPusherOptions) {
    if (!(options.rate > 0)) {
      throw new RangeError(`push rate must be > 0, got ${options.rate}`);
    }
    this.#options = options;
  }

  /** Starts pushing; a push is due every `1000 / rate` ms from now. */
  start(): void {
    this.#began = performance.now();
    // A 10 ms tick sends whatever came due: steady at any rate up to
    // thousands a second without a timer per push.
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  /** Stops sending and waits for the pushes in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#inFlight);
  }

  #tick(): void {
    const due = Math.floor(
      (performance.now() - this.#began) / 1000 * this.#options.rate,
    );
    const max = this.#options.maxInFlight ?? 256;
    for (; this.#sent < due; this.#sent++) {
      if (this.#inFlight.size >= max) {
        this.counts.skipped++;
        continue;
      }
      const push = this.#push().finally(() => this.#inFlight.delete(push));
      this.#inFlight.add(push);
    }
  }

  async #push(): Promise<void> {
    const { users, usersPerPush } = this.#options;
    const picked = new Set<string>();
    for (let i = 0; i < usersPerPush; i++) {
      picked.add(`u${Math.floor(Math.random() * users)}`);
    }
    try {
      const response = await fetch(this.#options.pushUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: this.#options.authorization,
        },
        body: JSON.stringify({ users: [...picked], data: "s" }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await response.json() as {
        results?: { user: string; seq: number | null }[];
      };
      if (!response.ok) {
        this.counts.failed++;
        return;
      }
      this.counts.accepted++;
      for (const { user, seq } of body.results ?? []) {
        if (!seq) continue;
        this.counts.acceptedDeliveries++;
        this.expected.set(user, Math.max(this.expected.get(user) ?? 0, seq));
      }
    } catch {
      this.counts.failed++;
    }
  }
}
