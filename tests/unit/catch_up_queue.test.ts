/**
 * CatchUpQueue: each session added gets one catch-up look after the delay,
 * in the order added, from one timer; a session deleted (closed) gets none
 * and is not held.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CatchUpQueue } from "../../gateway/catch_up_queue.ts";
import type { ChannelSession } from "../../gateway/channel_session.ts";
import { waitFor } from "../_support/until.ts";

/** Just what the queue calls of a session. */
function fakeSession(name: string, looked: string[]): ChannelSession {
  return {
    catchUp: () => {
      looked.push(name);
      return Promise.resolve();
    },
  } as unknown as ChannelSession;
}

Deno.test("catch-up queue - one look per session after the delay, in order; a deleted session gets none", async () => {
  const looked: string[] = [];
  const queue = new CatchUpQueue(150);
  const start = performance.now();
  const a = fakeSession("a", looked);
  const b = fakeSession("b", looked);
  const c = fakeSession("c", looked);
  queue.add(a);
  queue.add(b);
  queue.add(c);
  queue.delete(b);
  assert.equal(queue.size, 2);
  await waitFor(() => looked.length === 2, { what: "two looks" });
  assert.ok(performance.now() - start >= 140, "looked before the delay");
  assert.deepEqual(looked, ["a", "c"]);
  assert.equal(queue.size, 0);
});

Deno.test("catch-up queue - a session added later waits its own delay; deleting the last stops the timer", async () => {
  const looked: string[] = [];
  const queue = new CatchUpQueue(100);
  queue.add(fakeSession("first", looked));
  await waitFor(() => looked.length === 1, { what: "the first look" });
  const second = fakeSession("second", looked);
  const added = performance.now();
  queue.add(second);
  await waitFor(() => looked.length === 2, { what: "the second look" });
  assert.ok(performance.now() - added >= 90);
  // Nothing left pending: a deleted session leaves no timer behind (the
  // test's op sanitizer would fail on one).
  const gone = fakeSession("gone", looked);
  queue.add(gone);
  queue.delete(second);
  queue.delete(fakeSession("never added", looked));
  assert.equal(queue.size, 1);
  queue.delete(gone);
  assert.equal(queue.size, 0);
  assert.deepEqual(looked, ["first", "second"]);
});
