/**
 * Prints the figures a chaos run appended to `$WSGW_CHAOS_FIGURES` as the
 * markdown table of docs/RELIABILITY.md:
 *
 * ```sh
 * WSGW_CHAOS_FIGURES=/tmp/chaos.jsonl deno test -A tests/chaos/
 * deno run --allow-read tests/_support/chaos_table.ts /tmp/chaos.jsonl
 * ```
 *
 * @module
 */
// deno-lint-ignore-file no-console
import type { ChaosFigures } from "./chaos_figures.ts";

/** One line of the figures file. */
type Line = {
  rate: number;
  batch: number;
  users: number;
  figures: ChaosFigures;
  notes: Record<string, string | number>;
};

/** Cases in the order of docs/RELIABILITY.md; others follow. */
const ORDER = [
  "kill -9 one node",
  "drain one node (SIGTERM)",
  "etcd stopped for 15 s",
  "Redis stopped for 10 s",
  "router restarted",
  "pushes racing connects",
];

/** The figures of a run as a markdown table, one column per case. */
export function markdownTable(unordered: readonly Line[]): string {
  const rank = (line: Line) => {
    const i = ORDER.indexOf(line.figures.case);
    return i === -1 ? ORDER.length : i;
  };
  const lines = [...unordered].sort((a, b) => rank(a) - rank(b));
  const rows: [string, (line: Line) => string | number][] = [
    [
      "pushes accepted / sent",
      (l) => `${l.figures.accepted} / ${l.figures.pushes}`,
    ],
    ["pushes retried (same id)", (l) => l.figures.retried],
    ["accepted without history", (l) => l.figures.unstored],
    ["answers listing a node unreachable", (l) => l.figures.unreachable],
    ["(device, seq) owed", (l) => l.figures.expected],
    ["received", (l) => l.figures.received],
    ["**lost**", (l) => `**${l.figures.lost}**`],
    ["**duplicated on one connection**", (l) => `**${l.figures.duplicated}**`],
    [
      "**out of order on one connection**",
      (l) => `**${l.figures.outOfOrder}**`,
    ],
    ["holes inside one connection", (l) => l.figures.holes],
    ["unstored, missed by an online device", (l) => l.figures.unstoredMissed],
    [
      "messages per device (min / median / max)",
      (l) => l.figures.perDevice.join(" / "),
    ],
    [
      "reconnects / resets",
      (l) => `${l.figures.reconnects} / ${l.figures.resets}`,
    ],
    [
      "every device receiving again after",
      (l) =>
        l.figures.recoveryMs === null ? "never" : `${l.figures.recoveryMs} ms`,
    ],
    ["devices silent > 2.5 s after the fault", (l) => l.figures.silentDevices],
    ["longest silence of a device", (l) => `${l.figures.maxSilenceMs} ms`],
    ["final settle", (l) => l.notes["final settle"] ?? ""],
  ];
  const header = ["", ...lines.map((l) => l.figures.case)];
  const table = [
    header,
    header.map(() => "---"),
    ...rows.map(([name, cell]) => [name, ...lines.map((l) => String(cell(l)))]),
  ];
  return table.map((row) => `| ${row.join(" | ")} |`).join("\n");
}

if (import.meta.main) {
  const path = Deno.args[0] ?? Deno.env.get("WSGW_CHAOS_FIGURES");
  if (!path) {
    console.error("usage: chaos_table.ts <figures.jsonl>");
    Deno.exit(2);
  }
  const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l)
    .map((l) => JSON.parse(l) as Line);
  console.log(markdownTable(lines));
}
