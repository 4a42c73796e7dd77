/**
 * How a gateway takes and keeps a client's token: in a subprotocol (never
 * in the URL), in `Authorization` (the client's probe), in `?token=` (old
 * clients); refusals readable cross-origin with `Retry-After` exposed; a
 * connection closed with 4004 when its token expires unless a `token`
 * frame renews it. Against the embedded gateway (memory backends).
 */
import assert from "node:assert/strict";
import { signToken } from "../../shared/token.ts";
import { JWT_SECRET, startTestGateway } from "../_support/embedded.ts";
import { waitFor } from "../_support/until.ts";

/** A token of `user` expiring `seconds` from now. */
function tokenFor(user: string, seconds = 3600): Promise<string> {
  return signToken(
    JWT_SECRET,
    { sub: user },
    Math.floor(Date.now() / 1000) + seconds,
  );
}

/** A socket recording its frames and close, opened with the subprotocols. */
function open(url: string, token: string) {
  const socket = new WebSocket(url, ["wsgw.v1", `wsgw.token.${token}`]);
  const frames: { type: string; [key: string]: unknown }[] = [];
  socket.onmessage = (e) => frames.push(JSON.parse(e.data));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.onclose = (e) => resolve({ code: e.code, reason: e.reason })
  );
  return { socket, frames, closed };
}

const wsUrl = (base: string) => `${base.replace("http", "ws")}/ws`;

Deno.test("gateway ws token - the token in a subprotocol connects; the answer picks wsgw.v1", async () => {
  await using gateway = await startTestGateway();
  const conn = open(wsUrl(gateway.url), await tokenFor("ann"));
  await waitFor(() => conn.frames[0], { what: "welcome" });
  assert.equal(conn.frames[0]!.type, "welcome");
  assert.equal(conn.frames[0]!.userId, "ann");
  assert.equal(conn.socket.protocol, "wsgw.v1");
  conn.socket.close();
  await conn.closed;
});

Deno.test("gateway ws token - a probe with Authorization reads 401 or 426 cross-origin; preflight allows the header", async () => {
  await using gateway = await startTestGateway();
  const preflight = await fetch(`${gateway.url}/ws`, {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "GET",
      "access-control-request-headers": "authorization",
    },
  });
  await preflight.body?.cancel();
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  assert.equal(
    preflight.headers.get("access-control-allow-headers"),
    "authorization",
  );
  const bad = await fetch(`${gateway.url}/ws`, {
    headers: { authorization: "Bearer nope", origin: "https://app.example" },
  });
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get("access-control-allow-origin"), "*");
  assert.equal(
    bad.headers.get("access-control-expose-headers"),
    "retry-after",
  );
  assert.equal((await bad.json()).error.code, "token_invalid");
  const good = await fetch(`${gateway.url}/ws`, {
    headers: { authorization: `Bearer ${await tokenFor("ann")}` },
  });
  await good.body?.cancel();
  assert.equal(good.status, 426, "token fine, not an upgrade");
});

Deno.test("gateway ws token - refusals are readable from any origin: a 429 with Retry-After, a forbidden origin's 403", async () => {
  await using gateway = await startTestGateway({
    WSGW_CONNECT_RATE: "1",
    WSGW_ALLOWED_ORIGINS: "https://app.example",
  });
  const forbidden = await fetch(`${gateway.url}/ws`, {
    headers: { origin: "https://evil.example" },
  });
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.headers.get("access-control-allow-origin"), "*");
  assert.equal((await forbidden.json()).error.code, "origin_forbidden");
  const answers: Response[] = [];
  for (let i = 0; i < 4; i++) {
    const response = await fetch(`${gateway.url}/ws`, {
      headers: { origin: "https://app.example" },
    });
    await response.body?.cancel();
    answers.push(response);
  }
  const limited = answers.find((r) => r.status === 429);
  assert.ok(limited, `a 429 among ${answers.map((r) => r.status)}`);
  assert.equal(limited.headers.get("access-control-allow-origin"), "*");
  assert.equal(
    limited.headers.get("access-control-expose-headers"),
    "retry-after",
  );
  assert.match(limited.headers.get("retry-after") ?? "", /^\d+$/);
});

Deno.test("gateway ws token - a live connection is closed with 4004 when its token expires", async () => {
  await using gateway = await startTestGateway({ WSGW_JWT_CLOCK_SKEW: "0" });
  const conn = open(wsUrl(gateway.url), await tokenFor("bo", 2));
  await waitFor(() => conn.frames[0], { what: "welcome" });
  const started = Date.now();
  const closed = await conn.closed;
  assert.deepEqual(closed, { code: 4004, reason: "token expired" });
  assert.ok(Date.now() - started < 3000, "closed at exp, not later");
});

Deno.test("gateway ws token - a token frame of the same user renews the connection; another user's is refused", async () => {
  await using gateway = await startTestGateway({ WSGW_JWT_CLOCK_SKEW: "0" });
  const conn = open(wsUrl(gateway.url), await tokenFor("cy", 2));
  await waitFor(() => conn.frames[0], { what: "welcome" });
  const expiry = Date.now() + 2000;
  conn.socket.send(
    JSON.stringify({ type: "token", token: await tokenFor("dee") }),
  );
  await waitFor(() => conn.frames.find((f) => f.type === "error"), {
    what: "refusal",
  });
  assert.equal(
    conn.frames.find((f) => f.type === "error")!.code,
    "token_mismatch",
  );
  conn.socket.send(
    JSON.stringify({ type: "token", token: await tokenFor("cy") }),
  );
  // Past the old expiry, the connection still answers pings.
  let pongs = 0;
  await waitFor(() => {
    if (Date.now() < expiry + 1000) return false;
    conn.socket.send('{"type":"ping"}');
    pongs = conn.frames.filter((f) => f.type === "pong").length;
    return pongs > 0;
  }, { timeout: 6000, what: "a pong after the old expiry" });
  assert.equal(conn.socket.readyState, WebSocket.OPEN);
  await gateway.api("POST", "/v1/push", { users: ["cy"], data: "still here" });
  await waitFor(() => conn.frames.some((f) => f.type === "message"));
  conn.socket.close();
  await conn.closed;
});
