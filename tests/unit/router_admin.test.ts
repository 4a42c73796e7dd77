/**
 * The admin endpoints of the operator console (router/routes/admin.ts), the
 * console page's headers (router/console.ts), and what they add to existing
 * endpoints: a disconnect by connection id, node version, lease and counters
 * in `GET /v1/nodes`.
 */
import assert from "node:assert/strict";
import {
  ADMIN_EXAMPLES,
  ClusterResponse,
  DrainRequest,
  DrainResponse,
  UserRegistryResponse,
} from "../../router/admin_schemas.ts";
import { CONSOLE_CSP, CONSOLE_FILES } from "../../router/console.ts";
import type { DrainPace } from "../../router/node_drainer.ts";
import { NodesResponse } from "../../router/schemas.ts";
import { UnavailableError } from "../../shared/errors.ts";
import type { NodeRecord } from "../../shared/registry/mod.ts";
import { historyWith, routerFixture } from "../_support/router_fixture.ts";
import { MemoryHistory } from "../../shared/history/mod.ts";

const PUSH_KEY = "push-only-key";
const env = { WSGW_API_KEYS: `other-key,test-key,${PUSH_KEY}:push` };

/** A fixture whose drains are recorded instead of sent. */
async function fixture(
  drain: (node: NodeRecord, pace: DrainPace) => Promise<void> = () =>
    Promise.resolve(),
) {
  const drains: [string, DrainPace][] = [];
  const f = await routerFixture({
    env,
    override: {
      drainNode: async (node, pace) => {
        drains.push([node.nodeId, pace]);
        await drain(node, pace);
      },
    },
  });
  return Object.assign(f, { drains });
}

async function errorOf(response: Response) {
  const body = await response.json();
  return { status: response.status, ...body.error };
}

Deno.test("admin - every admin route needs the admin scope: 403 insufficient_scope with a push key, 401 without a key", async () => {
  await using f = await fixture();
  await f.addNode("n1");
  const routes: [string, string][] = [
    ["GET", "/v1/admin/cluster"],
    ["GET", "/v1/admin/users/alice"],
    ["POST", "/v1/admin/nodes/n1/drain"],
  ];
  for (const [method, path] of routes) {
    const pushKey = await f.request(path, {
      method,
      headers: { authorization: `Bearer ${PUSH_KEY}` },
    });
    const error = await errorOf(pushKey);
    assert.equal(error.status, 403, path);
    assert.equal(error.code, "insufficient_scope", path);
    assert.match(error.message, /needs admin/, path);
    const none = await f.app.request(path, { method });
    assert.equal(none.status, 401, path);
  }
  assert.deepEqual(f.drains, [], "no drain without the admin scope");
});

Deno.test("admin cluster - the router, its route cache, and both backends reachable; pushes counts 2xx pushes", async () => {
  await using f = await fixture();
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice");
  const before = ClusterResponse.parse(
    await (await f.request("/v1/admin/cluster")).json(),
  );
  assert.equal(before.router.pushes, 0);
  assert.deepEqual(before.router.routeCache.entries, 1);
  assert.equal(before.router.routeCache.nodes, 1);
  assert.equal(before.router.routeCache.ready, true);
  assert.ok(before.router.routeCache.lastEventAt > 0);
  assert.match(before.router.id, /^[0-9a-f]{8}$/);
  assert.equal(before.registry.reachable, true);
  assert.equal(before.history.reachable, true);

  const pushed = await f.request("/v1/push", {
    json: { users: ["alice"], data: 1 },
  });
  assert.equal(pushed.status, 200);
  // A refused push is no push.
  await f.request("/v1/push", { json: { users: [], data: 1 } });
  const after = ClusterResponse.parse(
    await (await f.request("/v1/admin/cluster")).json(),
  );
  assert.equal(after.router.pushes, 1);
  assert.equal(after.router.id, before.router.id, "one id per router");
});

Deno.test("admin cluster - a history that does not answer is unreachable with the reason, and the answer is still 200", async () => {
  const history = historyWith(new MemoryHistory({ size: 10, ttl: 60 }), {
    ping: () => Promise.reject(new Error("ECONNREFUSED 127.0.0.1:6399")),
  });
  await using f = await routerFixture({ env, history });
  const response = await f.request("/v1/admin/cluster");
  assert.equal(response.status, 200);
  const body = ClusterResponse.parse(await response.json());
  assert.equal(body.registry.reachable, true);
  assert.equal(body.history.reachable, false);
  assert.match(body.history.error!, /ECONNREFUSED/);
});

