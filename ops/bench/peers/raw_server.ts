// deno-lint-ignore-file no-console
/**
 * The raw baseline: `Deno.serve` + `Deno.upgradeWebSocket` with a push route
 * and nothing else (no registry, auth, history or seq): the physical limit of
 * this stack. `/ws?user=U` connects, `POST /push {"users","data"}` writes to
 * the user's sockets in this process, `POST /broadcast {"data"}` to all.
 * Frames look like wsgw's. Prints `{"port": P}` once listening (`PORT`, 0 for a
 * free one).
 *
 * @module
 */

const IDLE_TIMEOUT = 60;
const CHUNK = 2000;
const users = new Map<string, Set<WebSocket>>();
const all = new Set<WebSocket>();

function frame(data: unknown): string {
  return JSON.stringify({
    type: "message",
    id: crypto.randomUUID(),
    data,
    ts: Date.now(),
  });
}

function upgrade(request: Request, user: string): Response {
  const { socket, response } = Deno.upgradeWebSocket(request, {
    idleTimeout: IDLE_TIMEOUT,
  });
  socket.addEventListener("open", () => {
    let set = users.get(user);
    if (!set) users.set(user, set = new Set());
    set.add(socket);
    all.add(socket);
    socket.send(JSON.stringify({ type: "welcome", userId: user }));
  });
  socket.addEventListener("message", (event) => {
    if (event.data === '{"type":"ping"}') socket.send('{"type":"pong"}');
  });
  socket.addEventListener("close", () => {
    all.delete(socket);
    const set = users.get(user);
    set?.delete(socket);
    if (set?.size === 0) users.delete(user);
  });
  return response;
}

async function handler(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/ws") {
    return upgrade(request, url.searchParams.get("user") ?? "anonymous");
  }
  if (url.pathname === "/push" && request.method === "POST") {
    const body = await request.json() as { users: string[]; data: unknown };
    const json = frame(body.data);
    let devices = 0;
    for (const user of body.users) {
      for (const socket of users.get(user) ?? []) {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(json);
          devices++;
        }
      }
    }
    return Response.json({ devices });
  }
  if (url.pathname === "/broadcast" && request.method === "POST") {
    const body = await request.json() as { data: unknown };
    const json = frame(body.data);
    let devices = 0;
    for (const socket of [...all]) {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(json);
        devices++;
      }
      // Deno writes only once the JS turn ends (DESIGN.md pitfalls).
      if (devices % CHUNK === 0) await new Promise((r) => setTimeout(r, 0));
    }
    return Response.json({ devices });
  }
  if (url.pathname === "/healthz" || url.pathname === "/readyz") {
    return Response.json({ ok: true, connections: all.size });
  }
  return new Response("not found", { status: 404 });
}

Deno.serve({
  hostname: Deno.env.get("HOST") ?? "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 0),
  onListen: ({ port }) => console.log(JSON.stringify({ port })),
}, handler);

// A clean exit on SIGTERM, so a --cpu-prof profile gets written.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
