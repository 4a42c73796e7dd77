import assert from "node:assert/strict";
import { waitFor } from "../_support/until.ts";
import type { NodeApi } from "../../shared/node_api.ts";
import type { NodeRecord } from "../../shared/registry/mod.ts";
import {
  HttpNodeClient,
  LocalNodeClient,
  NodeRequestError,
} from "../../router/node_client.ts";
import { InternalUrlPolicy } from "../../shared/internal_url_policy.ts";

const SECRET = "internal-secret";

type Seen = { method: string; path: string; auth: string | null; body: string };

/** A tiny internal API: records requests; `hold` makes handlers wait. */
function internalServer(
  handle: (seen: Seen) => Response | Promise<Response> = () =>
    Response.json({}),
) {
  const seen: Seen[] = [];
  let active = 0;
  let maxActive = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      const entry = {
        method: request.method,
        path: url.pathname + url.search,
        auth: request.headers.get("authorization"),
        body: await request.text(),
      };
      seen.push(entry);
      active += 1;
      maxActive = Math.max(maxActive, active);
      // A handler still waiting when its caller gave up answers at once:
      // Deno's server keeps a connection whose handler outlived the peer in
      // CLOSE-WAIT, and its shutdown then never finishes.
      const gaveUp = Promise.withResolvers<Response>();
      request.signal.addEventListener(
        "abort",
        () => gaveUp.resolve(new Response(null, { status: 499 })),
        { once: true },
      );
      try {
        return await Promise.race([handle(entry), gaveUp.promise]);
      } finally {
        active -= 1;
      }
    },
  );
  const node: NodeRecord = {
    nodeId: "n1",
    url: "http://public.test",
    internalUrl: `http://127.0.0.1:${server.addr.port}`,
    startedAt: 1,
    draining: false,
  };
  return {
    server,
    node,
    seen,
    active: () => active,
    maxActive: () => maxActive,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A promise and its resolve, for handlers that must wait. */
function latch() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open };
}

Deno.test("http node client - sends the bearer secret and speaks the internal wire format", async () => {
  await using s = internalServer((seen) => {
    switch (seen.path.split("?")[0]) {
      case "/internal/deliver-batch":
        return Response.json({ results: [{ devices: { "a/b c": 2 } }] });
      case "/internal/broadcast":
        return Response.json({ devices: 7 });
      case "/internal/presence":
        return Response.json([
          { connId: "c1", nodeId: "n1", device: null, connectedAt: 5 },
        ]);
      case "/internal/kick":
        return Response.json({ closed: 1 });
      default:
        return Response.json({
          nodeId: "n1",
          connections: 3,
          users: 2,
          draining: false,
          startedAt: 1,
        });
    }
  });
  const api = new HttpNodeClient({ secret: SECRET }).for(
    s.node,
  );
  const deliver = {
    id: "p1",
    dataJson: '{"x":1}',
    ts: 9,
    targets: [{ user: "a/b c", seq: 4 }],
  };
  assert.deepEqual(await api.deliver(deliver), { devices: { "a/b c": 2 } });
  assert.deepEqual(await api.broadcast({ id: "b", dataJson: "1", ts: 1 }), {
    devices: 7,
  });
  assert.equal((await api.presence("a/b c?&=😀"))[0]?.connId, "c1");
  assert.deepEqual(await api.kick({ user: "u", device: "phone" }), {
    closed: 1,
  });
  assert.equal((await api.stats()).connections, 3);

  assert.deepEqual(s.seen.map((r) => [r.method, r.path]), [
    ["POST", "/internal/deliver-batch"],
    ["POST", "/internal/broadcast"],
    ["GET", `/internal/presence?user=${encodeURIComponent("a/b c?&=😀")}`],
    ["POST", "/internal/kick"],
    ["GET", "/internal/stats"],
  ]);
  assert.ok(s.seen.every((r) => r.auth === `Bearer ${SECRET}`));
  assert.deepEqual(JSON.parse(s.seen[0]!.body), { deliveries: [deliver] });
  assert.deepEqual(JSON.parse(s.seen[3]!.body), { user: "u", device: "phone" });
});

