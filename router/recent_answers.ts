/**
 * Push ids this router replica answered while the history could not hold
 * them: the fallback of {@link idempotent} when Redis is down, so a retry
 * with the same id, to the same replica, is not delivered twice.
 *
 * @module
 */

/** Options of {@link RecentAnswers}. */
export type RecentAnswersOptions = {
  /** Ids remembered at most; the oldest goes first. @default 10000 */
  max?: number;
  /** Milliseconds an id is remembered. @default 300000 */
  ttlMs?: number;
  now?: () => number;
};

/**
 * A bounded, expiring map of push id → the answer (a promise, so a
 * concurrent request with the same id waits for the first one's answer).
 */
export class RecentAnswers {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Insertion order is expiry order: every entry lives the same time. */
  readonly #answers = new Map<
    string,
    { answer: Promise<unknown>; expires: number }
  >();

  constructor(options: RecentAnswersOptions = {}) {
    this.#max = options.max ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /** The answer given to `key`, while it is remembered. */
  get(key: string): Promise<unknown> | undefined {
    this.#expire();
    return this.#answers.get(key)?.answer;
  }

  /**
   * Remembers the answer `run` gives; forgets it if `run` fails, so a retry
   * pushes afresh. Returns that answer.
   */
  remember<T>(key: string, run: () => Promise<T>): Promise<T> {
    const answer = run();
    this.#expire();
    if (this.#answers.size >= this.#max) {
      this.#answers.delete(this.#answers.keys().next().value!);
    }
    this.#answers.set(key, { answer, expires: this.#now() + this.#ttlMs });
    answer.catch(() => {
      if (this.#answers.get(key)?.answer === answer) this.#answers.delete(key);
    });
    return answer;
  }

  #expire(): void {
    const now = this.#now();
    for (const [key, { expires }] of this.#answers) {
      if (expires > now) break;
      this.#answers.delete(key);
    }
  }
}
