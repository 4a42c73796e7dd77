/**
 * A token bucket: `rate` tokens a second, holding at most `burst`. Used for
 * every "so many per second" limit (inbound frames per connection,
 * connections per address).
 *
 * @module
 */

/** Options of {@link TokenBucket}. */
export type TokenBucketOptions = {
  /** Tokens added per second. */
  rate: number;
  /** Most tokens held; a full bucket allows a burst of this many. */
  burst: number;
  /** Clock in ms. @default Date.now */
  now?: () => number;
};

/** Allows `rate` events a second on average, bursts up to `burst`. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;

  constructor(options: TokenBucketOptions) {
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
    this.#tokens = options.burst;
    this.#refilledAt = this.#now();
  }

  /** Takes one token; false when the bucket is empty (the event is over the limit). */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate,
    );
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** True when the bucket is full again (an idle key can be forgotten). */
  get full(): boolean {
    const elapsed = (this.#now() - this.#refilledAt) / 1000;
    return this.#tokens + elapsed * this.#rate >= this.#burst;
  }
}
