/**
 * OwnerMap, the registry's own hash table, against a plain
 * `Map<string, string[]>` model: random adds and removes over a small set of
 * users (so the same keys come and go, leaving tombstones) and over many
 * (so the table grows), with clones that must not share changes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { OwnerMap, resetOfPairs } from "../../shared/registry/mod.ts";

type Op = { add: boolean; user: string; nodeId: string };

function model(ops: readonly Op[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { add, user, nodeId } of ops) {
    const owners = map.get(user) ?? [];
    if (add && !owners.includes(nodeId)) map.set(user, [...owners, nodeId]);
    if (!add && owners.includes(nodeId)) {
      const left = owners.filter((id) => id !== nodeId);
      if (left.length === 0) map.delete(user);
      else map.set(user, left);
    }
  }
  return map;
}

function assertSame(table: OwnerMap, expected: Map<string, string[]>): void {
  assert.equal(table.size, expected.size);
  let pairs = 0;
  for (const [user, owners] of expected) {
    assert.deepEqual(table.ownersOf(user), owners, user);
    for (const nodeId of owners) assert.ok(table.has(user, nodeId));
    pairs += owners.length;
  }
  assert.equal(table.pairs, pairs);
  assert.deepEqual(
    [...table.users()].sort(),
    [...expected.keys()].sort(),
  );
}

const op = (users: fc.Arbitrary<string>) =>
  fc.record({
    add: fc.boolean(),
    user: users,
    nodeId: fc.constantFrom("n1", "n2", "n3"),
  });

Deno.test("owner map - matches a Map model under random adds and removes", () => {
  const users = fc.oneof(
    fc.constantFrom("a", "b", "c", "", "ü", "a/b", "🎉"),
    fc.string({ maxLength: 6 }),
  );
  fc.assert(
    fc.property(fc.array(op(users), { maxLength: 400 }), (ops) => {
      const table = new OwnerMap();
      ops.forEach(({ add, user, nodeId }, i) => {
        const before = model(ops.slice(0, i)).get(user) ?? [];
        const changed = add
          ? table.add(user, nodeId)
          : table.remove(user, nodeId);
        assert.equal(changed, add !== before.includes(nodeId));
      });
      assertSame(table, model(ops));
    }),
    { numRuns: 300 },
  );
});

Deno.test("owner map - a clone changes apart from its original", () => {
  fc.assert(
    fc.property(
      fc.array(op(fc.constantFrom("a", "b", "c", "d")), { maxLength: 60 }),
      fc.array(op(fc.constantFrom("a", "b", "c", "d")), { maxLength: 60 }),
      (first, second) => {
        const table = new OwnerMap();
        for (const o of first) {
          if (o.add) table.add(o.user, o.nodeId);
          else table.remove(o.user, o.nodeId);
        }
        const copy = table.clone();
        for (const o of second) {
          if (o.add) copy.add(o.user, o.nodeId);
          else copy.remove(o.user, o.nodeId);
        }
        assertSame(table, model(first));
        assertSame(copy, model([...first, ...second]));
      },
    ),
  );
});

Deno.test("owner map - grows to 100k users, shrinks through tombstones and keeps every entry", () => {
  const table = new OwnerMap();
  for (let i = 0; i < 100_000; i++) table.add(`user-${i}`, `n${i % 4}`);
  assert.equal(table.size, 100_000);
  for (let i = 0; i < 100_000; i += 2) {
    assert.equal(table.remove(`user-${i}`, `n${i % 4}`), true);
  }
  // Removed slots are reused or swept, not piled up: churn the same count again.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 100_000; i += 2) table.add(`again-${i}`, "n9");
    for (let i = 0; i < 100_000; i += 2) table.remove(`again-${i}`, "n9");
  }
  assert.equal(table.size, 50_000);
  assert.equal(table.pairs, 50_000);
  for (let i = 0; i < 100_000; i++) {
    assert.deepEqual(table.ownersOf(`user-${i}`), i % 2 ? [`n${i % 4}`] : []);
  }
});

Deno.test("owner map - a user on several nodes keeps them in order; reset lists every pair", () => {
  const reset = resetOfPairs([], [
    { user: "a", nodeId: "n2" },
    { user: "a", nodeId: "n1" },
    { user: "b", nodeId: "n1" },
    { user: "a", nodeId: "n2" },
  ]);
  assert.deepEqual(reset.owners.get("a"), ["n2", "n1"]);
  assert.equal(reset.owners.get("b"), "n1");
  assert.equal(reset.owners.get("c"), undefined);
  assert.deepEqual(reset.users, [
    { user: "a", nodeId: "n2" },
    { user: "a", nodeId: "n1" },
    { user: "b", nodeId: "n1" },
  ]);
  reset.owners.remove("a", "n2");
  assert.equal(reset.owners.get("a"), "n1");
});
