// deno-lint-ignore-file no-console
/**
 * The Socket.IO peer, one node, on Node: Socket.IO v4 on `node:http` with
 * `@socket.io/redis-adapter` (the broadcast-bus design: every node subscribes
 * to every published packet and drops what it does not own). A client
 * connects with auth `{"user": U}` and joins room `u:U`. The same wire
 * behaviour as ../sio_server.ts, which runs this under Deno's Node layer.
 * `REDIS` is the Redis URL; prints `{"port": P}` once listening (`PORT`, 0
 * for a free one).
 *
 * @module
 */
import { createServer } from "node:http";
import process from "node:process";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";

const redisUrl = process.env.REDIS ?? "redis://127.0.0.1:6379";
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const http = createServer((request, response) => {
  // engine.io answers /socket.io/; this is only the readiness probe.
  if (request.url === "/readyz" || request.url === "/healthz") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ connections: io.engine.clientsCount }));
  }
});
const io = new Server(http, {
  transports: ["websocket"],
  adapter: createAdapter(pub, sub),
  serveClient: false,
});
io.on("connection", (socket) => {
  const user = socket.handshake.auth?.user ?? "anonymous";
  socket.join(`u:${user}`);
});
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = http.address();
  console.log(JSON.stringify({ port }));
});

// A clean exit on SIGTERM, so a --cpu-prof profile gets written.
process.on("SIGTERM", () => process.exit(0));
