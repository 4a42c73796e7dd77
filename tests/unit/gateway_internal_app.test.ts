import assert from "node:assert/strict";
import { createInternalApp } from "../../gateway/internal_app.ts";
import { createLogger } from "../../shared/log.ts";
import type { DeliverRequest, NodeApi } from "../../shared/node_api.ts";

const SECRET = "internal-secret";

/** An internal app over a node that records deliveries and answers their order. */
function appWithNode(secrets: string[] = [SECRET]) {
  const delivered: string[] = [];
  const node = {
    deliver: async (request: DeliverRequest) => {
      // A delivery that yields must still finish before the next one starts.
      await new Promise((resolve) => setTimeout(resolve, 1));
      delivered.push(request.id);
      return { devices: { [request.targets[0]!.user]: delivered.length } };
    },
  } as unknown as NodeApi;
  const app = createInternalApp(node, {
    secrets,
    log: createLogger({ write: () => {} }),
  });
  return { app, delivered };
}

const post = (body: unknown, secret = SECRET) => ({
  method: "POST",
  headers: {
    authorization: `Bearer ${secret}`,
    "content-type": "application/json",
  },
  body: JSON.stringify(body),
});

const delivery = (id: string, user: string) => ({
  id,
  dataJson: "1",
  ts: 1,
  targets: [{ user, seq: 1 }],
});

Deno.test("internal app - deliver-batch delivers in order and answers one result each", async () => {
  const { app, delivered } = appWithNode();
  const response = await app.request(
    "/internal/deliver-batch",
    post({ deliveries: [delivery("p1", "a"), delivery("p2", "b")] }),
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    results: [{ devices: { a: 1 } }, { devices: { b: 2 } }],
  });
  assert.deepEqual(delivered, ["p1", "p2"]);
});

Deno.test("internal app - deliver-batch refuses a bad body with 400 and delivers nothing", async () => {
  const { app, delivered } = appWithNode();
  const response = await app.request(
    "/internal/deliver-batch",
    post({ deliveries: [delivery("p1", "a"), { id: "p2" }] }),
  );
  assert.equal(response.status, 400);
  await response.body?.cancel();
  assert.deepEqual(delivered, []);
});

Deno.test("internal app - deliver-batch needs the internal secret", async () => {
  const { app, delivered } = appWithNode();
  const response = await app.request(
    "/internal/deliver-batch",
    post({ deliveries: [delivery("p1", "a")] }, "wrong"),
  );
  assert.equal(response.status, 401);
  await response.body?.cancel();
  assert.deepEqual(delivered, []);
});

Deno.test("internal app - during a rotation the current and the previous secret are accepted", async () => {
  const { app, delivered } = appWithNode([SECRET, "previous-secret"]);
  for (
    const [secret, status] of [[SECRET, 200], ["previous-secret", 200], [
      "older-secret",
      401,
    ]] as const
  ) {
    const response = await app.request(
      "/internal/deliver-batch",
      post({ deliveries: [delivery(secret, "a")] }, secret),
    );
    assert.equal(response.status, status, secret);
    await response.body?.cancel();
  }
  assert.deepEqual(delivered, [SECRET, "previous-secret"]);
});
