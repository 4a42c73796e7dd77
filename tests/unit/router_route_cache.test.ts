import assert from "node:assert/strict";
import { waitFor } from "../_support/until.ts";
import { createLogger, silentLogger } from "../../shared/log.ts";
import {
  MemoryRegistry,
  type NodeRecord,
  type Registry,
  type RegistryEvent,
  resetOfPairs,
} from "../../shared/registry/mod.ts";
import { RouteCache } from "../../router/route_cache.ts";

function record(nodeId: string, draining = false): NodeRecord {
  return {
    nodeId,
    url: `http://${nodeId}`,
    internalUrl: `http://${nodeId}:9`,
    startedAt: 1,
    draining,
  };
}

function cache(): RouteCache {
  // Never started: apply() is driven by hand.
  return new RouteCache({ registry: new MemoryRegistry(), log: silentLogger });
}

Deno.test("route cache - reset, user and user-gone update owners and size", () => {
  const routes = cache();
  assert.equal(routes.isReady, false);
  routes.apply(
    resetOfPairs([record("n1"), record("n2")], [{ user: "a", nodeId: "n1" }, {
      user: "a",
      nodeId: "n2",
    }]),
  );
  assert.equal(routes.isReady, true);
  assert.deepEqual(routes.owners("a").sort(), ["n1", "n2"]);
  assert.equal(routes.size, 2);
  routes.apply({ type: "user", user: "b", nodeId: "n2" });
  routes.apply({ type: "user", user: "b", nodeId: "n2" });
  assert.deepEqual(routes.owners("b"), ["n2"]);
  assert.equal(routes.size, 3);
  routes.apply({ type: "user-gone", user: "a", nodeId: "n1" });
  routes.apply({ type: "user-gone", user: "a", nodeId: "n1" });
  routes.apply({ type: "user-gone", user: "nobody", nodeId: "n1" });
  assert.deepEqual(routes.owners("a"), ["n2"]);
  assert.equal(routes.size, 2);
  assert.deepEqual(routes.owners("nobody"), []);
});

Deno.test("route cache - a reset replaces everything seen before", () => {
  const routes = cache();
  routes.apply(resetOfPairs([record("n1")], [{ user: "a", nodeId: "n1" }]));
  routes.apply(resetOfPairs([record("n2")], [{ user: "b", nodeId: "n2" }]));
  assert.equal(routes.node("n1"), undefined);
  assert.deepEqual(routes.owners("a"), []);
  assert.deepEqual(routes.owners("b"), ["n2"]);
  assert.deepEqual(routes.nodes().map((n) => n.nodeId), ["n2"]);
  assert.equal(routes.size, 1);
});

Deno.test("route cache - users of unknown nodes are ignored for routing", () => {
  const routes = cache();
  routes.apply(
    resetOfPairs([record("n1")], [{ user: "a", nodeId: "n1" }, {
      user: "a",
      nodeId: "ghost",
    }]),
  );
  assert.deepEqual(routes.owners("a"), ["n1"]);
  routes.apply({ type: "node-gone", nodeId: "n1" });
  assert.deepEqual(routes.owners("a"), []);
  assert.equal(routes.node("n1"), undefined);
  // The node coming back (its keys still there) routes again.
  routes.apply({ type: "node", node: record("n1") });
  assert.deepEqual(routes.owners("a"), ["n1"]);
});

Deno.test("route cache - node updates replace the record (draining)", () => {
  const routes = cache();
  routes.apply(resetOfPairs([record("n1")], []));
  routes.apply({ type: "node", node: record("n1", true) });
  assert.equal(routes.node("n1")?.draining, true);
  assert.equal(routes.nodes().length, 1);
});

Deno.test("route cache - follows a memory registry through its watch", async () => {
  const registry = new MemoryRegistry();
  const n1 = await registry.join(record("n1"));
  await n1.register("early");
  await using routes = new RouteCache({ registry, log: silentLogger });
  routes.start();
  routes.start(); // a second start is a no-op
  await routes.ready;
  assert.deepEqual(routes.owners("early"), ["n1"]);
  await n1.register("late");
  await waitFor(() => routes.owners("late").length === 1, { what: "late" });
  await n1.leave();
  await waitFor(() => routes.nodes().length === 0, { what: "n1 gone" });
  assert.deepEqual(routes.owners("early"), []);
  assert.equal(routes.size, 0);
});

/** A registry whose watch fails or ends as scripted, then lists `listing`. */
function flakyRegistry(
  script: ("throw" | "end")[],
  listing: RegistryEvent,
): { registry: Registry; watches: () => number } {
  let watches = 0;
  const base = new MemoryRegistry();
  const registry: Registry = {
    owners: (user) => base.owners(user),
    devices: (user) => base.devices(user),
    nodes: () => base.nodes(),
    join: (node) => base.join(node),
    ping: () => base.ping(),
    [Symbol.asyncDispose]: () => base[Symbol.asyncDispose](),
    async *watch(signal) {
      const step = script[watches++];
      if (step === "throw") {
        yield listing;
        throw new Error("watch stream broke");
      }
      if (step === "end") return;
      yield listing;
      await new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => resolve(), { once: true })
      );
    },
  };
  return { registry, watches: () => watches };
}

Deno.test("route cache - restarts a watch that throws or ends, with backoff, and logs it", async () => {
  const listing = resetOfPairs([record("n1")], [{ user: "a", nodeId: "n1" }]);
  const { registry, watches } = flakyRegistry(["end", "throw"], listing);
  const logs: Record<string, unknown>[] = [];
  await using routes = new RouteCache({
    registry,
    log: createLogger({ write: (line) => logs.push(JSON.parse(line)) }),
    minBackoffMs: 5,
    maxBackoffMs: 20,
  });
  routes.start();
  await waitFor(() => watches() === 3, { what: "third watch" });
  await routes.ready;
  assert.deepEqual(routes.owners("a"), ["n1"]);
  assert.deepEqual(logs.map((l) => l.event), [
    "registry watch ended, restarting",
    "node entered the route cache",
    "registry watch failed, restarting",
  ]);
  assert.equal(
    (logs[2]?.error as { message: string }).message,
    "watch stream broke",
  );
});

Deno.test("route cache - dispose stops a watch that is backing off", async () => {
  const { registry, watches } = flakyRegistry(["end"], resetOfPairs([], []));
  const routes = new RouteCache({
    registry,
    log: silentLogger,
    minBackoffMs: 60_000,
  });
  routes.start();
  await waitFor(() => watches() === 1);
  // Resolves at once: the backoff timer is cleared, not waited out.
  await routes[Symbol.asyncDispose]();
  assert.equal(routes.isReady, false);
});
