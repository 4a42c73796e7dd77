// deno-lint-ignore-file no-console
/**
 * Markdown tables (min / median / max per figure) from result JSON files,
 * for docs/BENCHMARKS.md: `deno run -A ops/bench/report.ts results/*.json`.
 *
 * @module
 */
import { spread } from "./summary.ts";

const KEYS: Record<string, string[]> = {
  push: [
    "pushRps",
    "deliveredPushRps",
    "apiP50Ms",
    "apiP99Ms",
    "e2eP50Ms",
    "e2eP99Ms",
    "deliveriesPerSec",
    "gatewayCpuPer10kPushes",
    "apiCpuPer10kPushes",
    "load1",
  ],
  "fanout-cost": [
    "pushRps",
    "deliveredPushRps",
    "gatewayCpuPer10kPushes",
    "gatewayCpuPer10kDelivered",
    "apiCpuPer10kPushes",
    "e2eP50Ms",
    "e2eP99Ms",
    "load1",
  ],
  connections: [
    "open",
    "connectsPerSec",
    "rssPerConnKiB",
    "idleCpuPercent",
    "rssAfterMiB",
    "clientRssMiB",
    "load1",
  ],
  broadcast: [
    "sockets",
    "received",
    "lastReceiptMs",
    "deliveriesPerSec",
    "load1",
  ],
};

for (const file of Deno.args) {
  const result = JSON.parse(await Deno.readTextFile(file));
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
    console.log(`| ${r.system} | ${r.nodes} | ${cells.join(" | ")} |`);
  }
  console.log("");
}
