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

Deno.test("internal app - deliver-batch hands the node only the known fields, and refuses bad fields with 400", async () => {
  const seen: DeliverRequest[] = [];
  const node = {
    deliver: (request: DeliverRequest) => {
      seen.push(request);
      return Promise.resolve({ devices: {} });
    },
  } as unknown as NodeApi;
  const app = createInternalApp(node, {
    secrets: [SECRET],
    log: createLogger({ write: () => {} }),
  });
  const ok = await app.request(
    "/internal/deliver-batch",
    post({
      deliveries: [
        {
          ...delivery("p1", "a"),
          extra: 1,
          device: "phone",
          targets: [{ user: "a", seq: 3, epoch: "e1", more: true }, {
            user: "b",
            seq: 0,
          }],
        },
      ],
      other: [],
    }),
  );
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.deepEqual(seen, [{
    id: "p1",
    dataJson: "1",
    ts: 1,
    device: "phone",
    targets: [{ user: "a", seq: 3, epoch: "e1" }, { user: "b", seq: 0 }],
  }]);
  const bad: unknown[] = [
    { deliveries: [{ ...delivery("p", "a"), dataJson: "1 2" }] },
    { deliveries: [{ ...delivery("p", "a"), dataJson: "" }] },
    { deliveries: [{ ...delivery("p", "a"), ts: "1" }] },
    { deliveries: [{ ...delivery("p", "a"), device: 5 }] },
    {
      deliveries: [{
        ...delivery("p", "a"),
        targets: [{ user: "a", seq: -1 }],
      }],
    },
    {
      deliveries: [{
        ...delivery("p", "a"),
        targets: [{ user: "a", seq: 1.5 }],
      }],
    },
    { deliveries: [{ ...delivery("p", "a"), targets: [{ user: 1, seq: 1 }] }] },
    {
      deliveries: [{
        ...delivery("p", "a"),
        targets: [{ user: "a", seq: 1, epoch: 2 }],
      }],
    },
    { deliveries: [[]] },
    { deliveries: {} },
    [],
  ];
  for (const body of bad) {
    const response = await app.request("/internal/deliver-batch", post(body));
    assert.equal(response.status, 400, JSON.stringify(body));
    const answer = await response.json();
    assert.equal(answer.error.code, "bad_request");
  }
  assert.equal(seen.length, 1);
});
