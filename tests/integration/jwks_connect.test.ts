/**
 * A gateway that verifies tokens against a JWKS: keys rotate without a
 * restart, and while the key server is down open sockets stay and new ones
 * are refused with 503 `jwks_unavailable`, counted in
 * `wsgw_auth_failures_total`.
 */
import assert from "node:assert/strict";
import { startTestGateway, type TestGateway } from "../_support/embedded.ts";
import { JwksServer } from "../_support/jwks_server.ts";
import { rawUpgrade, TestClient } from "../_support/ws_client.ts";

function wsUrl(gw: TestGateway, token: string): string {
  const url = new URL("/ws", gw.url.replace("http", "ws"));
  url.searchParams.set("token", token);
  return url.href;
}

async function refusedFor(gw: TestGateway, reason: string): Promise<number> {
  const metric = await gw.node.metrics.authFailures.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

Deno.test("jwks - rotation without restart; a key server outage refuses new sockets only", async () => {
  await using jwks = await JwksServer.start(["ES256"]);
  await using gw = await startTestGateway({
    WSGW_JWT_JWKS_URL: jwks.url,
    WSGW_JWT_JWKS_COOLDOWN: "0",
  });
  const { client: first } = await TestClient.welcomed(
    wsUrl(gw, await jwks.sign("alice")),
  );
  await using _first = first;

  const kid = await jwks.rotate("EdDSA");
  const { client: second } = await TestClient.welcomed(
    wsUrl(gw, await jwks.sign("alice", { kid })),
  );
  await using _second = second;

  await jwks.stop();
  // A key made while the server is down: its kid is unknown to the gateway,
  // which must fetch the set to verify the token, and cannot.
  const token = await jwks.sign("bob", { kid: await jwks.rotate("RS256") });
  const refused = await rawUpgrade(gw.url, `/ws?token=${token}`);
  assert.equal(refused.status, 503);
  assert.equal(JSON.parse(refused.body).error.code, "jwks_unavailable");
  assert.ok((await refusedFor(gw, "jwks_unavailable")) >= 1);

  // Both sockets opened before the outage still get pushes.
  const { status } = await gw.api("POST", "/v1/push", {
    users: ["alice"],
    data: { n: 1 },
  });
  assert.equal(status, 200);
  for (const client of [first, second]) {
    const frame = await client.next((f) => f.type === "message");
    assert.deepEqual((frame as { data: unknown }).data, { n: 1 });
  }

  jwks.resume();
  const { welcome } = await TestClient.welcomed(wsUrl(gw, token)).then(
    async (r) => {
      await r.client[Symbol.asyncDispose]();
      return r;
    },
  );
  assert.equal(welcome.userId, "bob");
});
