// deno-lint-ignore-file no-console
/**
 * The Socket.IO peer's push API: `POST /push {"users","data"}` publishes one
 * event to rooms `u:<user>` with `@socket.io/redis-emitter`, `POST /broadcast
 * {"data"}` to everyone; every Socket.IO node receives every packet through
 * Redis. Events are `message` with `{"id","data","ts"}`. `REDIS` is the Redis
 * URL; prints `{"port": P}` once listening.
 *
 * @module
 */
import { Emitter } from "@socket.io/redis-emitter";
import { Redis } from "ioredis";

const emitter = new Emitter(
  new Redis(Deno.env.get("REDIS") ?? "redis://127.0.0.1:6379"),
);

Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 0),
  onListen: ({ port }) => console.log(JSON.stringify({ port })),
}, async (request) => {
  const path = new URL(request.url).pathname;
  if (
    request.method === "POST" && (path === "/push" || path === "/broadcast")
  ) {
    const body = await request.json() as { users?: string[]; data: unknown };
    const message = {
      id: crypto.randomUUID(),
      data: body.data,
      ts: Date.now(),
    };
    if (path === "/push") {
      emitter.to((body.users ?? []).map((u) => `u:${u}`)).emit(
        "message",
        message,
      );
    } else emitter.emit("message", message);
    return Response.json({ id: message.id });
  }
  if (path === "/readyz" || path === "/healthz") {
    return Response.json({ ok: true });
  }
  return new Response("not found", { status: 404 });
});

// A clean exit on SIGTERM, so a --cpu-prof profile gets written.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