Deno.test("http node client - a non-2xx answer is an http error, not retried", async () => {
  await using s = internalServer(() =>
    Response.json({ error: { code: "unauthorized" } }, { status: 401 })
  );
  const api = new HttpNodeClient({ secret: "wrong" }).for(
    s.node,
  );
  const error = await api.stats().then(() => null, (e) => e);
  assert.ok(error instanceof NodeRequestError);
  assert.equal(error.failure, "http");
  assert.equal(error.httpStatus, 401);
  assert.equal(error.status, 503);
  assert.equal(s.seen.length, 1);
});

Deno.test("http node client - times out a silent node and does not retry", async () => {
  const gate = latch();
  await using s = internalServer(async () => {
    await gate.promise;
    return Response.json({});
  });
  const api = new HttpNodeClient({
    secret: SECRET,
    timeoutMs: 100,
  }).for(
    s.node,
  );
  const started = Date.now();
  const error = await api.stats().then(() => null, (e) => e);
  gate.open();
  assert.ok(error instanceof NodeRequestError);
  assert.equal(error.failure, "timeout");
  assert.ok(Date.now() - started < 2000);
  assert.equal(s.seen.length, 1);
});

Deno.test("http node client - retries once on connection refused", async () => {
  const s = internalServer();
  await s.server.shutdown();
  let calls = 0;
  const counting: typeof fetch = (input, init) => {
    calls += 1;
    return fetch(input, init);
  };
  const api = new HttpNodeClient({
    secret: SECRET,
    fetch: counting,
  }).for(
    s.node,
  );
  const error = await api.stats().then(() => null, (e) => e);
  assert.ok(error instanceof NodeRequestError);
  assert.equal(error.failure, "connection");
  assert.equal(calls, 2);
});

Deno.test("http node client - a retry after a connection error can succeed", async () => {
  await using s = internalServer(() => Response.json({ closed: 2 }));
  let calls = 0;
  const flaky: typeof fetch = (input, init) => {
    calls += 1;
    if (calls === 1) {
      return Promise.reject(new TypeError("connection closed before message"));
    }
    return fetch(input, init);
  };
  const api = new HttpNodeClient({
    secret: SECRET,
    fetch: flaky,
  }).for(s.node);
  assert.deepEqual(await api.kick({ user: "u" }), { closed: 2 });
  assert.equal(calls, 2);
  assert.equal(s.seen.length, 1);
});

Deno.test("http node client - bounds requests in flight per node; the rest wait in line", async () => {
  const gate = latch();
  await using s = internalServer(async () => {
    await gate.promise;
    return Response.json({ devices: 1 });
  });
  const client = new HttpNodeClient({
    secret: SECRET,
    maxInFlight: 2,
  });
  const api = client.for(s.node);
  const calls = Array.from(
    { length: 5 },
    (_, i) => api.broadcast({ id: `b${i}`, dataJson: "1", ts: 1 }),
  );
  await waitFor(() => s.active() === 2, { what: "two requests at the node" });
  // Give queued calls a chance to (wrongly) go out.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(s.seen.length, 2);
  assert.equal(client.inFlight("n1"), 2);
  gate.open();
  const results = await Promise.all(calls);
  assert.deepEqual(results, Array(5).fill({ devices: 1 }));
  assert.equal(s.maxActive(), 2);
  assert.deepEqual(
    s.seen.slice(2).map((r) => JSON.parse(r.body).id).sort(),
    ["b2", "b3", "b4"],
  );
  assert.equal(client.inFlight("n1"), 0);
});

