import assert from "node:assert/strict";
import { SendBudget } from "../../gateway/send_budget.ts";

function session(name: string, bufferedBytes: number, closedLog: string[]) {
  return {
    bufferedBytes,
    closed: false,
    close(reason: string) {
      closedLog.push(`${name}:${reason}`);
      this.bufferedBytes = 0;
    },
  };
}

Deno.test("send budget - under the budget nobody is closed", () => {
  const closed: string[] = [];
  const sessions = [session("a", 400, closed), session("b", 500, closed)];
  assert.equal(new SendBudget(1000, () => sessions).enforce(), 0);
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
  assert.equal(new SendBudget(1000, () => sessions).enforce(), 1);
  assert.deepEqual(closed, ["biggest:nodeSendBudget"]);
  sessions[1]!.bufferedBytes = 0;
  sessions.push(session("x", 500, closed), session("y", 450, closed));
  // 100+300+200+500+450 = 1550: shed 500 (1050), 450 (600).
  assert.equal(new SendBudget(1000, () => sessions).enforce(), 2);
  assert.deepEqual(closed.slice(1), ["x:nodeSendBudget", "y:nodeSendBudget"]);
});
