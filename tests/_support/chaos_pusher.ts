/**
 * A steady stream of pushes for the chaos tests: `rate` pushes per second,
 * each to a batch of users drawn in shuffled rounds (every user once per
 * round, so none waits long for its next message). A push that fails
 * (router down, 5xx, timeout) is retried with the same `id` until it is
 * answered 200, so idempotency keeps it single; every answer is kept.
 *
 * @module
 */

/** One push and what became of it. */
export type PushRecord = {
  id: string;
  users: string[];
  /** When the first attempt was sent. */
  sentAt: number;
  attempts: number;
  /** The 200 answer, once there is one. */
  answer?: {
    results: { user: string; seq: number | null; devices: number }[];
    stored?: false;
    unreachable?: string[];
  };
  answeredAt?: number;
  /** The last failure seen, for the figures. */
  lastError?: string;
};

/** Options of {@link SteadyPusher}. */
export type SteadyPusherOptions = {
  /** The router's base URL, asked before every attempt (it may change). */
  router: () => string;
  apiKey: string;
  users: string[];
  /** Pushes per second. */
  rate: number;
  /** Users per push. */
  batch: number;
  /** Milliseconds one attempt may take. @default 10000 */
  attemptTimeoutMs?: number;
  /** Milliseconds after `stop()` that retries may still go on. @default 30000 */
  retryWindowMs?: number;
  /** Attempts in flight at most; further pushes wait. @default 200 */
  maxInFlight?: number;
};

/** See the module doc. */
export class SteadyPusher {
  readonly pushes: PushRecord[] = [];
  readonly #options: SteadyPusherOptions;
  readonly #running = new Set<Promise<void>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #startedAt = 0;
  #round: string[] = [];
  #stopping = false;
  #giveUpAt = Infinity;
  #inFlight = 0;

  constructor(options: SteadyPusherOptions) {
    this.#options = options;
  }

  /** Starts pushing; `rate` is kept by elapsed time, so a late timer catches up. */
  start(): void {
    this.#startedAt = Date.now();
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  /** Stops new pushes and waits until every push is answered or given up. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopping = true;
    this.#giveUpAt = Date.now() + (this.#options.retryWindowMs ?? 30_000);
    while (this.#running.size > 0) {
      await Promise.all([...this.#running]);
    }
  }

  /** Pushes answered 200. */
  get accepted(): PushRecord[] {
    return this.pushes.filter((p) => p.answer !== undefined);
  }

  #tick(): void {
    const { rate, maxInFlight = 200 } = this.#options;
    const due = Math.floor((Date.now() - this.#startedAt) * rate / 1000);
    while (this.pushes.length < due && this.#inFlight < maxInFlight) {
      this.#send(this.#nextBatch());
    }
  }

  #nextBatch(): string[] {
    const { batch, users } = this.#options;
    if (this.#round.length < batch) {
      const shuffled = [...users];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      this.#round.push(...shuffled);
    }
    return this.#round.splice(0, batch);
  }

  #send(users: string[]): void {
    const record: PushRecord = {
      id: `p${this.pushes.length + 1}`,
      users,
      sentAt: Date.now(),
      attempts: 0,
    };
    this.pushes.push(record);
    this.#inFlight++;
    const running = this.#deliver(record).finally(() => {
      this.#inFlight--;
      this.#running.delete(running);
    });
    this.#running.add(running);
  }

  async #deliver(record: PushRecord): Promise<void> {
    const { apiKey, attemptTimeoutMs = 10_000 } = this.#options;
    const body = JSON.stringify({
      users: record.users,
      data: { push: record.id },
      id: record.id,
    });
    for (let attempt = 0;; attempt++) {
      record.attempts++;
      // A cleared timer, not AbortSignal.timeout: that one outlives the call.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), attemptTimeoutMs);
      try {
        const response = await fetch(`${this.#options.router()}/v1/push`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${apiKey}`,
            "content-type": "application/json",
          },
          body,
          signal: abort.signal,
        });
        const text = await response.text();
        if (response.status === 200) {
          record.answer = JSON.parse(text);
          record.answeredAt = Date.now();
          return;
        }
        record.lastError = `${response.status} ${text.slice(0, 120)}`;
      } catch (error) {
        record.lastError = error instanceof Error ? error.message : `${error}`;
      } finally {
        clearTimeout(timer);
      }
      if (this.#stopping && Date.now() > this.#giveUpAt) return;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(1000, 100 * 2 ** attempt))
      );
    }
  }
}
