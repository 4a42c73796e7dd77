import assert from "node:assert/strict";
import { signToken } from "../../shared/token.ts";
import { JWT_SECRET, startTestGateway } from "../_support/embedded.ts";
import { type RawFrame, RawWebSocket } from "../_support/raw_ws.ts";
import { TestClient } from "../_support/ws_client.ts";

Deno.test("limits - bad push bodies get their errors and the process stays healthy", async () => {
  await using gw = await startTestGateway({ WSGW_MAX_MESSAGE_BYTES: "1024" });
  const cases: [string, unknown, number, string][] = [
    ["invalid JSON", "{not json", 400, "invalid_json"],
    ["no users", { data: 1 }, 400, "bad_request"],
    ["users not an array", { users: "a", data: 1 }, 400, "bad_request"],
    ["empty users", { users: [], data: 1 }, 400, "bad_request"],
    ["control character", { users: ["a\u0001"], data: 1 }, 400, "bad_request"],
    [
      "data too big",
      { users: ["a"], data: "x".repeat(2000) },
      413,
      "message_too_large",
    ],
  ];
  for (const [name, body, status, code] of cases) {
    const answer = await gw.api("POST", "/v1/push", body);
    assert.equal(answer.status, status, name);
    assert.equal(answer.body.error.code, code, name);
  }
  assert.equal(
    (await gw.api("POST", "/v1/push", { users: ["a"], data: 1 }, null)).status,
    401,
  );
  assert.equal(
    (await gw.api("POST", "/v1/push", { users: ["a"], data: 1 }, "wrong"))
      .status,
    403,
  );
  assert.equal((await gw.api("GET", "/healthz")).status, 200);
  assert.equal((await gw.api("GET", "/readyz")).status, 200);
});

Deno.test("limits - an oversized request body gets 413", async () => {
  await using gw = await startTestGateway();
  const users = Array.from(
    { length: 9000 },
    (_, i) => `user-${i}-${"x".repeat(500)}`,
  );
  const answer = await gw.api("POST", "/v1/push", { users, data: 1 });
  assert.equal(answer.status, 413);
  assert.equal(answer.body.error.code, "payload_too_large");
});

// These tests read the server's close frame with a raw client that sends one
// frame at a time, as a browser does. Frames still unread when the server
// closes make the kernel answer with a reset and the peer then loses the close
// frame (Deno's own client reports code 0): a flood is closed either way.
Deno.test("limits - garbage frames get error frames, then a 1008 close", async () => {
  await using gw = await startTestGateway();
  const token = await signToken(JWT_SECRET, { sub: "mallory" });
  const client = await RawWebSocket.connect(gw.url, `/ws?token=${token}`);
  try {
    const frames: RawFrame[] = [(await client.readFrame())!];
    const garbage = [
      "{oops",
      '{"type":"subscribe"}',
      '{"type":"ping"}',
      "[]",
      "[]",
      "[]",
    ];
    for (const text of garbage) {
      await client.sendText(text);
      const frame = (await client.readFrame())!;
      frames.push(frame);
      if (frame.kind === "close") break;
    }
    frames.push(...await client.readAll());
    const texts = frames.flatMap((f) =>
      f.kind === "text" ? [JSON.parse(f.text)] : []
    );
    assert.equal(texts[0].type, "welcome");
    const errors = texts.filter((f) => f.type === "error").map((f) => f.code);
    assert.deepEqual(errors, [
      "invalid_json",
      ...Array(4).fill("unknown_type"),
    ]);
    assert.ok(
      texts.some((f) => f.type === "pong"),
      "a ping between garbage is answered",
    );
    const close = frames.at(-1);
    assert.equal(close?.kind === "close" && close.code, 1008);
  } finally {
    client.close();
  }
});

Deno.test("limits - a frame over WSGW_MAX_MESSAGE_BYTES closes with 1008", async () => {
  await using gw = await startTestGateway({ WSGW_MAX_MESSAGE_BYTES: "1024" });
  const { client } = await TestClient.welcomed(await gw.wsUrl("mallory"));
  client.send(JSON.stringify({ type: "ping", pad: "x".repeat(2048) }));
  assert.equal((await client.closed).code, 1008);
});

Deno.test("limits - a client over the inbound rate is closed with 1008", async () => {
  await using gw = await startTestGateway({ WSGW_INBOUND_RATE: "5" });
  const token = await signToken(JWT_SECRET, { sub: "mallory" });
  const client = await RawWebSocket.connect(gw.url, `/ws?token=${token}`);
  try {
    const frames: RawFrame[] = [(await client.readFrame())!];
    for (let i = 0; i < 50 && frames.at(-1)?.kind !== "close"; i++) {
      await client.sendText('{"type":"ping"}');
      frames.push((await client.readFrame())!);
    }
    const pongs = frames.filter((f) =>
      f.kind === "text" && f.text.includes("pong")
    ).length;
    // The bucket holds twice the rate; pings answered within ~ms barely refill it.
    assert.ok(
      pongs >= 10 && pongs <= 11,
      `a burst of twice the rate is answered, got ${pongs}`,
    );
    const close = frames.at(-1);
    assert.equal(close?.kind === "close" && close.code, 1008);
  } finally {
    client.close();
  }
});
Deno.test("limits - a slow consumer is closed with 4008 while others keep receiving", async () => {
  await using gw = await startTestGateway({ WSGW_SEND_BUFFER_BYTES: "262144" });
  const token = await signToken(JWT_SECRET, { sub: "slowpoke" });
  const slow = await RawWebSocket.connect(gw.url, `/ws?token=${token}`);
  try {
    const fast = (await TestClient.welcomed(await gw.wsUrl("speedy"))).client;
    const payload = "y".repeat(60_000);
    let slowClosed = false;
    // Push until the gateway gives up on the client that never reads; the
    // kernel absorbs a few MB first, so this takes some hundreds of pushes.
    for (let i = 0; i < 2000 && !slowClosed; i++) {
      const { body } = await gw.api("POST", "/v1/push", {
        users: ["slowpoke", "speedy"],
        data: { i, payload },
      });
      slowClosed = body.results[0].devices === 0;
    }
    assert.ok(slowClosed, "the slow consumer was dropped");
    const { body } = await gw.api("POST", "/v1/push", {
      users: ["speedy"],
      data: "still here",
    });
    assert.equal(body.results[0].devices, 1);
    await fast.next(
      (f) => f.type === "message" && f.data === "still here",
      20_000,
    );
    const frames = await slow.readAll();
    const close = frames.at(-1);
    assert.equal(close?.kind === "close" && close.code, 4008);
    const metrics = await gw.api("GET", "/metrics");
    assert.match(
      metrics.body,
      /wsgw_evictions_total\{reason="slowConsumer"\} 1/,
    );
    await fast.close();
  } finally {
    slow.close();
  }
});
