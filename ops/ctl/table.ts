/**
 * Aligned plain-text tables and the time formats ctl prints.
 *
 * @module
 */

/** `headers` and `rows` as columns padded to their widest cell; numbers align right. */
export function table(
  headers: string[],
  rows: (string | number | boolean | null)[][],
): string {
  const cells = rows.map((row) =>
    row.map((cell) => cell === null ? "-" : String(cell))
  );
  const numeric = headers.map((_, i) =>
    rows.length > 0 &&
    rows.every((row) => typeof row[i] === "number" || row[i] === null)
  );
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => row[i]?.length ?? 0))
  );
  const line = (row: string[]) =>
    row.map((cell, i) =>
      i === row.length - 1 && !numeric[i]
        ? cell
        : numeric[i]
        ? cell.padStart(widths[i]!)
        : cell.padEnd(widths[i]!)
    ).join("  ");
  return [line(headers), ...cells.map(line)].join("\n") + "\n";
}

/** `2026-01-02 13:04:05` in UTC. */
export function time(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** `3d4h`, `5m12s`, `42s` since `ms`. */
export function age(ms: number, now = Date.now()): string {
  let s = Math.max(0, Math.round((now - ms) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
