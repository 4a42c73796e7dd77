// Throwaway: CPU profile of the connect window of one gateway, via the inspector.
import { startSystem } from "../systems.ts";
import { Fleet } from "../fleet.ts";
const kind = (Deno.args[0] ?? "wsgw") as "wsgw";
const N = Number(Deno.args[1] ?? 3000);
const out = Deno.args[2] ?? "/tmp/connb/prof.json";
const system = await startSystem(kind, 1, { inspect: true });
const port = system.inspectorPorts![0];
const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const ws = new WebSocket(list[0].webSocketDebuggerUrl);
await new Promise((r) => ws.onopen = r);
let id = 0;
const pending = new Map<number, (m: any) => void>();
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.id) pending.get(m.id)?.(m);
};
const call = (method: string, params = {}) =>
  new Promise<any>((r) => {
    pending.set(++id, r);
    ws.send(JSON.stringify({ id, method, params }));
  });
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 200 });
await new Promise((r) => setTimeout(r, 1000));
await call("Profiler.start");
const t0 = performance.now();
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
const { profile } = (await call("Profiler.stop")).result;
console.log(
  `ramp ${ready.open} in ${ready.ms} ms (${
    Math.round(ready.open / ready.ms * 1000)
  }/s), window ${Math.round(performance.now() - t0)} ms`,
);
Deno.writeTextFileSync(out, JSON.stringify(profile));
ws.close();
await fleet.stop();
await system.stop();
Deno.exit(0);
