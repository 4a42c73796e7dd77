/**
 * KeySync, the bookkeeping behind EtcdMembership's coalesced txns, without
 * etcd: batches, in-flight users, lease loss and leaving.
 *
 * @module
 */
import assert from "node:assert/strict";
import { KeySync, type SyncOp } from "../../shared/registry/_key_sync.ts";

/** Settles to "done", or "pending" while the promise is still open. */
async function state(promise: Promise<void>): Promise<string> {
  const pending = {};
  const winner = await Promise.race([
    promise.then(() => "done", (e: Error) => `rejected: ${e.message}`),
    Promise.resolve().then(() => pending),
  ]);
  return winner === pending ? "pending" : winner as string;
}

const users = (ops: SyncOp[] | undefined) =>
  (ops ?? []).map((op) =>
    "node" in op ? "node" : `${op.put ? "+" : "-"}${op.user}`
  );

Deno.test("key sync - a burst is cut into batches of at most max ops", async () => {
  const sync = new KeySync();
  const calls = Array.from({ length: 300 }, (_, i) => sync.want(`u${i}`, true));
  const batches: SyncOp[][] = [];
  for (let ops; (ops = sync.take(128));) batches.push(ops);
  assert.deepEqual(batches.map((b) => b.length), [128, 128, 44]);
  for (const batch of batches) sync.landed(batch);
  await Promise.all(calls);
  assert.equal(sync.take(128), undefined);
});

Deno.test("key sync - register then unregister before a send sends nothing", async () => {
  const sync = new KeySync();
  const register = sync.want("alice", true);
  const unregister = sync.want("alice", false);
  assert.equal(await state(unregister), "done");
  assert.equal(sync.take(128), undefined);
  assert.equal(await state(register), "done");
});

Deno.test("key sync - a user changed while in flight is sent again after", async () => {
  const sync = new KeySync();
  const register = sync.want("alice", true);
  const first = sync.take(128);
  assert.deepEqual(users(first), ["+alice"]);
  const unregister = sync.want("alice", false);
  assert.equal(sync.take(128), undefined, "alice is on the wire");
  sync.landed(first!);
  assert.equal(await state(register), "pending");
  const second = sync.take(128);
  assert.deepEqual(users(second), ["-alice"]);
  sync.landed(second!);
  assert.equal(await state(register), "done");
  assert.equal(await state(unregister), "done");
});

Deno.test("key sync - unregister of an absent user and a repeated register settle at once", async () => {
  const sync = new KeySync();
  assert.equal(await state(sync.want("nobody", false)), "done");
  const ops = (sync.want("alice", true), sync.take(128));
  sync.landed(ops!);
  assert.equal(await state(sync.want("alice", true)), "done");
});

Deno.test("key sync - forget() rewrites every desired user", async () => {
  const sync = new KeySync();
  const done = ["a", "b", "c"].map((u) => sync.want(u, true));
  sync.landed(sync.take(128)!);
  await Promise.all(done);
  sync.forget();
  assert.equal(sync.rewriting, 3);
  assert.equal(await state(sync.want("b", false)), "done"); // nothing to delete
  assert.equal(sync.rewriting, 2);
  const ops = sync.take(128);
  assert.deepEqual(users(ops).sort(), ["+a", "+c"]);
  sync.landed(ops!);
  assert.equal(sync.rewriting, 0);
});

Deno.test("key sync - a txn that did not land is retried", () => {
  const sync = new KeySync();
  void sync.want("alice", true);
  const ops = sync.take(128)!;
  sync.requeue(ops);
  assert.deepEqual(users(sync.take(128)), ["+alice"]);
});

Deno.test("key sync - the node record travels in the next batch", async () => {
  const sync = new KeySync();
  const draining = sync.wantNode();
  void sync.want("alice", true);
  const ops = sync.take(128);
  assert.deepEqual(users(ops), ["node", "+alice"]);
  sync.landed(ops!);
  assert.equal(await state(draining), "done");
});

Deno.test("key sync - close() rejects pending registers, resolves unregisters", async () => {
  const sync = new KeySync();
  sync.want("gone", true);
  sync.landed(sync.take(128)!);
  const register = sync.want("alice", true);
  const unregister = sync.want("gone", false);
  const node = sync.wantNode();
  sync.close(new Error("left"));
  assert.equal(await state(register), "rejected: left");
  assert.equal(await state(unregister), "done");
  assert.equal(await state(node), "rejected: left");
  assert.equal(sync.take(128), undefined);
});

Deno.test("key sync - refuse() rejects the callers of a refused txn", async () => {
  const sync = new KeySync();
  const alice = sync.want("alice", true);
  sync.refuse(sync.take(128)!, new Error("refused"));
  assert.equal(await state(alice), "rejected: refused");
  assert.equal(sync.take(128), undefined);
});

Deno.test("key sync - a changed device list is written again, the same one is not", async () => {
  const sync = new KeySync();
  const one = [{ connId: "c1", connectedAt: 1 }];
  const first = sync.want("alice", true, one);
  const ops = sync.take(128)!;
  sync.landed(ops);
  await first;
  assert.equal(await state(sync.want("alice", true, [...one])), "done");
  const two = sync.want("alice", true, [...one, {
    connId: "c2",
    connectedAt: 2,
  }]);
  assert.equal(await state(two), "pending");
  const again = sync.take(128)!;
  assert.deepEqual(again.map((op) => "user" in op && op.user), ["alice"]);
  sync.landed(again);
  assert.equal(await state(two), "done");
  assert.equal(sync.desired.get("alice")!.devices.length, 2);
});
