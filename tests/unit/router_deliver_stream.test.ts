/**
 * The deliver stream: the router's standing WebSocket to a node's internal
 * app, against the real internal app and a recording node.
 */
import assert from "node:assert/strict";
import { DeliverStreams } from "../../gateway/deliver_stream.ts";
import { createInternalApp } from "../../gateway/internal_app.ts";
import { HttpNodeClient, NodeRequestError } from "../../router/node_client.ts";
import { createLogger } from "../../shared/log.ts";
import type { DeliverRequest, NodeApi } from "../../shared/node_api.ts";
import type { NodeRecord } from "../../shared/registry/mod.ts";
import { waitFor } from "../_support/until.ts";

const SECRET = "internal-secret";

/** A real internal app on a port, over a node that records what it delivers. */
function internalNode() {
  const delivered: string[] = [];
  const paths: string[] = [];
  let gate: { promise: Promise<void>; reached: boolean } | undefined;
  const node = {
    deliver: async (request: DeliverRequest) => {
      if (gate) {
        gate.reached = true;
        await gate.promise;
      }
      delivered.push(request.id);
      return { devices: { [request.targets[0]!.user]: delivered.length } };
    },
  } as unknown as NodeApi;
  const log = createLogger({ write: () => {} });
  const streams = new DeliverStreams(node, log);
  const app = createInternalApp(node, { secrets: [SECRET], log, streams });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      paths.push(new URL(request.url).pathname);
      return app.fetch(request);
    },
  );
  const record: NodeRecord = {
    nodeId: "n1",
    url: "http://public.test",
    internalUrl: `http://127.0.0.1:${server.addr.port}`,
    startedAt: 1,
    draining: false,
  };
  return {
    record,
    delivered,
    paths,
    streams,
    /** Deliveries from now on wait until `release()`; `reached()` once one waits. */
    hold() {
      const { promise, resolve } = Promise.withResolvers<void>();
      const held = gate = { promise, reached: false };
      return { release: resolve, reached: () => held.reached };
    },
    [Symbol.asyncDispose]: async () => {
      streams.closeAll();
      await server.shutdown();
    },
  };
}

const delivery = (id: string, user = "u") => ({
  id,
  dataJson: "1",
  ts: 1,
  targets: [{ user, seq: 1 }],
});

Deno.test("deliver stream - the first batch goes over HTTP, the next ones over the open stream, in order", async () => {
  await using n = internalNode();
  using client = new HttpNodeClient({ secret: SECRET });
  const api = client.for(n.record);
  assert.deepEqual(await api.deliver(delivery("p1", "a")), {
    devices: { a: 1 },
  });
  await waitFor(() => client.openStreams().includes("n1"), {
    what: "the stream open",
  });
  const answers = await Promise.all(
    ["p2", "p3", "p4"].map((id) => api.deliver(delivery(id, id))),
  );
  assert.deepEqual(answers, [
    { devices: { p2: 2 } },
    { devices: { p3: 3 } },
    { devices: { p4: 4 } },
  ]);
  assert.deepEqual(n.delivered, ["p1", "p2", "p3", "p4"]);
  assert.deepEqual(
    n.paths.filter((p) => p === "/internal/deliver-batch").length,
    1,
    "only the first batch went over HTTP",
  );
  assert.equal(n.streams.size, 1);
});

Deno.test("deliver stream - a wrong secret never opens a stream, and the HTTP answer is the error", async () => {
  await using n = internalNode();
  using client = new HttpNodeClient({ secret: "wrong" });
  const api = client.for(n.record);
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      api.deliver(delivery(`p${i}`)),
      (error) => error instanceof NodeRequestError && error.httpStatus === 401,
    );
  }
  await waitFor(() => n.paths.includes("/internal/deliver-stream"), {
    what: "the upgrade tried",
  });
  assert.deepEqual(client.openStreams(), []);
  assert.equal(n.streams.size, 0);
  assert.deepEqual(n.delivered, []);
});

Deno.test("deliver stream - a batch the node refuses fails as a 4xx, delivers nothing, and the stream stays open", async () => {
  await using n = internalNode();
  using client = new HttpNodeClient({ secret: SECRET });
  const api = client.for(n.record);
  await api.deliver(delivery("p1"));
  await waitFor(() => client.openStreams().length === 1, {
    what: "the stream open",
  });
  const bad = { ...delivery("p2"), dataJson: "1 2" };
  await assert.rejects(
    api.deliver(bad),
    (error) =>
      error instanceof NodeRequestError && error.failure === "http" &&
      error.httpStatus === 400 && /dataJson/.test(error.message),
  );
  assert.deepEqual(await api.deliver(delivery("p3", "c")), {
    devices: { c: 2 },
  });
  assert.deepEqual(n.delivered, ["p1", "p3"]);
  assert.deepEqual(client.openStreams(), ["n1"]);
});

Deno.test("deliver stream - a node that stops fails the batches in flight as connection errors; later ones go over HTTP", async () => {
  await using n = internalNode();
  using client = new HttpNodeClient({ secret: SECRET });
  const api = client.for(n.record);
  await api.deliver(delivery("p1"));
  await waitFor(() => client.openStreams().length === 1, {
    what: "the stream open",
  });
  // The node holds the next batch, then closes its streams under it.
  const held = n.hold();
  const inFlight = api.deliver(delivery("p2"));
  await waitFor(held.reached, { what: "the batch at the node" });
  n.streams.closeAll();
  await assert.rejects(
    inFlight,
    (error) =>
      error instanceof NodeRequestError && error.failure === "connection",
  );
  held.release();
  assert.deepEqual(client.openStreams(), []);
  await waitFor(() => n.delivered.length === 2, { what: "p2 written" });
  assert.deepEqual(await api.deliver(delivery("p3", "c")), {
    devices: { c: 3 },
  });
  assert.equal(
    n.paths.filter((p) => p === "/internal/deliver-batch").length,
    2,
    "the first batch and the one after the close went over HTTP",
  );
});

Deno.test("deliver stream - a batch unanswered within the timeout fails as timeout and the stream is dropped", async () => {
  await using n = internalNode();
  using client = new HttpNodeClient({ secret: SECRET, timeoutMs: 200 });
  const api = client.for(n.record);
  await api.deliver(delivery("p1"));
  await waitFor(() => client.openStreams().length === 1, {
    what: "the stream open",
  });
  const held = n.hold();
  await assert.rejects(
    api.deliver(delivery("p2")),
    (error) => error instanceof NodeRequestError && error.failure === "timeout",
  );
  // A silent stream may be a dead one: it is closed, and the next batch
  // goes over HTTP.
  assert.deepEqual(client.openStreams(), []);
  held.release();
  await waitFor(() => n.delivered.length === 2, { what: "p2 written late" });
  assert.deepEqual(await api.deliver(delivery("p3", "c")), {
    devices: { c: 3 },
  });
  assert.equal(
    n.paths.filter((p) => p === "/internal/deliver-batch").length,
    2,
    "the first batch and the one after the timeout went over HTTP",
  );
});