Deno.test("http node client - queued calls go out first in, first out", async () => {
  const gate = latch();
  await using s = internalServer(async () => {
    await gate.promise;
    return Response.json({ devices: 1 });
  });
  const api = new HttpNodeClient({
    secret: SECRET,
    maxInFlight: 1,
  }).for(
    s.node,
  );
  const calls = Array.from(
    { length: 4 },
    (_, i) => api.broadcast({ id: `b${i}`, dataJson: "1", ts: 1 }),
  );
  await waitFor(() => s.active() === 1);
  gate.open();
  await Promise.all(calls);
  assert.deepEqual(s.seen.map((r) => JSON.parse(r.body).id), [
    "b0",
    "b1",
    "b2",
    "b3",
  ]);
  assert.equal(s.maxActive(), 1);
});

Deno.test("http node client - a full queue fails fast as overloaded", async () => {
  const gate = latch();
  await using s = internalServer(async () => {
    await gate.promise;
    return Response.json({ devices: 0 });
  });
  const api = new HttpNodeClient({
    secret: SECRET,
    maxInFlight: 1,
    maxQueued: 1,
  }).for(s.node);
  const first = api.broadcast({ id: "1", dataJson: "1", ts: 1 });
  const second = api.broadcast({ id: "2", dataJson: "1", ts: 1 });
  const error = await api.broadcast({ id: "3", dataJson: "1", ts: 1 }).then(
    () => null,
    (e) => e,
  );
  assert.ok(error instanceof NodeRequestError);
  assert.equal(error.failure, "overloaded");
  gate.open();
  await Promise.all([first, second]);
});

Deno.test("http node client - a call queued past its timeout fails as timeout", async () => {
  // The first call holds the only slot past the second one's deadline: its
  // fetch ignores the abort (a stuck request), so its own timeout cannot
  // free the slot first.
  const stuck = latch();
  let calls = 0;
  const stuckFetch: typeof fetch = async () => {
    calls += 1;
    await stuck.promise;
    return Response.json({ devices: 0 });
  };
  const node: NodeRecord = {
    nodeId: "n1",
    url: "http://public.test",
    internalUrl: "http://127.0.0.1:9",
    startedAt: 1,
    draining: false,
  };
  const api = new HttpNodeClient({
    secret: SECRET,
    maxInFlight: 1,
    timeoutMs: 150,
    fetch: stuckFetch,
  }).for(node);
  const first = api.broadcast({ id: "1", dataJson: "1", ts: 1 }).catch((e) =>
    e
  );
  const queued = await api.broadcast({ id: "2", dataJson: "1", ts: 1 }).then(
    () => null,
    (e) => e,
  );
  assert.ok(queued instanceof NodeRequestError);
  assert.equal(queued.failure, "timeout");
  assert.match(queued.message, /no free slot/);
  stuck.open();
  await first;
  assert.equal(calls, 1);
});

/** A delivery of push `id` to `user`. */
const delivery = (id: string, user = "u") => ({
  id,
  dataJson: JSON.stringify(id),
  ts: 1,
  targets: [{ user, seq: 1 }],
});

/** Answers each delivery of a batch with `{ devices: { <user>: <index in batch> } }`. */
function batchAnswer(seen: Seen): Response {
  const { deliveries } = JSON.parse(seen.body);
  return Response.json({
    results: deliveries.map((d: ReturnType<typeof delivery>, i: number) => ({
      devices: { [d.targets[0]!.user]: i },
    })),
  });
}

Deno.test("http node client - deliveries to one node in one turn go as one request, in call order", async () => {
  await using s = internalServer(batchAnswer);
  const api = new HttpNodeClient({ secret: SECRET }).for(
    s.node,
  );
  const results = await Promise.all(
    ["a", "b", "c"].map((user, i) => api.deliver(delivery(`p${i}`, user))),
  );
  assert.deepEqual(results, [
    { devices: { a: 0 } },
    { devices: { b: 1 } },
    { devices: { c: 2 } },
  ]);
  assert.equal(s.seen.length, 1);
  assert.deepEqual(
    JSON.parse(s.seen[0]!.body).deliveries.map((d: { id: string }) => d.id),
    ["p0", "p1", "p2"],
  );
  // A later turn starts a new batch.
  assert.deepEqual(await api.deliver(delivery("p3")), { devices: { u: 0 } });
  assert.equal(s.seen.length, 2);
});

