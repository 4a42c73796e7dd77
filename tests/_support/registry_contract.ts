/**
 * The Registry contract, one suite for every backend: run from
 * `unit/registry_memory.test.ts` (MemoryRegistry) and
 * `integration/registry_etcd.test.ts` (EtcdRegistry on a real etcd), the way
 * hono's `common.case.test.ts` runs on every router.
 *
 * @module
 */
import assert from "node:assert/strict";
import { nodeRecord } from "../../ops/servers/etcd_bulk.ts";
import {
  NodeIdTakenError,
  type Registry,
  type RegistryEvent,
} from "../../shared/registry/mod.ts";
import { waitFor } from "./until.ts";
import { WatchMirror } from "./watch_mirror.ts";

/** The node-record fixture, for the tests that take it from here. */
export { nodeRecord };

/** A fresh, empty backend for one test. */
export type RegistryBackend = AsyncDisposable & {
  /** A new handle onto this backend (what another process would see). */
  open(): Promise<Registry>;
};

/** User ids the protocol allows and keys must survive. */
export const AWKWARD_USERS = [
  "a/b",
  "/leading/and/trailing/",
  "with space",
  "emoji 🎉👩‍👩‍👧",
  "percent%2Fliteral",
  "..",
  "%",
  "ünïcödé",
  "x".repeat(128),
];

