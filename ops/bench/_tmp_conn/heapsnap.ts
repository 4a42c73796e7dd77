// Throwaway: heap snapshot of one gateway (or raw) with N idle sockets; objects per socket by constructor.
const ROOT = Deno.env.get("ROOT") ?? "/work/wt/conn";
const { startSystem } = await import(`${ROOT}/ops/bench/systems.ts`);
const { Fleet } = await import(`${ROOT}/ops/bench/fleet.ts`);
const kind = Deno.args[0] ?? "wsgw";
const N = Number(Deno.args[1] ?? 2000);
const system = await startSystem(kind, 1, { inspect: true });
const port = system.inspectorPorts[0];
async function snapshot(): Promise<
  Map<string, { count: number; size: number }>
> {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(list[0].webSocketDebuggerUrl);
  await new Promise((r) => ws.onopen = r);
  let chunks = "";
  const done = new Promise<void>((resolve) => {
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.method === "HeapProfiler.addHeapSnapshotChunk") {
        chunks += m.params.chunk;
      }
      if (m.id === 3) resolve();
    };
  });
  ws.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" }));
  ws.send(JSON.stringify({ id: 2, method: "HeapProfiler.collectGarbage" }));
  ws.send(
    JSON.stringify({
      id: 3,
      method: "HeapProfiler.takeHeapSnapshot",
      params: { reportProgress: false },
    }),
  );
  await done;
  ws.close();
  const snap = JSON.parse(chunks);
  const f = snap.snapshot.meta.node_fields as string[];
  const types = snap.snapshot.meta.node_types[0] as string[];
  const nf = f.length,
    it = f.indexOf("type"),
    iname = f.indexOf("name"),
    isz = f.indexOf("self_size");
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += nf) {
    const key = `${types[snap.nodes[i + it]]}:${
      String(snap.strings[snap.nodes[i + iname]]).slice(0, 60)
    }`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + isz];
    out.set(key, e);
  }
  // retainers of plain objects and arrays
  const ef = snap.snapshot.meta.edge_fields as string[];
  const etypes = snap.snapshot.meta.edge_types[0] as string[];
  const ie = f.indexOf("edge_count");
  const ret = new Map<string, number>();
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += nf) {
    const from = `${types[snap.nodes[i + it]]}:${
      String(snap.strings[snap.nodes[i + iname]]).slice(0, 30)
    }`;
    const count = snap.nodes[i + ie];
    for (let e = 0; e < count; e++, edge += ef.length) {
      const et = etypes[snap.edges[edge]];
      const to = snap.edges[edge + 2];
      const tname = String(snap.strings[snap.nodes[to + iname]]);
      const ttype = types[snap.nodes[to + it]];
      if (
        !((ttype === "object" && (tname === "Object" || tname === "Array")) ||
          ttype === "closure")
      ) continue;
      if (et === "weak") continue;
      const ename = et === "element" || et === "hidden"
        ? `[${et}]`
        : String(snap.strings[snap.edges[edge + 1]]);
      const key = `ret:${ttype}:${tname} <- ${from} .${ename}`;
      ret.set(key, (ret.get(key) ?? 0) + 1);
    }
  }
  for (const [k, v] of ret) out.set(k, { count: v, size: 0 });
  return out;
}
await new Promise((r) => setTimeout(r, 1000));
const before = await snapshot();
const fleet = Fleet.start(system, {
  sockets: N,
  devices: 1,
  placement: "spread",
  processes: 2,
  rate: 0,
  heartbeatMs: 30000,
  say: () => {},
});
await fleet.ready();
await new Promise((r) => setTimeout(r, 2000));
const after = await snapshot();
const rows = [];
for (const [k, a] of after) {
  const b = before.get(k) ?? { count: 0, size: 0 };
  const dc = (a.count - b.count) / N, ds = (a.size - b.size) / N;
  if (k.startsWith("ret:")) {
    if (dc >= 0.5) rows.push({ k, perSock: dc.toFixed(2), bytesPerSock: -1 });
    continue;
  }
  if (Math.abs(ds) > 16 || Math.abs(dc) >= 0.9) {
    rows.push({ k, perSock: dc.toFixed(2), bytesPerSock: Math.round(ds) });
  }
}
rows.sort((x, y) => y.bytesPerSock - x.bytesPerSock);
let total = 0;
for (const [k, a] of after) {
  if (k.startsWith("ret:")) continue;
  const b = before.get(k) ?? { count: 0, size: 0 };
  total += a.size - b.size;
}
console.log(`total self bytes per socket: ${Math.round(total / N)}`);
for (const r of rows.filter((r) => r.bytesPerSock !== -1).slice(0, 60)) {
  console.log(
    r.bytesPerSock.toString().padStart(6),
    r.perSock.padStart(7),
    r.k,
  );
}
console.log("--- retainers per socket");
for (const r of rows.filter((r) => r.bytesPerSock === -1)) {
  console.log(r.perSock.padStart(7), r.k);
}
await fleet.stop();
await system.stop();
Deno.exit(0);
