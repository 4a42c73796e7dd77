import assert from "node:assert/strict";
import { UnroutedUsers } from "../../gateway/unrouted_users.ts";
import { waitFor } from "../_support/until.ts";

function tracker(graceMs = 10_000) {
  const looks: string[] = [];
  const unrouted = new UnroutedUsers({
    intervalMs: 10,
    graceMs,
    catchUp: (user) => looks.push(user),
  });
  return { unrouted, looks };
}

Deno.test("unrouted users - polls history until a router routes the user here", async () => {
  const { unrouted, looks } = tracker();
  unrouted.add("alice", new Promise(() => {}));
  await waitFor(() => looks.length >= 3, { what: "three looks" });
  unrouted.routed("alice");
  const seen = looks.length;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(looks.length, seen);
  assert.equal(unrouted.size, 0);
});

Deno.test("unrouted users - polls on for the grace time after the registration lands, then stops", async () => {
  const { unrouted, looks } = tracker(60);
  let land!: () => void;
  unrouted.add("bob", new Promise<void>((resolve) => land = resolve));
  land();
  await waitFor(() => unrouted.size === 0, { what: "bob dropped" });
  assert.ok(looks.length >= 2, `${looks.length} looks`);
});

Deno.test("unrouted users - remove and clear stop every timer", () => {
  const { unrouted } = tracker();
  unrouted.add("a", new Promise(() => {}));
  unrouted.add("b", Promise.resolve());
  unrouted.remove("a");
  unrouted.clear();
  assert.equal(unrouted.size, 0);
});
