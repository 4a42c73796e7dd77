/**
 * Access and leaks on a real cluster: the node-internal API is on its own
 * port and needs the internal secret; no process logs a token, an API key,
 * the internal secret or a message body, at debug level, through good and
 * bad requests alike.
 */
import assert from "node:assert/strict";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import { rawUpgrade } from "../_support/ws_client.ts";
import { signToken } from "../../shared/token.ts";

Deno.test("cluster security - the internal API is on its own port, needs the secret, and nothing secret reaches a log", async () => {
  const lines: string[] = [];
  await using cluster = await startTestCluster({
    nodes: 1,
    logLevel: "debug",
    onLine: (_name, line) => lines.push(line),
  });
  const gateway = cluster.gateways[0]!;

  // The public port has no internal routes; the internal port no /ws.
  assert.equal((await fetch(`${gateway.url}/internal/stats`)).status, 404);
  for (
    const authorization of [
      undefined,
      "Bearer wrong-secret",
      `Basic ${btoa(`x:${cluster.internalSecret}`)}`,
    ]
  ) {
    const response = await fetch(`${gateway.internalUrl}/internal/stats`, {
      headers: authorization ? { authorization } : {},
    });
    assert.equal(response.status, 401, String(authorization));
    assert.equal((await response.json()).error.code, "unauthorized");
  }
  const kick = await fetch(`${gateway.internalUrl}/internal/kick`, {
    method: "POST",
    body: JSON.stringify({ user: "alice" }),
  });
  assert.equal(kick.status, 401);
  const stats = await fetch(`${gateway.internalUrl}/internal/stats`, {
    headers: { authorization: `Bearer ${cluster.internalSecret}` },
  });
  assert.equal(stats.status, 200);
  await stats.body?.cancel();
  assert.notEqual(
    (await fetch(`${gateway.internalUrl}/ws`)).status,
    401,
    "no token check (so no /ws) on the internal port",
  );

  // Good and bad traffic, each carrying something that must not be logged.
  const marker = `body-marker-${crypto.randomUUID()}`;
  const { client } = await connect(cluster, 0, "alice");
  const token = await cluster.token("alice");
  const expired = await signToken(cluster.jwtSecret, { sub: "bob" }, -60);
  const forged = await signToken("not-the-secret", { sub: "bob" });
  for (const bad of [expired, forged, token + "x"]) {
    assert.equal(
      (await rawUpgrade(gateway.url, `/ws?token=${bad}`)).status,
      401,
    );
  }
  const push = await api(cluster, "POST", "/v1/push", {
    users: ["alice"],
    data: { marker },
  });
  assert.equal(push.status, 200);
  await client.next((f) => f.type === "message");
  const wrongKey = `wrong-key-${crypto.randomUUID()}`;
  const refused = await fetch(`${cluster.router}/v1/push`, {
    method: "POST",
    headers: { authorization: `Bearer ${wrongKey}` },
    body: JSON.stringify({ users: ["alice"], data: { marker } }),
  });
  assert.equal(refused.status, 403);
  await refused.body?.cancel();
  const invalid = await api(cluster, "POST", "/v1/push", {
    users: [{ marker }],
    data: { marker },
  });
  assert.equal(invalid.status, 400);
  assert.ok(!JSON.stringify(invalid.body).includes(marker), "not echoed");
  client.send({ type: marker });
  await client.next((f) => f.type === "error");
  await client.close();

  await cluster[Symbol.asyncDispose]();
  assert.ok(lines.length >= 10, `the processes logged (${lines.length} lines)`);
  const secrets = {
    token,
    expired,
    forged,
    marker,
    wrongKey,
    apiKey: cluster.apiKey,
    internalSecret: cluster.internalSecret,
    jwtSecret: cluster.jwtSecret,
  };
  for (const [name, secret] of Object.entries(secrets)) {
    const leak = lines.find((line) => line.includes(secret));
    assert.equal(leak, undefined, `${name} appears in a log line`);
  }
});
