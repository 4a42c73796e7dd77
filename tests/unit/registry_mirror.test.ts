/**
 * RegistryMirror, the one place registry events are applied to maps (route
 * cache, memory store, test mirror): what each event does, and what its
 * answer says.
 */
import assert from "node:assert/strict";
import { nodeRecord } from "../../ops/servers/etcd_bulk.ts";
import { RegistryMirror, resetOfPairs } from "../../shared/registry/mod.ts";

Deno.test("registry mirror - applies each kind of event", () => {
  const mirror = new RegistryMirror();
  assert.equal(mirror.apply({ type: "node", node: nodeRecord("n1") }), true);
  assert.equal(mirror.apply({ type: "user", user: "a", nodeId: "n1" }), true);
  assert.equal(mirror.apply({ type: "user", user: "a", nodeId: "n1" }), false);
  assert.equal(mirror.apply({ type: "user", user: "a", nodeId: "n2" }), true);
  assert.deepEqual(mirror.owners.ownersOf("a"), ["n1", "n2"]);
  assert.equal(
    mirror.apply({ type: "user-gone", user: "a", nodeId: "n3" }),
    false,
  );
  assert.equal(
    mirror.apply({ type: "user-gone", user: "a", nodeId: "n1" }),
    true,
  );
  assert.equal(mirror.owners.get("a"), "n2");
  assert.deepEqual(mirror.nodes.get("n1"), nodeRecord("n1"));
  assert.equal(mirror.apply({ type: "node-gone", nodeId: "n1" }), true);
  assert.equal(mirror.nodes.has("n1"), false);
  assert.equal(mirror.owners.pairs, 1);
});

Deno.test("registry mirror - a reset replaces everything and adopts its owner map", () => {
  const mirror = new RegistryMirror();
  mirror.apply({ type: "node", node: nodeRecord("old") });
  mirror.apply({ type: "user", user: "gone", nodeId: "old" });
  const before = mirror.nodes;
  const reset = resetOfPairs([nodeRecord("n1")], [{ user: "a", nodeId: "n1" }]);
  assert.equal(mirror.apply(reset), true);
  assert.deepEqual([...mirror.nodes.keys()], ["n1"]);
  assert.deepEqual([...before.keys()], ["old"], "a map taken before stays");
  assert.equal(mirror.owners, reset.owners, "no copy of the listing");
  assert.equal(mirror.owners.get("gone"), undefined);
  mirror.apply({ type: "user", user: "b", nodeId: "n1" });
  assert.equal(mirror.owners.pairs, 2);
});