/** Registers the Registry contract tests for `backend`. */
export function registryContract(
  backend: string,
  setup: () => Promise<RegistryBackend>,
): void {
  const test = (
    name: string,
    fn: (backend: RegistryBackend) => Promise<void>,
  ) =>
    Deno.test(`${backend} registry - ${name}`, async () => {
      await using opened = await setup();
      await fn(opened);
    });

  test("register() makes the node an owner, unregister() removes it", async (b) => {
    await using reg = await b.open();
    await using node = await reg.join(nodeRecord("n1"));
    await node.register("alice");
    assert.deepEqual(await reg.owners("alice"), ["n1"]);
    await node.unregister("alice");
    assert.deepEqual(await reg.owners("alice"), []);
  });

  test("a registration is visible to every other handle at once", async (b) => {
    await using gateway = await b.open();
    await using router = await b.open();
    await using node = await gateway.join(nodeRecord("n1"));
    await node.register("alice");
    assert.deepEqual(await router.owners("alice"), ["n1"]);
  });

  test("register() is idempotent", async (b) => {
    await using reg = await b.open();
    await using node = await reg.join(nodeRecord("n1"));
    await node.register("alice");
    await node.register("alice");
    await Promise.all([node.register("bob"), node.register("bob")]);
    assert.deepEqual(await reg.owners("alice"), ["n1"]);
    assert.deepEqual(await reg.owners("bob"), ["n1"]);
    await node.unregister("alice");
    assert.deepEqual(await reg.owners("alice"), []);
  });

  test("unregister() of an absent user is not an error", async (b) => {
    await using reg = await b.open();
    await using node = await reg.join(nodeRecord("n1"));
    await node.unregister("nobody");
    await node.register("alice");
    await node.unregister("alice");
    await node.unregister("alice");
    assert.deepEqual(await reg.owners("nobody"), []);
    assert.deepEqual(await reg.owners("alice"), []);
  });

  test("register() then unregister() in the same tick leaves no owner", async (b) => {
    await using reg = await b.open();
    await using node = await reg.join(nodeRecord("n1"));
    await Promise.all([node.register("alice"), node.unregister("alice")]);
    assert.deepEqual(await reg.owners("alice"), []);
    await Promise.all([
      node.register("bob"),
      node.unregister("bob"),
      node.register("bob"),
    ]);
    assert.deepEqual(await reg.owners("bob"), ["n1"]);
  });

  test("interleaved calls end in the last state asked for", async (b) => {
    await using reg = await b.open();
    await using node = await reg.join(nodeRecord("n1"));
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const wanted = new Set<string>();
    const calls: Promise<void>[] = [];
    let seed = 7; // a fixed pseudo-random walk: same interleaving every run
    for (let round = 0; round < 5; round++) {
      for (const user of users) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        if (seed % 3 === 0) {
          calls.push(node.unregister(user));
          wanted.delete(user);
        } else {
          calls.push(node.register(user));
          wanted.add(user);
        }
      }
      await Promise.resolve(); // let some batches leave between rounds
    }
    await Promise.all(calls);
    for (const user of users) {
      assert.deepEqual(
        await reg.owners(user),
        wanted.has(user) ? ["n1"] : [],
        user,
      );
    }
  });

  test("user ids with /, spaces, emoji and % round-trip", async (b) => {
    await using reg = await b.open();
    await using node = await reg.join(nodeRecord("n1"));
    await Promise.all(AWKWARD_USERS.map((user) => node.register(user)));
    for (const user of AWKWARD_USERS) {
      assert.deepEqual(await reg.owners(user), ["n1"], user);
    }
    // "a" is a prefix of "a/b" as a string, never as an owner lookup.
    assert.deepEqual(await reg.owners("a"), []);
    assert.deepEqual(await reg.owners("percent/literal"), []);
    await using mirror = new WatchMirror(reg);
    await waitFor(() => mirror.resets === 1, { what: "the first reset" });
    assert.deepEqual(
      mirror.users().sort(),
      [...AWKWARD_USERS].sort(),
    );
    await node.unregister("a/b");
    assert.deepEqual(await reg.owners("a/b"), []);
    assert.deepEqual(await reg.owners("/leading/and/trailing/"), ["n1"]);
  });

  test("two nodes can hold the same user", async (b) => {
    await using reg = await b.open();
    await using n1 = await reg.join(nodeRecord("n1"));
    await using n2 = await reg.join(nodeRecord("n2"));
    await n1.register("alice");
    await n2.register("alice");
    assert.deepEqual((await reg.owners("alice")).sort(), ["n1", "n2"]);
    await n1.unregister("alice");
    assert.deepEqual(await reg.owners("alice"), ["n2"]);
  });

  test("devices() lists every node's recorded connections of a user", async (b) => {
    await using reg = await b.open();
    await using n1 = await reg.join(nodeRecord("n1"));
    await using n2 = await reg.join(nodeRecord("n2"));
    assert.deepEqual(await reg.devices("alice"), []);
    await n1.register("alice", [{ connId: "a", connectedAt: 1 }]);
    await n2.register("alice", [
      { connId: "b", connectedAt: 2 },
      { connId: "c", connectedAt: 3 },
    ]);
    const byId = (list: { connId: string }[]) =>
      [...list].sort((x, y) => x.connId.localeCompare(y.connId));
    assert.deepEqual(byId(await reg.devices("alice")), [
      { connId: "a", connectedAt: 1, nodeId: "n1" },
      { connId: "b", connectedAt: 2, nodeId: "n2" },
      { connId: "c", connectedAt: 3, nodeId: "n2" },
    ]);
    await n2.register("alice", [{ connId: "c", connectedAt: 3 }]);
    await n1.unregister("alice");
    assert.deepEqual(await reg.devices("alice"), [
      { connId: "c", connectedAt: 3, nodeId: "n2" },
    ]);
  });

  test("nodes() lists node records; setDraining() updates them", async (b) => {
    await using reg = await b.open();
    await using n1 = await reg.join(nodeRecord("n1"));
    await using _n2 = await reg.join(nodeRecord("n2"));
    const byId = async () =>
      Object.fromEntries((await reg.nodes()).map((n) => [n.nodeId, n]));
    assert.deepEqual(await byId(), {
      n1: nodeRecord("n1"),
      n2: nodeRecord("n2"),
    });
    await n1.setDraining(true);
    assert.deepEqual((await byId()).n1, {
      ...nodeRecord("n1"),
      draining: true,
    });
    assert.equal((await byId()).n2?.draining, false);
    await n1.setDraining(false);
    assert.equal((await byId()).n1?.draining, false);
  });

  test("join() with a taken node id fails until the holder leaves", async (b) => {
    await using first = await b.open();
    await using second = await b.open();
    const holder = await first.join(nodeRecord("n1"));
    await assert.rejects(second.join(nodeRecord("n1")), (error) => {
      assert.ok(error instanceof NodeIdTakenError, String(error));
      assert.equal(error.nodeId, "n1");
      assert.equal(error.code, "node_id_taken");
      return true;
    });
    await holder.leave();
    await using again = await second.join(nodeRecord("n1"));
    assert.equal(again.nodeId, "n1");
  });

  test("leave() removes the node and all its users at once", async (b) => {
    await using reg = await b.open();
    await using other = await reg.join(nodeRecord("n2"));
    const node = await reg.join(nodeRecord("n1"));
    assert.equal(node.healthy, true);
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    await Promise.all(users.map((user) => node.register(user)));
    await other.register("u0");
    await node.leave();
    assert.equal(node.healthy, false);
    assert.deepEqual((await reg.nodes()).map((n) => n.nodeId), ["n2"]);
    for (const user of users) {
      assert.deepEqual(await reg.owners(user), user === "u0" ? ["n2"] : []);
    }
    await assert.rejects(node.register("late"));
    await node.unregister("u1"); // gone already: not an error
    await node.leave(); // idempotent
  });

  test("watch() gives a reset, then changes in order", async (b) => {
    await using reg = await b.open();
    await using watcher = await b.open();
    await using n1 = await reg.join(nodeRecord("n1"));
    await n1.register("alice");
    await using mirror = new WatchMirror(watcher);
    await waitFor(() => mirror.resets === 1, { what: "the first reset" });
    const [first] = mirror.events;
    assert.equal(first?.type, "reset");
    assert.deepEqual(mirror.owners("alice"), ["n1"]);
    assert.deepEqual(mirror.nodes.get("n1"), nodeRecord("n1"));

    await n1.register("bob");
    await waitFor(() => mirror.has("bob", "n1"), { what: "bob on n1" });
    await n1.unregister("alice");
    await waitFor(() => !mirror.has("alice", "n1"), { what: "alice gone" });
    await n1.setDraining(true);
    await waitFor(() => mirror.nodes.get("n1")?.draining, { what: "draining" });
    const n2 = await reg.join(nodeRecord("n2"));
    await waitFor(() => mirror.nodes.has("n2"), { what: "n2 joined" });
    await n2.register("carol");
    await waitFor(() => mirror.has("carol", "n2"), { what: "carol on n2" });
    await n2.leave();
    await waitFor(() => !mirror.nodes.has("n2") && !mirror.has("carol", "n2"), {
      what: "n2 and carol gone",
    });

    const changes = mirror.events.slice(1).map(describe);
    const order = [
      "user bob@n1",
      "user-gone alice@n1",
      "node n1 draining",
      "node n2",
      "user carol@n2",
    ];
    assert.deepEqual(changes.filter((c) => order.includes(c)), order);
    assert.equal(mirror.resets, 1);
    assert.deepEqual(mirror.owners("bob"), ["n1"]);
  });

  test("watch() hands each watcher a reset of its own to keep and change", async (b) => {
    await using reg = await b.open();
    await using n1 = await reg.join(nodeRecord("n1"));
    await n1.register("alice");
    const firstReset = async () => {
      const abort = new AbortController();
      for await (const event of reg.watch(abort.signal)) {
        abort.abort();
        assert.equal(event.type, "reset");
        return event.type === "reset" ? event : undefined;
      }
    };
    const mine = await firstReset();
    mine!.owners.add("ghost", "n1");
    mine!.owners.remove("alice", "n1");
    const theirs = await firstReset();
    assert.equal(theirs!.owners.get("alice"), "n1");
    assert.equal(theirs!.owners.get("ghost"), undefined);
    assert.deepEqual(await reg.owners("alice"), ["n1"]);
    assert.deepEqual(await reg.owners("ghost"), []);
  });

  test("watch() ends when its signal aborts", async (b) => {
    await using reg = await b.open();
    const abort = new AbortController();
    const seen: RegistryEvent[] = [];
    const done = (async () => {
      for await (const event of reg.watch(abort.signal)) seen.push(event);
    })();
    await waitFor(() => seen.length === 1, { what: "the first reset" });
    abort.abort();
    await done;
    assert.equal(seen[0]?.type, "reset");
  });
}

function describe(event: RegistryEvent): string {
  switch (event.type) {
    case "reset":
      return "reset";
    case "node":
      return `node ${event.node.nodeId}${
        event.node.draining ? " draining" : ""
      }`;
    case "node-gone":
      return `node-gone ${event.nodeId}`;
    case "user":
    case "user-gone":
      return `${event.type} ${event.user}@${event.nodeId}`;
  }
}
