// Throwaway: where a gateway's RSS sits after a forced GC, by mapping kind, per socket.
import { startSystem } from "../systems.ts";
import { Fleet } from "../fleet.ts";
import { collectGarbage } from "../v8_inspector.ts";
const kind = (Deno.args[0] ?? "wsgw") as "wsgw";
const N = Number(Deno.args[1] ?? 3000);
const system = await startSystem(kind, 1, { inspect: true });
const pid = system.gatewayPids[0];
function smaps(): Map<string, number> {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps`);
  const out = new Map<string, number>();
  let key = "";
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const size = (parseInt(m[2], 16) - parseInt(m[1], 16)) / 1024;
      const name = m[3] || "anon";
      key = name === "anon"
        ? (size >= 65536
          ? "anon>=64M(arena?)"
          : size >= 1024
          ? "anon 1-64M"
          : size === 256
          ? "anon 256K (v8 page)"
          : "anon <1M")
        : name.startsWith("/")
        ? "file"
        : name;
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) out.set(key, (out.get(key) ?? 0) + Number(r[1]));
  }
  return out;
}
await new Promise((r) => setTimeout(r, 1000));
await collectGarbage(system.inspectorPorts!);
await new Promise((r) => setTimeout(r, 500));
const before = smaps();
const fleet = Fleet.start(system, {
  sockets: N,
  devices: 1,
  placement: "spread",
  processes: 2,
  rate: 0,
  heartbeatMs: 30000,
  say: () => {},
});
const ready = await fleet.ready();
await new Promise((r) => setTimeout(r, 2000));
const heap = await collectGarbage(system.inspectorPorts!);
await new Promise((r) => setTimeout(r, 500));
const after = smaps();
console.log(
  `${kind}: ${ready.open} open; heap used ${
    (heap.usedBytes / 1024 / N).toFixed(1)
  } KiB/socket (absolute)`,
);
for (const [k, v] of after) {
  console.log(
    `${k.padEnd(24)} ${
      ((v - (before.get(k) ?? 0)) / N).toFixed(2)
    } KiB/socket  (${(v / 1024).toFixed(0)} MiB)`,
  );
}
const trim = new Deno.Command("gdb", {
  args: ["-p", String(pid), "-batch", "-ex", "call (int)malloc_trim(0)"],
  stdout: "null",
  stderr: "null",
}).outputSync();
const trimmed = smaps();
console.log(`after malloc_trim(0) (gdb exit ${trim.code}):`);
for (const [k, v] of trimmed) {
  if (k === "[heap]" || k.startsWith("anon")) {
    console.log(
      `${k.padEnd(24)} ${
        ((v - (before.get(k) ?? 0)) / N).toFixed(2)
      } KiB/socket  (${(v / 1024).toFixed(0)} MiB)`,
    );
  }
}
await fleet.stop();
await system.stop();
Deno.exit(0);
