import assert from "node:assert/strict";
import { signToken } from "../../shared/token.ts";
import { JWT_SECRET, startTestGateway } from "../_support/embedded.ts";
import { rawUpgrade, TestClient } from "../_support/ws_client.ts";
import { waitFor } from "../_support/until.ts";

function b64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-")
    .replace(/\//g, "_");
}

Deno.test("connect - bad tokens get 401 with a JSON error and no upgrade", async () => {
  await using gw = await startTestGateway();
  const future = Math.floor(Date.now() / 1000) + 3600;
  const cases: Record<string, string | null> = {
    missing: null,
    malformed: "not-a-jwt",
    expired: await signToken(
      JWT_SECRET,
      { sub: "u1" },
      Math.floor(Date.now() / 1000) - 60,
    ),
    "wrong signature": await signToken("another-secret", { sub: "u1" }),
    "alg none": `${b64url({ alg: "none", typ: "JWT" })}.${
      b64url({ sub: "u1", exp: future })
    }.`,
    "no exp": `${b64url({ alg: "HS256" })}.${b64url({ sub: "u1" })}.x`,
  };
  for (const [name, token] of Object.entries(cases)) {
    const query = token === null ? "" : `?token=${encodeURIComponent(token)}`;
    const { status, body } = await rawUpgrade(gw.url, `/ws${query}`);
    assert.equal(status, 401, name);
    const error = JSON.parse(body).error;
    assert.match(error.code, /^token_/, name);
    assert.equal(typeof error.message, "string", name);
    if (token) {
      assert.ok(!body.includes(token), `${name}: the token is not echoed`);
    }
  }
  const { body } = await gw.api("GET", "/v1/nodes");
  assert.equal(body[0].connections, 0);
});

Deno.test("connect - welcome names the connection, node, user, seq and epoch", async () => {
  await using gw = await startTestGateway();
  const { client, welcome } = await TestClient.welcomed(
    await gw.wsUrl("alice"),
  );
  await using _ = client;
  assert.equal(welcome.userId, "alice");
  assert.equal(welcome.nodeId, gw.node.nodeId);
  assert.equal(welcome.seq, 0);
  assert.equal(typeof welcome.connId, "string");
  assert.equal(typeof welcome.epoch, "string");
  assert.ok(welcome.epoch.length > 0);
});

Deno.test("connect - ping gets pong", async () => {
  await using gw = await startTestGateway();
  const { client } = await TestClient.welcomed(await gw.wsUrl("alice"));
  await using _ = client;
  client.send({ type: "ping" });
  await client.next((f) => f.type === "pong");
});

Deno.test("connect - bad since is a 400, not an upgrade", async () => {
  await using gw = await startTestGateway();
  const token = await signToken(JWT_SECRET, { sub: "u1" });
  const { status, body } = await rawUpgrade(
    gw.url,
    `/ws?token=${token}&since=-3`,
  );
  assert.equal(status, 400);
  assert.match(JSON.parse(body).error.message, /since/);
});

Deno.test("connect - a plain GET with a bad token is a readable 401", async () => {
  await using gw = await startTestGateway();
  const response = await fetch(`${gw.url}/ws?token=nope`);
  assert.equal(response.status, 401);
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.equal((await response.json()).error.code, "token_invalid");
});

Deno.test("connect - a plain GET with a good token is refused with 426", async () => {
  await using gw = await startTestGateway();
  const response = await fetch(
    await gw.wsUrl("u1").then((u) => u.replace("ws:", "http:")),
  );
  assert.equal(response.status, 426);
  assert.equal((await response.json()).error.code, "upgrade_required");
});

Deno.test("connect - the eleventh device evicts the oldest with 4001", async () => {
  await using gw = await startTestGateway();
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      clients.push(
        (await TestClient.welcomed(await gw.wsUrl("bob", { device: `d${i}` })))
          .client,
      );
    }
    const eleventh =
      (await TestClient.welcomed(await gw.wsUrl("bob", { device: "d10" })))
        .client;
    clients.push(eleventh);
    const closed = await clients[0]!.closed;
    assert.equal(closed.code, 4001);
    const presence = await gw.api("GET", "/v1/users/bob/presence");
    assert.equal(presence.body.devices.length, 10);
    assert.ok(
      !presence.body.devices.some((d: { device: string }) => d.device === "d0"),
    );
    for (const client of clients.slice(1)) {
      assert.equal(client.isClosed, undefined);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

Deno.test("connect - the device limit follows WSGW_MAX_DEVICES", async () => {
  await using gw = await startTestGateway({ WSGW_MAX_DEVICES: "2" });
  const a = (await TestClient.welcomed(await gw.wsUrl("carol"))).client;
  const b = (await TestClient.welcomed(await gw.wsUrl("carol"))).client;
  const c = (await TestClient.welcomed(await gw.wsUrl("carol"))).client;
  assert.equal((await a.closed).code, 4001);
  await waitFor(async () =>
    (await gw.api("GET", "/v1/users/carol/presence")).body.devices.length === 2
  );
  await b.close();
  await c.close();
});

Deno.test("connect - shutting the embedded process down closes clients with 1012", async () => {
  const gw = await startTestGateway();
  const { client } = await TestClient.welcomed(await gw.wsUrl("quinn"));
  await gw.shutdown();
  assert.equal((await client.closed).code, 1012);
});
