// deno-lint-ignore-file no-console
/**
 * Markdown tables (min / median / max per figure) from result JSON files,
 * for docs/BENCHMARKS.md: `deno run -A ops/bench/report.ts results/*.json`.
 *
 * @module
 */
import { spread } from "./summary.ts";

const KEYS: Record<string, string[]> = {
  // CPU in µs per *delivered* push; e2e from the loader's due time.
  push: [
    "pushRps",
    "deliveredPushRps",
    "apiP50Ms",
    "apiP99Ms",
    "e2eP50Ms",
    "e2eP99Ms",
    "gatewayUsPerDelivered",
    "apiUsPerDelivered",
    "backendUsPerDelivered",
    "systemUsPerDelivered",
    "machineCpuPercent",
    "load1",
  ],
  "fanout-cost": [
    "pushRps",
    "deliveredPushRps",
    "e2eP50Ms",
    "e2eP99Ms",
    "gatewayUsPerDelivered",
    "apiUsPerDelivered",
    "backendUsPerDelivered",
    "systemUsPerDelivered",
    "machineCpuPercent",
    "load1",
  ],
  latency: [
    "offeredRps",
    "deliveredPushRps",
    "e2eP50Ms",
    "e2eP99Ms",
    "apiP50Ms",
    "apiP99Ms",
    "gatewayUsPerDelivered",
    "apiUsPerDelivered",
    "systemUsPerDelivered",
    "machineCpuPercent",
    "load1",
  ],
  connections: [
    "open",
    "connectsPerSec",
    "cpuUsPerConnect",
    "backendCpuUsPerConnect",
    "rssPerConnKiB",
    "rssPerConnAfterGcKiB",
    "anonRssPerConnAfterGcKiB",
    "heapUsedPerConnKiB",
    "heapTotalPerConnKiB",
    "idleCpuPercent",
    "rssAfterMiB",
    "clientRssMiB",
    "load1",
  ],
  wakeup: ["firings", "cpuMs", "usPerFiring", "load1"],
  broadcast: [
    "sockets",
    "received",
    "lastReceiptMs",
    "deliveriesPerSec",
    "nodeUsPerDelivery",
    "apiUsPerDelivery",
    "load1",
  ],
};

// `--merge`: one table of every file's runs, per system (an interleaved
// session: A/B/A/B rounds written to one file each).
const merge = Deno.args.includes("--merge");
const files = Deno.args.filter((a) => a !== "--merge");
const loaded = await Promise.all(
  files.map(async (file) => JSON.parse(await Deno.readTextFile(file))),
);
const results = merge && loaded.length > 0
  ? [mergeRuns(loaded, files)]
  : loaded;

// deno-lint-ignore no-explicit-any
function mergeRuns(all: any[], names: string[]): any {
  const bySystem = new Map<
    string,
    { system: string; nodes: number; runs: unknown[] }
  >();
  for (const result of all) {
    for (const r of result.results) {
      let entry = bySystem.get(r.system);
      if (!entry) {
        bySystem.set(
          r.system,
          entry = { system: r.system, nodes: r.nodes, runs: [] },
        );
      }
      entry.runs.push(...r.runs);
    }
  }
  return {
    ...all[0],
    command: `${all[0].command} (${all.length} files merged: ${
      names.join(", ")
    })`,
    results: [...bySystem.values()],
  };
}

for (const result of results) {
  console.log(
    `### ${result.scenario}\n\n\`${result.command}\` — ${result.startedAt}, ${result.seconds} s, ${result.machine.uptime}\n`,
  );
  if (result.scenario === "registry") {
    for (const r of result.results) {
      const cold = spread(r.coldStarts);
      console.log(
        `| mappings | nodes | register ms | register/s | txns | cold load ms (min / median / max) | router RSS MiB | RSS delta MiB | heap MiB |`,
      );
      console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
      const s = (k: string) =>
        cold[k] ? `${cold[k].min} / ${cold[k].median} / ${cold[k].max}` : "-";
      console.log(
        `| ${r.mappings} | ${r.nodes} | ${r.registerMs} | ${r.registerPerSec} | ${r.txns} | ${
          s("loadMs")
        } | ${s("rssMiB")} | ${s("rssDeltaMiB")} | ${s("heapUsedMiB")} |\n`,
      );
    }
    continue;
  }
  if (result.scenario === "hold") {
    console.log(
      `| sockets | nodes / clients | open | connects/s (ramp; by tenth) | RSS KiB per socket | pushes/s | deliveries accepted / received / lost | behind / duplicates / gaps / dropped | machine CPU % ramp / hold | load1 |`,
    );
    console.log(
      `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
    );
    for (const r of result.results) {
      console.log(
        `| ${r.sockets} | ${r.nodes} / ${r.clients} | ${r.open} | ${r.connectsPerSec}; ${
          r.rampRates.byTenth.join(", ")
        } | ${r.rssPerConnKiB} | ${r.pushRate} | ${r.deliveriesAccepted} / ${r.deliveriesReceived} / ${r.lost} | ${r.usersBehind} / ${r.duplicates} / ${r.gaps} / ${r.dropped} | ${r.ramping.machineCpuPercent} / ${r.holding.machineCpuPercent} | ${r.load1} |`,
      );
    }
    console.log("");
    continue;
  }
  if (result.scenario === "storm") {
    console.log(
      `| system | sockets | dropped | back | all back, ms from the kill | p50 / p90 / p99 / all ms from each drop | behind / duplicates / gaps | load1 |`,
    );
    console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
    for (const r of result.results) {
      const b = r.backMs;
      console.log(
        `| ${r.system} | ${r.sockets} | ${r.dropped} | ${r.reconnected} | ${
          r.allBackMs ?? b.all
        } | ${b.p50} / ${b.p90} / ${b.p99} / ${b.all} | ${r.usersBehind} / ${r.duplicates} / ${r.gaps} | ${r.load1} |`,
      );
    }
    console.log("");
    continue;
  }
  if (result.scenario === "latency") {
    console.log(
      `Capacity (delivered push/s, closed loop): ${
        // deno-lint-ignore no-explicit-any
        result.capacities.map((c: any) => `${c.system}: ${c.deliveredPushRps}`)
          .join("; ")}. Weakest: ${result.weakest.deliveredPushRps}/s.\n`,
    );
  }
  const keys = KEYS[result.scenario]!;
  console.log(`| system | nodes | ${keys.join(" | ")} |`);
  console.log(`| --- | --- | ${keys.map(() => "---").join(" | ")} |`);
  const devices = result.options?.devices ?? 10;
  for (const r of result.results) {
    // CPU per delivered push: a bus that accepts faster than it delivers
    // (Socket.IO's emitter does not wait) is charged for what it delivered.
    for (const run of r.runs) {
      if (run.deliveries > 0 && run.gatewayCpuSeconds !== undefined) {
        run.gatewayCpuPer10kDelivered = Number(
          (run.gatewayCpuSeconds / (run.deliveries / devices) * 10_000).toFixed(
            2,
          ),
        );
        run.deliveredPushRps = Math.round(run.deliveriesPerSec / devices);
      }
    }
    const s = spread(r.runs);
    const cells = keys.map((k) => {
      const v = s[k];
      if (!v) return "-";
      return v.min === v.max
        ? `${v.median}`
        : `${v.min} / **${v.median}** / ${v.max}`;
    });
    console.log(`| ${r.system} | ${r.nodes ?? "–"} | ${cells.join(" | ")} |`);
  }
  console.log("");
}
