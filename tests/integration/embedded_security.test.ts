/**
 * The access limits of a node against a real embedded process: a connection
 * flood from one address is throttled while everyone else keeps working,
 * browser origins outside the allowlist get no socket, and a node over its
 * send-buffer budget sheds its slowest consumer, not the rest.
 */
import assert from "node:assert/strict";
import { JWT_SECRET, startTestGateway } from "../_support/embedded.ts";
import { RawWebSocket } from "../_support/raw_ws.ts";
import { rawUpgrade, TestClient } from "../_support/ws_client.ts";
import { signToken } from "../../shared/token.ts";

Deno.test("limits - a connection flood from one address is throttled with 429 while other clients keep working", async () => {
  await using gw = await startTestGateway({ WSGW_CONNECT_RATE: "1" });
  const { client: bystander } = await TestClient.welcomed(
    await gw.wsUrl("bystander"),
  );
  const token = await signToken(JWT_SECRET, { sub: "flooder" });
  const statuses: number[] = [];
  const began = performance.now();
  let limited;
  for (let i = 0; i < 40; i++) {
    const answer = await rawUpgrade(gw.url, `/ws?token=${token}`, {
      from: "127.0.0.3",
    });
    statuses.push(answer.status);
    if (answer.status === 429) limited ??= answer;
  }
  // A burst of twice the rate, then one a second, however slow this run was.
  const admitted = 2 + Math.ceil((performance.now() - began) / 1000);
  assert.ok(
    statuses.filter((s) => s === 101).length <= admitted,
    `${statuses}`,
  );
  assert.equal(
    statuses.filter((s) => s === 429).length,
    40 - statuses.filter((s) => s === 101).length,
    "every other attempt is 429",
  );
  assert.ok(limited);
  assert.equal(limited.headers.get("retry-after"), "1");
  assert.deepEqual(JSON.parse(limited.body).error.code, "rate_limited");

  // The flood cost nobody else anything: the old client gets pushes, a new
  // client from another address connects at once.
  const push = await gw.api("POST", "/v1/push", {
    users: ["bystander"],
    data: "still served",
  });
  assert.equal(push.body.results[0].devices, 1);
  await bystander.next((f) =>
    f.type === "message" && f.data === "still served"
  );
  const other = await rawUpgrade(
    gw.url,
    `/ws?token=${await signToken(JWT_SECRET, { sub: "newcomer" })}`,
    { from: "127.0.0.4" },
  );
  assert.equal(other.status, 101);
  const metrics = await gw.api("GET", "/metrics");
  assert.match(
    metrics.body,
    /wsgw_auth_failures_total\{reason="rate_limited"\} \d+/,
  );
  await bystander.close();
});

Deno.test("access - a browser origin outside WSGW_ALLOWED_ORIGINS gets 403 and no socket", async () => {
  await using gw = await startTestGateway({
    WSGW_ALLOWED_ORIGINS: "https://app.example.com",
  });
  const path = `/ws?token=${await signToken(JWT_SECRET, { sub: "ann" })}`;
  const allowed = await rawUpgrade(gw.url, path, {
    headers: { Origin: "https://app.example.com" },
  });
  assert.equal(allowed.status, 101);
  const refused = await rawUpgrade(gw.url, path, {
    headers: { Origin: "https://evil.example.net" },
  });
  assert.equal(refused.status, 403);
  assert.deepEqual(JSON.parse(refused.body).error, {
    code: "origin_forbidden",
    message: "this origin may not open sockets here",
  });
  // A client that is not a browser sends no Origin and is let through.
  const { client } = await TestClient.welcomed(await gw.wsUrl("ann"));
  await client.close();
});

Deno.test("limits - a node over its send-buffer budget closes the slowest consumer with 4008, the others stay", async () => {
  await using gw = await startTestGateway({
    WSGW_NODE_SEND_BUFFER_BYTES: String(1024 * 1024),
    // Far above the node budget: only the node-wide check can fire.
    WSGW_SEND_BUFFER_BYTES: String(64 * 1024 * 1024),
  });
  const slowest = await RawWebSocket.connect(
    gw.url,
    `/ws?token=${await signToken(JWT_SECRET, { sub: "slowest" })}`,
  );
  const slow = await RawWebSocket.connect(
    gw.url,
    `/ws?token=${await signToken(JWT_SECRET, { sub: "slow" })}`,
  );
  try {
    const { client: fast } = await TestClient.welcomed(await gw.wsUrl("fast"));
    const payload = "z".repeat(60_000);
    let shed = false;
    // Neither slow client reads; "slowest" is sent 60 KB a push, "slow" a
    // few bytes. The kernel absorbs some MB before the node's buffers grow.
    for (let i = 0; i < 3000 && !shed; i++) {
      const { body } = await gw.api("POST", "/v1/push", {
        users: ["slowest", "fast"],
        data: { i, payload },
      });
      await gw.api("POST", "/v1/push", { users: ["slow"], data: i });
      shed = body.results[0].devices === 0;
    }
    assert.ok(shed, "the slowest consumer was closed");
    const after = await gw.api("POST", "/v1/push", {
      users: ["slow", "fast"],
      data: "still here",
    });
    assert.deepEqual(
      after.body.results.map((r: { devices: number }) => r.devices),
      [1, 1],
    );
    await fast.next(
      (f) => f.type === "message" && f.data === "still here",
      20_000,
    );
    const close = (await slowest.readAll()).at(-1);
    assert.equal(close?.kind === "close" && close.code, 4008);
    const metrics = await gw.api("GET", "/metrics");
    assert.match(
      metrics.body,
      /wsgw_evictions_total\{reason="nodeSendBudget"\} 1/,
    );
    await fast.close();
  } finally {
    slowest.close();
    slow.close();
  }
});
