/**
 * A latency histogram in 0.1 ms buckets up to 60 s, cheap to record into and
 * to merge across processes (sent as sparse `[bucket, count]` pairs).
 *
 * @module
 */

const BUCKETS = 600_000;

/** Counts of latencies, mergeable; values are milliseconds. */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS + 1);
  count = 0;

  record(ms: number): void {
    const bucket = Math.max(0, Math.min(BUCKETS, Math.round(ms * 10)));
    this.#counts[bucket]!++;
    this.count++;
  }

  /** Adds a sparse histogram from {@link toJSON}. */
  merge(pairs: [number, number][]): void {
    for (const [bucket, n] of pairs) {
      this.#counts[bucket]! += n;
      this.count += n;
    }
  }

  /** The value at quantile `q` (0..1) in ms; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return i / 10;
    }
    return BUCKETS / 10;
  }

  toJSON(): [number, number][] {
    const pairs: [number, number][] = [];
    for (let i = 0; i <= BUCKETS; i++) {
      if (this.#counts[i]! > 0) pairs.push([i, this.#counts[i]!]);
    }
    return pairs;
  }
}
