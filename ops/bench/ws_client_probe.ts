// deno-lint-ignore-file no-console
/**
 * Round trips over Deno's own WebSockets on loopback, by message size: a
 * `Deno.serve` + `upgradeWebSocket` echo server and `new WebSocket` clients,
 * each sending one message and waiting for the echo before the next. Written
 * for the router→node deliver stream (docs/BENCHMARKS.md "Deliveries over
 * WebSockets, second attempt"): on Deno 2.9.6 a client message of about
 * 1 KiB to 64 KiB waits ~44 ms per round trip (Nagle's algorithm against the
 * peer's delayed ACK), smaller and larger ones well under a millisecond.
 * Run it again after a Deno upgrade before building on client WebSockets.
 *
 * ```sh
 * deno run -A ops/bench/ws_client_probe.ts [--sizes 200,1000,1500,3000,20000,70000] [--rounds 300] [--sockets 1] [--reply echo|small]
 * ```
 * One JSON line per size on stdout: `{size, reply, sockets, rounds, p50Ms, p99Ms, maxMs, over30Ms}`.
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "200,1000,1500,3000,20000,70000" },
    rounds: { type: "string", default: "300" },
    sockets: { type: "string", default: "1" },
    reply: { type: "string", default: "echo" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const rounds = Number(values.rounds);
const sockets = Number(values.sockets);
const small = values.reply === "small";
if (
  sizes.some((s) => !(s > 0)) || !(rounds > 0) || !(sockets > 0) ||
  !["echo", "small"].includes(values.reply)
) {
  console.error(
    "usage: ws_client_probe.ts [--sizes N,N] [--rounds N] [--sockets N] [--reply echo|small]",
  );
  Deno.exit(2);
}

const server = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen: () => {} },
  (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (event) => socket.send(small ? "k" : event.data);
    return response;
  },
);
const url = `ws://127.0.0.1:${server.addr.port}/`;

for (const size of sizes) {
  const payload = "x".repeat(size);
  const times: number[] = [];
  await Promise.all(Array.from({ length: sockets }, async () => {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    let answered: () => void = () => {};
    ws.onmessage = () => answered();
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      const echo = new Promise<void>((resolve) => answered = resolve);
      ws.send(payload);
      await echo;
      times.push(performance.now() - start);
    }
    const closed = new Promise((resolve) => ws.onclose = resolve);
    ws.close();
    await closed;
  }));
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    Number(times[Math.min(times.length - 1, Math.floor(times.length * q))]!
      .toFixed(2));
  console.log(JSON.stringify({
    size,
    reply: values.reply,
    sockets,
    rounds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: Number(times.at(-1)!.toFixed(2)),
    over30Ms: times.filter((t) => t > 30).length,
  }));
}
await server.shutdown();
