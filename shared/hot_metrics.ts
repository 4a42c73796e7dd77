/**
 * Label-free metrics for paths that update once per socket write: an update
 * is a field addition (a bucket scan for a histogram), and prom-client reads
 * the figures when the registry is scraped. prom-client's own `Counter.inc`
 * and `Histogram.observe` check and hash their labels on every call, which at
 * one counter and one observation per write was ~13% of a gateway's CPU
 * during a broadcast (docs/BENCHMARKS.md). The exposition is the same as
 * prom-client's: a counter's one sample; a histogram's cumulative
 * `_bucket{le}` series, `+Inf`, `_sum` and `_count`.
 *
 * @module
 */
import type { prom } from "./metrics.ts";

/** How a {@link HotCounter} is made. */
export type HotCounterConfig = {
  name: string;
  help: string;
  registers: readonly prom.Registry[];
};

/** How a {@link HotHistogram} is made. */
export type HotHistogramConfig = HotCounterConfig & {
  /** Upper bounds, ascending; `+Inf` is added. */
  buckets: readonly number[];
};

type Sample = {
  value: number;
  labels: Record<string, string | number>;
  /** The series' name where it is not the metric's (a histogram's parts). */
  metricName?: string;
  /** A histogram bucket's, as prom-client gives it (no exemplars here). */
  exemplar?: null;
};

/** What prom-client's registry reads of a metric (its `Metric.get` shape). */
type Exposition<T extends string> = {
  name: string;
  help: string;
  type: T;
  aggregator: "sum";
  values: Sample[];
};

/**
 * Puts `metric` on each registry. prom-client's registry takes any object
 * with a name and `get()`; its types only name its own four classes.
 */
function register(metric: object, registers: readonly prom.Registry[]): void {
  for (const registry of registers) {
    registry.registerMetric(metric as prom.Counter);
  }
}

/** A counter without labels; see the module doc. */
export class HotCounter {
  readonly name: string;
  readonly help: string;
  readonly type = "counter";
  readonly aggregator = "sum";
  #value = 0;

  constructor(config: HotCounterConfig) {
    this.name = config.name;
    this.help = config.help;
    register(this, config.registers);
  }

  /** Adds `by` (default 1); negative or non-finite amounts are refused. */
  inc(by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) {
      throw new RangeError(`${this.name}: cannot add ${by} to a counter`);
    }
    this.#value += by;
  }

  /** The sample prom-client renders. */
  get(): Promise<Exposition<"counter">> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [{ value: this.#value, labels: {} }],
    });
  }

  /** Back to zero (prom-client's `Registry.resetMetrics` calls it). */
  reset(): void {
    this.#value = 0;
  }
}

/** A histogram without labels; see the module doc. */
export class HotHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  /** Per bucket, not cumulative; the last one is `+Inf`. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;
  /**
   * After a reset, prom-client's histogram has no series until the next
   * observation (a fresh one starts with zeroes); so does this one.
   */
  #unseen = false;

  constructor(config: HotHistogramConfig) {
    for (let i = 1; i < config.buckets.length; i++) {
      if (!((config.buckets[i] ?? 0) > (config.buckets[i - 1] ?? 0))) {
        throw new RangeError(`${config.name}: buckets must ascend`);
      }
    }
    this.name = config.name;
    this.help = config.help;
    this.#bounds = [...config.buckets];
    this.#counts = new Float64Array(config.buckets.length + 1);
    register(this, config.registers);
  }

  /**
   * Records `value` (e.g. seconds). NaN and infinities are ignored, where
   * prom-client throws: this runs inside a socket write, which a bad
   * timestamp must not break.
   */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.#unseen = false;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.#counts[i]! += 1;
    this.#sum += value;
    this.#count += 1;
  }

  /** The samples prom-client renders. */
  get(): Promise<Exposition<"histogram">> {
    const values: Sample[] = [];
    if (!this.#unseen) {
      const bucket = `${this.name}_bucket`;
      let cumulative = 0;
      for (let i = 0; i < this.#counts.length; i++) {
        cumulative += this.#counts[i]!;
        values.push({
          value: cumulative,
          labels: { le: this.#bounds[i] ?? "+Inf" },
          metricName: bucket,
          exemplar: null,
        });
      }
      values.push(
        { value: this.#sum, labels: {}, metricName: `${this.name}_sum` },
        { value: this.#count, labels: {}, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  /** Back to zero (prom-client's `Registry.resetMetrics` calls it). */
  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
    this.#unseen = true;
  }
}
