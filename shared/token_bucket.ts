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

  /** Takes `count` tokens; false (taking none) when fewer are left: the event is over the limit. */
  take(count = 1): boolean {
    this.#refill();
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }

  /** Milliseconds until `count` tokens are there (never more than `burst` can hold). */
  msUntil(count = 1): number {
    this.#refill();
    const missing = Math.min(count, this.#burst) - this.#tokens;
    return missing <= 0 ? 0 : Math.ceil((missing / this.#rate) * 1000);
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate,
    );
    this.#refilledAt = now;
  }

  /** True when the bucket is full again (an idle key can be forgotten). */
  get full(): boolean {
    const elapsed = (this.#now() - this.#refilledAt) / 1000;
    return this.#tokens + elapsed * this.#rate >= this.#burst;
  }
}
