// deno-lint-ignore-file no-console
/**
 * The Socket.IO peer's push API, on Node: `POST /push {"users","data"}`
 * publishes one event to rooms `u:<user>` with `@socket.io/redis-emitter`,
 * `POST /broadcast {"data"}` to everyone; every Socket.IO node receives every
 * packet through Redis. Events are `message` with `{"id","data","ts"}`. The
 * same wire behaviour as ../sio_emitter.ts, which runs under Deno. `REDIS` is
 * the Redis URL; prints `{"port": P}` once listening (`PORT`, 0 for a free
 * one).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import process from "node:process";
import { Emitter } from "@socket.io/redis-emitter";
import { Redis } from "ioredis";

const emitter = new Emitter(
  new Redis(process.env.REDIS ?? "redis://127.0.0.1:6379"),
);

function json(response, status, body) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

/** Reads the whole request body as JSON. */
async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function handle(request, response) {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  if (
    request.method === "POST" && (path === "/push" || path === "/broadcast")
  ) {
    let body;
    try {
      body = await readJson(request);
    } catch (error) {
      return json(response, 400, { error: String(error) });
    }
    const message = { id: randomUUID(), data: body.data, ts: Date.now() };
    if (path === "/push") {
      emitter.to((body.users ?? []).map((u) => `u:${u}`)).emit(
        "message",
        message,
      );
    } else emitter.emit("message", message);
    return json(response, 200, { id: message.id });
  }
  if (path === "/readyz" || path === "/healthz") {
    return json(response, 200, { ok: true });
  }
  response.writeHead(404, { "content-type": "text/plain" });
  response.end("not found");
}

const http = createServer((request, response) => {
  handle(request, response).catch((error) => {
    if (!response.headersSent) json(response, 500, { error: String(error) });
    else response.destroy(error);
  });
});
// Like Deno.serve: keep-alive connections of the load loop stay open.
http.keepAliveTimeout = 60_000;
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = http.address();
  console.log(JSON.stringify({ port }));
});

// A clean exit on SIGTERM, so a --cpu-prof profile gets written.
process.on("SIGTERM", () => process.exit(0));