Deno.test("admin users - the registry keys of a user by node, with their devices and the route cache's view", async () => {
  await using f = await fixture();
  const n1 = await f.addNode("n1");
  const n2 = await f.addNode("n2");
  await f.addNode("n3");
  await f.connect(n1, "a/b", "phone", 100);
  await f.connect(n2, "a/b", null, 200);
  const response = await f.request("/v1/admin/users/a%2Fb");
  assert.equal(response.status, 200);
  const body = UserRegistryResponse.parse(await response.json());
  assert.equal(body.user, "a/b");
  assert.deepEqual(body.keys.map((k) => [k.key, k.nodeId, k.lease]), [
    ["/wsgw/users/a%2Fb/n1", "n1", null],
    ["/wsgw/users/a%2Fb/n2", "n2", null],
  ]);
  assert.deepEqual(
    body.keys.map((k) => k.devices.map((d) => d.connectedAt)),
    [[100], [200]],
  );
  assert.deepEqual(body.routeCache, ["n1", "n2"]);

  const offline = await (await f.request("/v1/admin/users/nobody")).json();
  assert.deepEqual(offline, { user: "nobody", keys: [], routeCache: [] });
});

Deno.test("admin users - a bad user id is 400 naming user", async () => {
  await using f = await fixture();
  for (const path of ["/v1/admin/users/a%01b", "/v1/admin/users/%E2%82"]) {
    const error = await errorOf(await f.request(path));
    assert.equal(error.status, 400, path);
    assert.equal(error.code, "bad_request");
    assert.match(error.message, /^user: /, path);
  }
  const long = await errorOf(
    await f.request(`/v1/admin/users/${"x".repeat(129)}`),
  );
  assert.equal(long.status, 400);
  assert.match(long.message, /^user: /);
});

Deno.test("admin drain - 202, the node's drainer gets the record and the pace; an empty body is the default pace", async () => {
  await using f = await fixture();
  await f.addNode("n1");
  await f.addNode("n2");
  const response = await f.request("/v1/admin/nodes/n2/drain", {
    json: { batch: 10, intervalMs: 50 },
  });
  assert.equal(response.status, 202);
  assert.deepEqual(
    DrainResponse.parse(await response.json()),
    { nodeId: "n2", draining: true },
  );
  const empty = await f.request("/v1/admin/nodes/n1/drain", {
    method: "POST",
  });
  assert.equal(empty.status, 202);
  assert.deepEqual(f.drains, [["n2", { batch: 10, intervalMs: 50 }], [
    "n1",
    {},
  ]]);
});

Deno.test("admin drain - a bad body is 400 naming the field, nothing drained", async () => {
  await using f = await fixture();
  await f.addNode("n1");
  const cases: [unknown, RegExp][] = [
    [{ batch: 0 }, /^batch: /],
    [{ batch: "10" }, /^batch: must be a number/],
    [{ intervalMs: 60_001 }, /^intervalMs: /],
    [{ intervalMs: 1.5 }, /^intervalMs: /],
    [{ pace: 1 }, /pace/],
    [[], /^body: /],
  ];
  for (const [json, message] of cases) {
    const error = await errorOf(
      await f.request("/v1/admin/nodes/n1/drain", { json }),
    );
    assert.equal(error.status, 400, JSON.stringify(json));
    assert.match(error.message, message, JSON.stringify(json));
  }
  const broken = await f.request("/v1/admin/nodes/n1/drain", {
    method: "POST",
    body: "{",
  });
  assert.equal((await errorOf(broken)).code, "invalid_json");
  assert.deepEqual(f.drains, []);
});

Deno.test("admin drain - an unknown node is 404 naming it; a node that refuses is 503 with its reason", async () => {
  await using f = await fixture((node) =>
    Promise.reject(new UnavailableError(`node ${node.nodeId} refused: 401`))
  );
  await f.addNode("n1");
  const missing = await errorOf(
    await f.request("/v1/admin/nodes/gone/drain", { method: "POST" }),
  );
  assert.equal(missing.status, 404);
  assert.match(missing.message, /^node: no live node "gone"/);
  const refused = await errorOf(
    await f.request("/v1/admin/nodes/n1/drain", { method: "POST" }),
  );
  assert.equal(refused.status, 503);
  assert.match(refused.message, /n1 refused: 401/);
});

