/**
 * Connect rates from a ramp's samples (sockets open at times).
 *
 * @module
 */
import type { RampPoint as FleetPoint } from "./resume_fleet.ts";

/** Sockets open `ms` after the ramp began. */
type RampPoint = Pick<FleetPoint, "ms" | "open">;

/** Connect rates of one ramp. */
export type RampRates = {
  /** Connects/s between consecutive samples at least `minGapMs` apart. */
  min: number;
  median: number;
  max: number;
  /**
   * Connects/s over each tenth of the sockets reached (0–10%, 10–20%, …),
   * times interpolated between samples: a rate that falls as the count
   * grows shows here. Shorter than 10 when the ramp stopped early.
   */
  byTenth: number[];
};

/** Time at which `open` first reached `target`, interpolated; undefined if never. */
function timeAt(ramp: RampPoint[], target: number): number | undefined {
  if (target <= 0) return 0;
  let prev: RampPoint = { ms: 0, open: 0 };
  for (const point of ramp) {
    if (point.open >= target) {
      const span = point.open - prev.open;
      const share = span > 0 ? (target - prev.open) / span : 1;
      return prev.ms + (point.ms - prev.ms) * share;
    }
    prev = point;
  }
  return undefined;
}

/**
 * Rates of `ramp` (samples in time order, from the clients' start) towards
 * `total` sockets.
 */
export function rampRates(
  ramp: RampPoint[],
  total = ramp.at(-1)?.open ?? 0,
  minGapMs = 1000,
): RampRates {
  const rates: number[] = [];
  let prev: RampPoint = { ms: 0, open: 0 };
  for (const point of ramp) {
    if (point.ms - prev.ms < minGapMs) continue;
    rates.push(
      Math.round((point.open - prev.open) / (point.ms - prev.ms) * 1000),
    );
    prev = point;
  }
  const sorted = [...rates].sort((a, b) => a - b);
  const byTenth: number[] = [];
  for (let k = 1; k <= 10; k++) {
    const from = timeAt(ramp, (k - 1) * total / 10);
    const to = timeAt(ramp, k * total / 10);
    if (from === undefined || to === undefined) break;
    byTenth.push(to > from ? Math.round(total / 10 / ((to - from) / 1000)) : 0);
  }
  return {
    min: sorted[0] ?? 0,
    median: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
    max: sorted.at(-1) ?? 0,
    byTenth,
  };
}
