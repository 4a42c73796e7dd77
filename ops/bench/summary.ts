/**
 * Min / median / max of each numeric figure over runs, and the table lines
 * printed at the end of a scenario.
 *
 * @module
 */

/** min, median, max of one figure. */
export type Spread = { min: number; median: number; max: number };

/** Spread of every numeric field shared by `runs`. */
export function spread(
  runs: Record<string, unknown>[],
): Record<string, Spread> {
  const out: Record<string, Spread> = {};
  if (runs.length === 0) return out;
  for (const key of Object.keys(runs[0]!)) {
    const values = runs.map((r) => r[key]).filter((v): v is number =>
      typeof v === "number"
    );
    if (values.length !== runs.length) continue;
    values.sort((a, b) => a - b);
    const mid = Math.floor(values.length / 2);
    const median = values.length % 2
      ? values[mid]!
      : (values[mid - 1]! + values[mid]!) / 2;
    out[key] = {
      min: values[0]!,
      median: Number(median.toFixed(3)),
      max: values.at(-1)!,
    };
  }
  return out;
}

/** A plain-text table: one row per system, `min / median / max` per figure. */
export function table(
  rows: { system: string; figures: Record<string, Spread> }[],
  keys: string[],
): string {
  const header = ["system", ...keys];
  const lines = rows.map((row) => [
    row.system,
    ...keys.map((k) => {
      const s = row.figures[k];
      if (!s) return "-";
      return s.min === s.max
        ? String(s.median)
        : `${s.min} / ${s.median} / ${s.max}`;
    }),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => l[i]!.length))
  );
  const fmt = (cells: string[]) =>
    cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [fmt(header), ...lines.map(fmt)].join("\n");
}
