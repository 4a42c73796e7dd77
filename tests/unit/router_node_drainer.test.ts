/**
 * The router's drain request to a node (router/node_drainer.ts) against the
 * node's real internal app (gateway/internal_app.ts) on a port: the pace
 * arrives, a wrong secret is a clear refusal, and a URL outside the
 * internal networks gets no request at all.
 */
import assert from "node:assert/strict";
import { createInternalApp } from "../../gateway/internal_app.ts";
import { httpNodeDrainer } from "../../router/node_drainer.ts";
import { UnavailableError } from "../../shared/errors.ts";
import { InternalUrlPolicy } from "../../shared/internal_url_policy.ts";
import { silentLogger } from "../../shared/log.ts";
import type { NodeApi } from "../../shared/node_api.ts";
import type { NodeRecord } from "../../shared/registry/mod.ts";

const SECRET = "internal-secret-for-drain-tests";

/** A node's internal app on a free port, recording the drains it is asked. */
function servedNode() {
  const drains: unknown[] = [];
  const app = createInternalApp({} as NodeApi, {
    secrets: [SECRET],
    log: silentLogger,
    drain: (pace) => drains.push(pace),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  const record: NodeRecord = {
    nodeId: "n1",
    url: "http://127.0.0.1:1",
    internalUrl: `http://127.0.0.1:${server.addr.port}`,
    startedAt: 1,
    draining: false,
  };
  return {
    drains,
    record,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("node drainer - the node gets POST /internal/drain with the pace and the secret", async () => {
  await using node = servedNode();
  const drain = httpNodeDrainer({
    secret: SECRET,
    urlPolicy: new InternalUrlPolicy(["private"]),
  });
  await drain(node.record, { batch: 5, intervalMs: 20 });
  await drain(node.record, {});
  assert.deepEqual(node.drains, [{ batch: 5, intervalMs: 20 }, {}]);
});

Deno.test("node drainer - a wrong secret is an UnavailableError with the node's answer", async () => {
  await using node = servedNode();
  const drain = httpNodeDrainer({ secret: "not-the-secret" });
  await assert.rejects(
    () => drain(node.record, {}),
    (error: Error) =>
      error instanceof UnavailableError &&
      /node n1 refused the drain: 401/.test(error.message),
  );
  assert.deepEqual(node.drains, []);
});

Deno.test("node drainer - an internal URL outside WSGW_INTERNAL_NETWORKS is refused before any request", async () => {
  let called = 0;
  const drain = httpNodeDrainer({
    secret: SECRET,
    urlPolicy: new InternalUrlPolicy(["10.0.0.0/8"]),
    fetch: () => {
      called++;
      return Promise.resolve(new Response(null, { status: 202 }));
    },
  });
  await assert.rejects(
    () =>
      drain({
        nodeId: "rogue",
        url: "http://x",
        internalUrl: "http://203.0.113.9:9000",
        startedAt: 1,
        draining: false,
      }, {}),
    /rogue: internal URL refused \(WSGW_INTERNAL_NETWORKS\)/,
  );
  assert.equal(called, 0);
});

Deno.test("node drainer - a node that does not answer is an UnavailableError naming it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const drain = httpNodeDrainer({ secret: SECRET });
  await assert.rejects(
    () =>
      drain({
        nodeId: "gone",
        url: "http://x",
        internalUrl: `http://127.0.0.1:${port}`,
        startedAt: 1,
        draining: false,
      }, {}),
    (error: Error) =>
      error instanceof UnavailableError &&
      /node gone did not take the drain/.test(error.message),
  );
});