Deno.test("disconnect - connId closes that one connection only; a bad connId is 400 naming it", async () => {
  await using f = await fixture();
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice", "phone");
  await f.connect(n1, "alice", "phone");
  const [first] = n1.connections.get("alice")!;
  const response = await f.request("/v1/users/alice/disconnect", {
    json: { connId: first!.connId },
  });
  assert.deepEqual(await response.json(), { closed: 1 });
  assert.deepEqual(n1.kicks, [{ user: "alice", connId: first!.connId }]);
  assert.equal(n1.connections.get("alice")!.length, 1);
  const bad = await errorOf(
    await f.request("/v1/users/alice/disconnect", { json: { connId: "" } }),
  );
  assert.equal(bad.status, 400);
  assert.match(bad.message, /^connId: /);
});

Deno.test("nodes - version, lease and counters a node reports are listed; null when it says nothing", async () => {
  await using f = await fixture();
  const n1 = await f.addNode("n1");
  await f.addNode("n2");
  const stats = n1.stats.bind(n1);
  n1.stats = async () => ({
    ...await stats(),
    version: "9.9.9",
    lease: { id: "7587893548137291522", healthy: false },
    counters: { connects: 5, closes: 2, deliveries: 40 },
  });
  const list = NodesResponse.parse(await (await f.request("/v1/nodes")).json());
  assert.deepEqual(
    list.map((n) => [n.nodeId, n.version, n.lease, n.counters]),
    [
      ["n1", "9.9.9", { id: "7587893548137291522", healthy: false }, {
        connects: 5,
        closes: 2,
        deliveries: 40,
      }],
      ["n2", null, null, null],
    ],
  );
});

Deno.test("console - /console serves the page, its script and style with a CSP limited to this origin, no key needed", async () => {
  await using f = await fixture();
  for (
    const [path, type] of <[string, string][]> [
      ["/console", "text/html"],
      ["/console/", "text/html"],
      ["/console/console.js", "text/javascript"],
      ["/console/console.css", "text/css"],
    ]
  ) {
    const response = await f.app.request(path);
    assert.equal(response.status, 200, path);
    assert.ok(response.headers.get("content-type")!.startsWith(type!), path);
    assert.equal(response.headers.get("content-security-policy"), CONSOLE_CSP);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(response.headers.get("referrer-policy"), "no-referrer");
    const text = await response.text();
    for (const { key } of f.config.apiKeys) {
      assert.ok(!text.includes(key), `${path} holds no API key`);
    }
  }
  for (
    const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]
  ) assert.ok(CONSOLE_CSP.includes(directive), directive);
  const page = await (await f.app.request("/console")).text();
  assert.doesNotMatch(page, /<script>|https?:\/\//, "no inline script, no CDN");
  // Every file of router/console/ is served: a module left out would 404.
  const onDisk: string[] = [];
  for await (
    const entry of Deno.readDir(
      new URL("../../router/console/", import.meta.url),
    )
  ) onDisk.push(entry.name);
  assert.deepEqual(onDisk.sort(), Object.keys(CONSOLE_FILES).sort());
  for (const [file, type] of Object.entries(CONSOLE_FILES)) {
    const path = file === "index.html" ? "/console/" : `/console/${file}`;
    const response = await f.app.request(path);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), type, path);
    const text = await response.text();
    assert.doesNotMatch(text, /localStorage|sessionStorage|document\.cookie/);
    assert.doesNotMatch(text, /innerHTML|outerHTML|insertAdjacentHTML|eval\(/);
  }
});

Deno.test("openapi - the admin endpoints are described, with examples their schemas accept", async () => {
  await using f = await fixture();
  const doc = await (await f.app.request("/openapi.json")).json();
  assert.equal(doc.paths["/v1/admin/cluster"].get.operationId, "getCluster");
  assert.equal(
    doc.paths["/v1/admin/users/{user}"].get.operationId,
    "getUserRegistry",
  );
  const drain = doc.paths["/v1/admin/nodes/{node}/drain"].post;
  assert.equal(drain.operationId, "drainNode");
  assert.ok(drain.responses["202"] && drain.responses["404"]);
  const byName = {
    Cluster: ClusterResponse,
    UserRegistry: UserRegistryResponse,
    DrainRequest,
    Drain: DrainResponse,
  };
  for (const [name, schema] of Object.entries(byName)) {
    const example = ADMIN_EXAMPLES[name as keyof typeof ADMIN_EXAMPLES];
    assert.deepEqual(schema.parse(example), example, name);
    assert.ok(doc.components.schemas[name], name);
  }
});