Deno.test("http node client - a batch is split at its limits; one oversized delivery goes alone", async () => {
  await using s = internalServer(batchAnswer);
  const api = new HttpNodeClient({
    secret: SECRET,
    batch: { maxRequests: 2, maxBytes: 100 },
  }).for(s.node);
  const big = { ...delivery("big"), dataJson: JSON.stringify("x".repeat(150)) };
  await Promise.all([
    api.deliver(delivery("p0")),
    api.deliver(delivery("p1")),
    api.deliver(delivery("p2")),
    api.deliver(big),
    api.deliver(delivery("p4")),
  ]);
  const batches = s.seen.map((r) =>
    JSON.parse(r.body).deliveries.map((d: { id: string }) => d.id)
  );
  assert.deepEqual(batches, [["p0", "p1"], ["p2"], ["big"], ["p4"]]);
});

Deno.test("http node client - a failed batch fails each of its deliveries as the node's error", async () => {
  await using s = internalServer(() =>
    Response.json({ error: { code: "internal" } }, { status: 500 })
  );
  const api = new HttpNodeClient({ secret: SECRET }).for(
    s.node,
  );
  const errors = await Promise.all(
    [0, 1].map((i) =>
      api.deliver(delivery(`p${i}`)).then(() => null, (e) => e)
    ),
  );
  assert.equal(s.seen.length, 1);
  for (const error of errors) {
    assert.ok(error instanceof NodeRequestError);
    assert.equal(error.httpStatus, 500);
  }
});

Deno.test("http node client - a batch answered with the wrong number of results fails", async () => {
  await using s = internalServer(() => Response.json({ results: [] }));
  const api = new HttpNodeClient({ secret: SECRET }).for(
    s.node,
  );
  const error = await api.deliver(delivery("p0")).then(() => null, (e) => e);
  assert.ok(error instanceof NodeRequestError);
  assert.equal(error.failure, "http");
  assert.match(error.message, /0 results for 1 deliveries/);
});

Deno.test("local node client - hands out the in-process node for any record", async () => {
  const api = {
    stats: () => Promise.resolve({ nodeId: "local" }),
  } as unknown as NodeApi;
  const client = new LocalNodeClient(api);
  const other: NodeRecord = {
    nodeId: "whatever",
    url: "",
    internalUrl: "",
    startedAt: 0,
    draining: false,
  };
  assert.equal(client.for(other), api);
  assert.equal((await client.for(other).stats()).nodeId, "local");
});

Deno.test("http node client - never follows a redirect, and refuses internal URLs outside WSGW_INTERNAL_NETWORKS", async () => {
  await using target = internalServer(() => Response.json({ devices: 9 }));
  await using s = internalServer(() =>
    Response.redirect(`${target.node.internalUrl}/internal/stats`, 307)
  );
  const client = new HttpNodeClient({ secret: SECRET });
  await assert.rejects(
    client.for(s.node).stats(),
    (e) => e instanceof NodeRequestError && e.httpStatus === 307,
  );
  assert.equal(target.seen.length, 0, "the redirect target saw nothing");

  const fenced = new HttpNodeClient({
    secret: SECRET,
    urlPolicy: new InternalUrlPolicy(["10.0.0.0/8"]),
  });
  for (
    const call of [
      () => fenced.for(target.node).stats(),
      () => fenced.for(target.node).presence("bob"),
      () =>
        fenced.for(target.node).deliver({
          id: "m1",
          dataJson: "1",
          ts: 1,
          targets: [{ user: "bob", seq: 1 }],
        }),
    ]
  ) {
    await assert.rejects(
      call(),
      (e) =>
        e instanceof NodeRequestError &&
        e.message.includes("WSGW_INTERNAL_NETWORKS"),
    );
  }
  assert.equal(target.seen.length, 0, "the refused node saw nothing");
});
