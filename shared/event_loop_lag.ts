/**
 * Event-loop lag for prom-client's `nodejs_eventloop_lag_*` gauges, measured
 * by how late a timer fires. prom-client reads them from Node's
 * `monitorEventLoopDelay`, which in Deno 2.9 records no stall of a process
 * started with `deno run` (five 300 ms stalls showed a 10–30 µs maximum; see
 * tests/unit/default_metrics.test.ts), so the lag alert could never fire. Its
 * 20 ms sampling also woke an idle process ~160 times a second.
 *
 * One sampler per process, shared by every registry: a timer every 100 ms
 * notes how late it ran. The gauges give the figures of the last minute of
 * samples (not only those since the previous scrape, so two scrapers see the
 * same figures).
 *
 * @module
 */
import client from "prom-client";

/** How often the sampler's timer is due. */
const PERIOD_MS = 100;
/** Samples the gauges read: the last minute. */
const WINDOW = 600;

/** The gauge names and help texts prom-client uses, and how each is read. */
const GAUGES: readonly [string, string, (lag: LagWindow) => number][] = [
  [
    "nodejs_eventloop_lag_seconds",
    "Lag of event loop in seconds.",
    (l) => l.latest(),
  ],
  [
    "nodejs_eventloop_lag_min_seconds",
    "The minimum recorded event loop delay.",
    (l) => l.percentile(0),
  ],
  [
    "nodejs_eventloop_lag_max_seconds",
    "The maximum recorded event loop delay.",
    (l) => l.percentile(100),
  ],
  [
    "nodejs_eventloop_lag_mean_seconds",
    "The mean of the recorded event loop delays.",
    (l) => l.mean(),
  ],
  [
    "nodejs_eventloop_lag_stddev_seconds",
    "The standard deviation of the recorded event loop delays.",
    (l) => l.stddev(),
  ],
  [
    "nodejs_eventloop_lag_p50_seconds",
    "The 50th percentile of the recorded event loop delays.",
    (l) => l.percentile(50),
  ],
  [
    "nodejs_eventloop_lag_p90_seconds",
    "The 90th percentile of the recorded event loop delays.",
    (l) => l.percentile(90),
  ],
  [
    "nodejs_eventloop_lag_p99_seconds",
    "The 99th percentile of the recorded event loop delays.",
    (l) => l.percentile(99),
  ],
];

/** The names of the gauges {@link registerEventLoopLag} adds. */
export const EVENT_LOOP_LAG_GAUGES: readonly string[] = GAUGES.map(([name]) =>
  name
);

/** The last {@link WINDOW} lags, in seconds. */
class LagWindow {
  readonly #samples = new Float64Array(WINDOW);
  #count = 0;
  #next = 0;
  #due = performance.now() + PERIOD_MS;

  /** The timer ran: records how late it was and when it is due next. */
  tick(): void {
    const now = performance.now();
    this.#samples[this.#next] = Math.max(0, now - this.#due) / 1000;
    this.#next = (this.#next + 1) % WINDOW;
    this.#count = Math.min(this.#count + 1, WINDOW);
    this.#due = now + PERIOD_MS;
  }

  latest(): number {
    return this.#count === 0
      ? 0
      : this.#samples[(this.#next + WINDOW - 1) % WINDOW]!;
  }

  mean(): number {
    let sum = 0;
    for (const lag of this.#held()) sum += lag;
    return this.#count === 0 ? 0 : sum / this.#count;
  }

  stddev(): number {
    const mean = this.mean();
    let squares = 0;
    for (const lag of this.#held()) squares += (lag - mean) ** 2;
    return this.#count === 0 ? 0 : Math.sqrt(squares / this.#count);
  }

  /** Nearest-rank percentile (0 = min, 100 = max); 0 with no samples. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const sorted = this.#held().sort();
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
  }

  #held(): Float64Array {
    return this.#samples.slice(0, this.#count);
  }
}

let sampler: LagWindow | undefined;

/** The process's sampler, started on first use; its timer keeps no process alive. */
function processSampler(): LagWindow {
  if (sampler) return sampler;
  const window = new LagWindow();
  Deno.unrefTimer(setInterval(() => window.tick(), PERIOD_MS));
  return sampler = window;
}

/** Adds the `nodejs_eventloop_lag_*` gauges to `registry`. */
export function registerEventLoopLag(registry: client.Registry): void {
  const lag = processSampler();
  for (const [name, help, read] of GAUGES) {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(lag));
      },
    });
  }
}
