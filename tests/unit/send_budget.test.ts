import assert from "node:assert/strict";
import { SendBudget } from "../../gateway/send_budget.ts";

function session(name: string, bytes: number, closedLog: string[]) {
  return {
    bytes,
    /** What the session knows without reading its socket. */
    bound: bytes,
    reads: 0,
    closed: false,
    get bufferedBytes() {
      this.reads++;
      return this.bytes;
    },
    get bufferedBytesBound() {
      return this.bound;
    },
    close(reason: string) {
      closedLog.push(`${name}:${reason}`);
      this.closed = true;
      this.bytes = 0;
    },
  };
}

/** A budget watching `sessions`, as if each had just been written to. */
function budgetOver(budget: number, sessions: ReturnType<typeof session>[]) {
  const sendBudget = new SendBudget(budget);
  for (const s of sessions) sendBudget.touched(s);
  return sendBudget;
}

Deno.test("send budget - under the budget nobody is closed", () => {
  const closed: string[] = [];
  const sessions = [session("a", 400, closed), session("b", 500, closed)];
  assert.equal(budgetOver(1000, sessions).enforce(), 0);
  assert.deepEqual(closed, []);
});

Deno.test("send budget - over it, the slowest go first until under 90%", () => {
  const closed: string[] = [];
  const sessions = [
    session("small", 100, closed),
    session("biggest", 600, closed),
    session("idle", 0, closed),
    session("big", 300, closed),
    session("medium", 200, closed),
  ];
  // 1200 queued against 1000: shed 600 (→ 600 ≤ 900) and nothing more.
  const budget = budgetOver(1000, sessions);
  assert.equal(budget.enforce(), 1);
  assert.deepEqual(closed, ["biggest:nodeSendBudget"]);
  const x = session("x", 500, closed);
  const y = session("y", 450, closed);
  budget.touched(x);
  budget.touched(y);
  // 100+300+200+500+450 = 1550: shed 500 (1050), 450 (600).
  assert.equal(budget.enforce(), 2);
  assert.deepEqual(closed.slice(1), ["x:nodeSendBudget", "y:nodeSendBudget"]);
});

Deno.test("send budget - a session seen empty is not read again until written to", () => {
  const closed: string[] = [];
  const quiet = session("quiet", 0, closed);
  const busy = session("busy", 700, closed);
  const budget = budgetOver(1000, [quiet, busy]);
  assert.equal(budget.enforce(), 0);
  assert.equal(budget.watched, 1);
  const readsBefore = quiet.reads;
  budget.enforce();
  assert.equal(
    quiet.reads,
    readsBefore,
    "an empty, untouched session is left alone",
  );
  // Written to again: it counts at the next check.
  quiet.bytes = 600;
  budget.touched(quiet);
  assert.equal(budget.enforce(), 1);
  assert.deepEqual(closed, ["busy:nodeSendBudget"]);
  // A drained session leaves the watch.
  quiet.bytes = 0;
  budget.enforce();
  assert.equal(budget.watched, 0);
});

Deno.test("send budget - after a broadcast, sockets are read only when their bounds add up to more than the budget", () => {
  const closed: string[] = [];
  const a = session("a", 300, closed);
  const b = session("b", 400, closed);
  a.bound = 450;
  b.bound = 500;
  const budget = budgetOver(1000, [a, b]);
  assert.equal(budget.enforceIfBoundsOver(), 0);
  assert.deepEqual(
    [a.reads, b.reads],
    [0, 0],
    "950 of bounds cannot be over 1000",
  );
  assert.equal(budget.watched, 2, "nothing leaves the watch without a reading");
  // Bounds of 1,300: the sockets are read, and their 1,200 bytes are over.
  a.bytes = 700;
  a.bound = 800;
  b.bytes = 500;
  assert.equal(budget.enforceIfBoundsOver(), 1);
  assert.deepEqual(closed, ["a:nodeSendBudget"]);
  assert.ok(b.reads > 0);
});
